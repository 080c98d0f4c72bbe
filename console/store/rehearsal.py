"""Sessions on their own clock (彩排, ``console.domain.session_clock``) in the store.

A show's platform events go straight into its log, and its 接龙 chains end when the wall
clock reaches their deadlines (``schedule.run_chain_deadlines``). A rehearsal's clock moves
only with its events: a chain ends at its deadline *between* the events around it, stamped
with the deadline, so its replay reads like the show it rehearses. (Ending any show ends
its last chains, ``sessions.set_status``: for a rehearsal at its script's end.)
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlite_utils

from console.domain.chains import Chain
from console.domain.session_clock import SessionClock, events_before
from console.store import chains, facts
from console.store.platform import Reactor
from console.store.repository import AppendResult, LiveAppend, append_events, append_new


def ingest(
    db: sqlite_utils.Database,
    sid: str,
    events: Sequence[Mapping[str, Any]],
    originals: Mapping[str, Mapping[str, Any]],
    clock: Callable[[], float] = time.time,
) -> AppendResult:
    """Platform events into the session's log, in one transaction (see the module; a
    session that is not live refuses them, ``repository.append_events``), with the store's
    reactions to them (``platform.Reactor``: bound viewers, 接龙 by comment, platform orders)."""
    append = Reactor(originals, clock).append

    def append_live(
        conn: sqlite3.Connection, sid: str, events: Sequence[Mapping[str, Any]]
    ) -> AppendResult:
        if facts.session_clock(conn, sid) is SessionClock.REHEARSAL:
            return _append_on_script_time(conn, sid, events, append)
        return append(conn, sid, events)

    return append_events(db, sid, events, originals, append_live=append_live)


def _append_on_script_time(
    conn: sqlite3.Connection, sid: str, events: Sequence[Mapping[str, Any]], append: LiveAppend
) -> AppendResult:
    accepted = duplicates = 0
    pending = list(events)
    while True:
        chain = facts.next_chain_due(conn, sid)
        if chain is None:
            break
        before = events_before([float(e["ts"]) for e in pending], chain.deadline)
        if before == len(pending):
            break
        if before:
            part = append(conn, sid, pending[:before])
            accepted, duplicates = accepted + part.accepted, duplicates + part.duplicates
            pending = pending[before:]
        _end_at_deadline(conn, sid, chain)
    last = append(conn, sid, pending)
    return AppendResult(accepted + last.accepted, duplicates + last.duplicates, last.last_seq)


def _end_at_deadline(conn: sqlite3.Connection, sid: str, chain: Chain) -> int:
    _, ended = chains.end(conn, chain, "deadline", chain.deadline)
    return append_new(conn, sid, ended).last_seq
