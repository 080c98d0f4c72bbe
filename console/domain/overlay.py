"""What a stream overlay shows the audience (直播贴片, an OBS browser source).

Public by nature: the product being presented at its **standard** price (never a circle's
private price: a product whose standard offer is hidden shows without a price), the 接龙
on screen with its threshold and the 成团 moment, and the newest buyers by masked name
only. Pure: it reads the room as the reducer folded it (``RoomState.to_json``), the
standard cards and the masked names the store hands it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from console.domain.chains import ACTIVE_CHAIN_STATUSES, ChainStatus
from console.domain.privacy import mask_name

MAX_BUYERS_SHOWN = 5
_ACTIVE = {status.value for status in ACTIVE_CHAIN_STATUSES}


def overlay_view(
    room: Mapping[str, Any],
    standard_cards: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    buyers: Sequence[str],
) -> dict[str, Any]:
    """The overlay's content as of the room's ``seq``.

    ``standard_cards``: the lineup as an anonymous viewer sees it (``Card.to_dict`` at the
    standard offer); ``names``: product id -> name, for a product shown without a price;
    ``buyers``: the newest buyers' display names, newest first (masked again here: the
    overlay never trusts a name to be masked already)."""
    cards = {str(card["product_id"]): card for card in standard_cards}
    presenting = room.get("presenting")
    product = None
    if presenting:
        card = cards.get(str(presenting))
        product = {
            "id": str(presenting),
            "name": str(card["name"]) if card else names.get(str(presenting), ""),
            "emoji": str(card["emoji"]) if card else "",
            "price": card["price"] if card else None,
        }
    return {
        "seq": int(room.get("seq", 0)),
        "product": product,
        "chain": _chain_on_screen(room.get("chains") or {}, presenting, cards, names),
        "buyers": [mask_name(name) for name in buyers[:MAX_BUYERS_SHOWN] if name.strip()],
    }


def _chain_on_screen(
    chains: Mapping[str, Mapping[str, Any]],
    presenting: object,
    cards: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str],
) -> dict[str, Any] | None:
    """The 接龙 taking entries on the presented product, else the newest one taking
    entries; None when none is."""
    active = [c for c in chains.values() if c.get("status") in _ACTIVE]
    if not active:
        return None
    on_product = [c for c in active if c.get("product_id") == presenting]
    chain = (on_product or active)[-1]
    product_id = str(chain["product_id"])
    card = cards.get(product_id)
    return {
        "id": str(chain["id"]),
        "product_name": str(card["name"]) if card else names.get(product_id, ""),
        "entries": int(chain["entries"]),
        "threshold": int(chain["threshold"]),
        "cap": int(chain["cap"]),
        "missing": int(chain["missing"]),
        "reached": chain["status"] == ChainStatus.FORMED.value,  # 成团
        "deadline": float(chain["deadline"]),
    }
