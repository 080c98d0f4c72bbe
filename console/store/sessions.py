"""The operator's calls on a session's life (开播 / 下播), in one transaction.

The domain decides whether the step is allowed (``sessions.change_status``). Ending a show
ends its 接龙 at that moment, as their deadline would (a formed one closes, an open one
fails and its entries are cancelled): no order can join them after the show, and their
events go in while the session is still live, so nothing is appended after it ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlite_utils

from console.domain.sessions import SessionStatus, change_status
from console.store import chains, facts, prompt_norms, repository
from console.store.repository import append_new
from console.store.schema import transaction

ENDED_BY = "session_ended"  # the ``by`` of the chain events a show's end writes


def set_status(
    db: sqlite_utils.Database, sid: str, wanted: SessionStatus, clock: Callable[[], float]
) -> tuple[dict[str, Any], int | None]:
    """The session after the call, and its last seq if the call appended events.

    Going live fixes the room-turn prompts' thresholds for the show (``prompt_norms``: read
    before the transaction, since a past show may need its summary folded first); ending a
    show keeps its summary for the next shows' norms (after it, from the closed log)."""
    appended = None
    going_live = (
        wanted is SessionStatus.LIVE
        and repository.get_session(db, sid)["status"] == SessionStatus.SCHEDULED.value
    )  # a repeated call to go live asks nothing of the history
    settings = prompt_norms.settings_for(db, sid) if going_live else None
    changed = False
    with transaction(db) as conn:
        # A rehearsal's: its script's time. To the log's millisecond, so the show's last
        # events are never stamped after its end.
        now = round(facts.session_now(conn, sid, clock()), repository.TS_DECIMALS)
        changed = change_status(repository.session_status(conn, sid), wanted)
        if changed:
            if wanted is SessionStatus.ENDED:
                events = []
                for chain in facts.active_chains(conn, sid):
                    events += chains.end(conn, chain, ENDED_BY, now)[1]
                if events:  # while the show is still live
                    appended = append_new(conn, sid, events).last_seq
            repository.write_status(conn, sid, wanted, now)
            if settings is not None:
                prompt_norms.fix_settings(conn, sid, settings)
    if changed and wanted is SessionStatus.ENDED:
        prompt_norms.keep_summary(db, sid)
    return repository.get_session(db, sid), appended
