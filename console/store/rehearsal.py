"""Sessions on their own clock (彩排, ``console.domain.session_clock``) in the store.

A show's platform events go straight into its log, and its 接龙 chains end when the wall
clock reaches their deadlines, its 秒杀 when their time is over (``schedule.
run_chain_deadlines``). A rehearsal's clock moves only with its events: a chain ends at its
deadline, a flash sale at its end (``flash.due_sales``), *between* the events around it,
stamped with that time, so its replay reads like the show it rehearses. (Ending any show ends
its last chains, ``sessions.set_status``: for a rehearsal at its script's end.)
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlite_utils

from console.domain import flash
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
    """The batch in order, with each timer the script's clock passes on the way (a chain's
    deadline, a 秒杀's end) run between the events around it, stamped with its own time.
    Timers are looked at again after each part: an order in it may have sold a sale out."""
    accepted = duplicates = 0
    pending = list(events)
    while True:
        due = _next_timer(conn, sid)
        if due is None:
            break
        at, run_timer = due
        before = events_before([float(e["ts"]) for e in pending], at)
        if before == len(pending):
            break
        if before:
            part = append(conn, sid, pending[:before])
            accepted, duplicates = accepted + part.accepted, duplicates + part.duplicates
            pending = pending[before:]
            continue
        run_timer(conn, sid)
    last = append(conn, sid, pending)
    return AppendResult(accepted + last.accepted, duplicates + last.duplicates, last.last_seq)


Timer = Callable[[sqlite3.Connection, str], int]


def _next_timer(conn: sqlite3.Connection, sid: str) -> tuple[float, Timer] | None:
    """The session's next timer on its script's clock: when it is due, and what it does."""
    timers: list[tuple[float, int, Timer]] = []
    chain = facts.next_chain_due(conn, sid)
    if chain is not None:
        timers.append((chain.deadline, 0, lambda c, s: _end_at_deadline(c, s, chain)))
    sale = flash.next_due(*facts.flash_sales_of(conn, sid))
    if sale is not None:
        timers.append((sale.ends_at, 1, lambda c, s: _end_sale_on_time(c, s, sale)))
    if not timers:
        return None
    at, _, timer = min(timers, key=lambda t: t[:2])
    return at, timer


def _end_at_deadline(conn: sqlite3.Connection, sid: str, chain: Chain) -> int:
    _, ended = chains.end(conn, chain, "deadline", chain.deadline)
    return append_new(conn, sid, ended).last_seq


def _end_sale_on_time(conn: sqlite3.Connection, sid: str, sale: flash.FlashSale) -> int:
    """``flash_sale_ended`` (time) for the sales due at ``sale``'s end (``flash.due_sales``,
    so each ends once), each stamped with its own end."""
    started, ended = facts.flash_sales_of(conn, sid)
    due = flash.due_sales(started, ended, sale.ends_at)
    if not due:  # not reached: the sale is the next one due (``_next_timer``)
        return 0
    return append_new(conn, sid, [flash.ended_event(s, "time", s.ends_at) for s in due]).last_seq
