"""The overlay's content (直播贴片, ``console.domain.overlay``) from the store's facts."""

from __future__ import annotations

from typing import Any

from console.domain.catalog import cards_for
from console.domain.overlay import MAX_BUYERS_SHOWN, overlay_view
from console.store.catalog import session_catalog
from console.store.replay_index import ReplayIndexes


def overlay_state(db: Any, indexes: ReplayIndexes, sid: str) -> dict[str, Any]:
    """What the overlay shows now: the room as folded, the lineup at the standard offer
    (as an anonymous viewer sees it), and the newest buyers' masked names."""
    room = indexes.room(db, sid)
    lineup, offers = session_catalog(db, sid)
    standard = [card.to_dict() for card in cards_for(lineup, offers, None)]
    buyers = [
        str(row[0] or "")
        for row in db.execute(
            "SELECT nick FROM events WHERE session_id = ? AND type = 'order_placed' "
            "ORDER BY seq DESC LIMIT ?",
            [sid, MAX_BUYERS_SHOWN],
        )
    ]
    return overlay_view(room, standard, {p.id: p.name for p in lineup}, buyers)
