"""The room reducer, on hand-made logs and on generated ones."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.room import RoomState, SequenceGap, fold
from console.domain.segments import Segment


def log(*specs: tuple[str, str | None, Segment | None]) -> list[Event]:
    return [
        Event(
            seq=n,
            id=f"e{n}",
            type=EventType(kind),
            ts=1000.0 + n,
            member_id=member,
            segment=segment,
        )
        for n, (kind, member, segment) in enumerate(specs, start=1)
    ]


def test_a_member_joining_twice_is_online_once() -> None:
    state = fold(log(("viewer_joined", "a", Segment.S1), ("viewer_joined", "a", Segment.S1)))
    assert state.online == 1
    assert state.online_by_segment[Segment.S1] == 1
    assert len(state.watched_members) == 1


def test_leaving_without_joining_changes_nothing() -> None:
    state = fold(log(("viewer_left", "ghost", Segment.S2), ("viewer_joined", "a", Segment.S2)))
    assert state.online == 1
    assert state.online_by_segment[Segment.S2] == 1
    assert state.totals[EventType.VIEWER_LEFT] == 1


def test_peak_online_survives_departures() -> None:
    state = fold(
        log(
            ("viewer_joined", "a", Segment.S1),
            ("viewer_joined", "b", Segment.S6),
            ("viewer_left", "a", Segment.S1),
            ("viewer_left", "b", Segment.S6),
            ("viewer_joined", "c", None),
        )
    )
    assert state.online == 1
    assert state.online_guests == 1
    assert state.peak_online == 2
    assert state.peak_ts == 1002.0
    assert sum(state.online_by_segment.values()) == 0


def test_rejoining_under_a_new_segment_moves_the_viewer() -> None:
    state = fold(log(("viewer_joined", "a", Segment.S6), ("viewer_joined", "a", Segment.S2)))
    assert state.online_by_segment[Segment.S6] == 0
    assert state.online_by_segment[Segment.S2] == 1
    assert state.watched_by_segment[Segment.S6] == 1  # first circle seen in the room


def test_likes_sum_their_counts() -> None:
    events = [
        Event(1, "a", EventType.LIKE, 1.0, "m", Segment.S1, data={"count": 5}),
        Event(2, "b", EventType.LIKE, 2.0, "m", Segment.S1),
    ]
    state = fold(events)
    assert state.likes == 6
    assert state.totals[EventType.LIKE] == 2


def test_an_event_already_folded_is_ignored_and_a_gap_raises() -> None:
    events = log(("viewer_joined", "a", Segment.S1), ("viewer_joined", "b", Segment.S1))
    state = fold(events)
    assert state.apply(events[0]) is False
    assert state.online == 2
    skipped = Event(seq=4, id="x", type=EventType.COMMENT, ts=1.0, member_id="a")
    with pytest.raises(SequenceGap) as raised:
        state.apply(skipped)
    assert (raised.value.expected, raised.value.got) == (3, 4)
    assert state.seq == 2


def test_state_json_names_every_segment() -> None:
    shape = fold(log(("viewer_joined", "a", Segment.S3))).to_dict()
    assert shape["online"] == 1
    assert shape["online_by_segment"] == {"S1": 0, "S2": 0, "S3": 1, "S4": 0, "S5": 0, "S6": 0}
    assert shape["seq"] == 1


# -- generated logs ------------------------------------------------------------------------

members = st.sampled_from([f"m{i}" for i in range(8)])
segments = st.sampled_from([*Segment, None])
kinds = st.sampled_from(list(EventType))
specs = st.lists(st.tuples(kinds, members, segments), max_size=120)


def build(spec: list[tuple[EventType, str, Segment | None]]) -> list[Event]:
    return [
        Event(
            seq=n,
            id=f"e{n}",
            type=kind,
            ts=float(n),
            member_id=member,
            segment=segment,
            data={"count": 2} if kind is EventType.LIKE else {},
        )
        for n, (kind, member, segment) in enumerate(spec, start=1)
    ]


@settings(max_examples=300)
@given(spec=specs, cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=6))
def test_folding_in_batches_equals_folding_at_once(
    spec: list[tuple[EventType, str, Segment | None]], cuts: list[int]
) -> None:
    events = build(spec)
    whole = fold(events)
    bounds = sorted({0, len(events), *(c for c in cuts if c <= len(events))})
    state = RoomState()
    for start, end in itertools.pairwise(bounds):
        state = fold(events[start:end], state)
    assert state == whole


@settings(max_examples=300)
@given(spec=specs)
def test_online_matches_a_naive_replay(spec: list[tuple[EventType, str, Segment | None]]) -> None:
    events = build(spec)
    state = fold(events)
    # Oracle: a member is online iff their last viewer event is a join; counted under that
    # join's segment.
    last_viewer_event: dict[str, Event] = {}
    for e in events:
        if e.type in (EventType.VIEWER_JOINED, EventType.VIEWER_LEFT) and e.member_id:
            last_viewer_event[e.member_id] = e
    online = {
        m: e.segment for m, e in last_viewer_event.items() if e.type is EventType.VIEWER_JOINED
    }
    assert state.online == len(online)
    for segment in Segment:
        assert state.online_by_segment[segment] == sum(1 for s in online.values() if s is segment)
    assert state.online_guests == sum(1 for s in online.values() if s is None)
    assert state.peak_online >= state.online
    assert all(n >= 0 for n in state.online_by_segment.values())
    assert sum(state.totals.values()) == len(events) == state.seq


@given(spec=specs)
def test_refolding_the_same_log_changes_nothing(
    spec: list[tuple[EventType, str, Segment | None]],
) -> None:
    events = build(spec)
    state = fold(events)
    again = fold(events, state)
    assert again == state
