"""Sessions on their own clock (彩排, ``console.domain.session_clock``) in the store.

A show's platform events go straight into its log, and its 接龙 chains end when the wall
clock reaches their deadlines (``schedule.run_chain_deadlines``). A rehearsal's clock moves
only with its events: a chain ends at its deadline *between* the events around it, stamped
with the deadline, so its replay reads like the show it rehearses. Ending a rehearsal ends
its last chains at their deadlines too (no wall clock will).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlite_utils

from console.domain.chains import Chain
from console.domain.session_clock import SessionClock, events_before
from console.domain.sessions import SessionStatus
from console.store import chains, facts
from console.store.repository import (
    AppendResult,
    append_in,
    append_new,
    get_session,
    keep_originals,
    set_status_in,
)
from console.store.schema import transaction


def ingest(
    db: sqlite_utils.Database,
    sid: str,
    events: Sequence[Mapping[str, Any]],
    originals: Mapping[str, Mapping[str, Any]],
) -> AppendResult:
    """Platform events into the session's log, in one transaction (see the module)."""
    with transaction(db) as conn:
        if facts.session_clock(conn, sid) is SessionClock.REHEARSAL:
            result = _append_on_script_time(conn, sid, events)
        else:
            result = append_in(conn, sid, events)
        keep_originals(conn, sid, originals)
        return result


def _append_on_script_time(
    conn: sqlite3.Connection, sid: str, events: Sequence[Mapping[str, Any]]
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
            part = append_in(conn, sid, pending[:before])
            accepted, duplicates = accepted + part.accepted, duplicates + part.duplicates
            pending = pending[before:]
        _end_at_deadline(conn, sid, chain)
    last = append_in(conn, sid, pending)
    return AppendResult(accepted + last.accepted, duplicates + last.duplicates, last.last_seq)


def _end_at_deadline(conn: sqlite3.Connection, sid: str, chain: Chain) -> int:
    _, ended = chains.end(conn, chain, "deadline", chain.deadline)
    return append_new(conn, sid, ended).last_seq


def set_status(
    db: sqlite_utils.Database, sid: str, status: str, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """An operator's start or end of a session, at the session's "now"; a rehearsal that
    ends has its chains still taking entries ended at their deadlines."""
    with transaction(db) as conn:
        now = facts.session_now(conn, sid, clock())
        set_status_in(conn, sid, status, now)
        rehearsal = facts.session_clock(conn, sid) is SessionClock.REHEARSAL
        if rehearsal and status == SessionStatus.ENDED:
            while (chain := facts.next_chain_due(conn, sid)) is not None:
                _end_at_deadline(conn, sid, chain)
    return get_session(db, sid)
