"""Whose clock a session runs on: the wall's, or (a rehearsal, 彩排) its own script's.

A show runs on the wall clock: an order placed at 20:31 is stamped 20:31. A rehearsal played
faster than real time (``main.py simulate --speed 0``) stamps its platform events with the
scenario's own times (minute 0 .. the scenario's end, from when it started), so its replay
reads like the show it rehearses. Everything the store decides inside such a session (orders,
commands, a chain reaching its deadline) then takes its "now" from the script: the time of
the newest event in the log. Pure: the caller passes the facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class SessionClock(StrEnum):
    WALL = "wall"
    REHEARSAL = "rehearsal"


def parse_clock(value: object) -> SessionClock:
    """A stored clock name; anything unknown is the wall clock (the safe default)."""
    try:
        return SessionClock(str(value))
    except ValueError:
        return SessionClock.WALL


def hands_out_work(clock: SessionClock) -> bool:
    """Whether a session's orders, buyers and chains may give real people work: a show's
    (wall clock) do; a rehearsal's never do (its buyers are the script's: no 团长 hands
    out its orders, nobody calls its buyers back)."""
    return clock is not SessionClock.REHEARSAL


def session_now(
    clock: SessionClock, wall_now: float, newest_event_ts: float | None, started: float | None
) -> float:
    """The session's "now": the wall's, or a rehearsal's script time (its newest event,
    else when it started, else the wall's)."""
    if clock is SessionClock.WALL:
        return wall_now
    if newest_event_ts is not None:
        return newest_event_ts
    return started if started is not None else wall_now


def events_before(timestamps: Sequence[float], deadline: float) -> int:
    """How many of a batch's events (in the order sent) come before a chain's deadline: the
    chain ends after them and before the rest (the first one stamped at or after it)."""
    for n, ts in enumerate(timestamps):
        if ts >= deadline:
            return n
    return len(timestamps)
