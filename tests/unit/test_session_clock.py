"""Whose clock a session runs on (``console.domain.session_clock``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.domain.session_clock import SessionClock, events_before, parse_clock, session_now

times = st.floats(min_value=0, max_value=4e9, allow_nan=False)


@given(times, st.none() | times, st.none() | times)
def test_a_show_runs_on_the_wall(wall: float, newest: float | None, started: float | None) -> None:
    assert session_now(SessionClock.WALL, wall, newest, started) == wall


@given(times, st.none() | times, st.none() | times)
def test_a_rehearsal_runs_on_its_newest_event(
    wall: float, newest: float | None, started: float | None
) -> None:
    now = session_now(SessionClock.REHEARSAL, wall, newest, started)
    expected = newest if newest is not None else started if started is not None else wall
    assert now == expected


def test_an_unknown_clock_is_the_wall() -> None:
    assert parse_clock("rehearsal") is SessionClock.REHEARSAL
    assert parse_clock(None) is SessionClock.WALL
    assert parse_clock("sundial") is SessionClock.WALL


@given(st.lists(times, max_size=30).map(sorted), times)
def test_a_chain_ends_after_the_events_before_its_deadline(
    stamps: list[float], deadline: float
) -> None:
    cut = events_before(stamps, deadline)
    assert all(ts < deadline for ts in stamps[:cut])
    assert cut == len(stamps) or stamps[cut] >= deadline
