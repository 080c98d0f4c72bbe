"""Replay: any moment equals folding the log up to it; snapshots are independent."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.replay import Replay
from console.domain.room import RoomState, fold
from console.domain.segments import Segment

_kinds = st.sampled_from(
    [
        EventType.VIEWER_JOINED,
        EventType.VIEWER_LEFT,
        EventType.COMMENT,
        EventType.LIKE,
        EventType.ORDER_PLACED,
        EventType.SHOUTOUT_ACKNOWLEDGED,
    ]
)
_specs = st.lists(
    st.tuples(_kinds, st.integers(0, 8), st.sampled_from([*Segment, None]), st.floats(0, 20)),
    max_size=120,
)


def build(specs: list[Any]) -> list[Event]:
    events = []
    ts = 1000.0
    for n, (kind, who, segment, gap) in enumerate(specs, start=1):
        ts += gap
        data: dict[str, Any] = {}
        if kind is EventType.COMMENT:
            data = {"text": "能送到自提点吗？"}
        elif kind is EventType.ORDER_PLACED:
            data = {"order_id": f"o{n}", "product_id": "p", "amount": 990, "quantity": 1}
        elif kind is EventType.SHOUTOUT_ACKNOWLEDGED:
            data = {"shoutout_id": f"so-{who}-vip_arrival"}
        events.append(Event(n, f"e{n}", kind, ts, f"m{who}", segment, False, f"m{who}", data))
    return events


@settings(max_examples=80)
@given(_specs, st.integers(1, 30))
def test_any_moment_equals_folding_up_to_it(specs: list[Any], every: int) -> None:
    events = build(specs)
    replay = Replay(events, every=every)
    assert replay.last_seq == len(events)
    for seq in range(len(events) + 1):
        assert replay.state_at(seq).to_dict() == fold(events[:seq]).to_dict()


@settings(max_examples=40)
@given(_specs)
def test_a_snapshot_does_not_move_with_its_original(specs: list[Any]) -> None:
    events = build(specs)
    half = len(events) // 2
    state = RoomState()
    state.apply_all(events[:half])
    frozen = state.snapshot()
    before = frozen.to_dict()
    state.apply_all(events[half:])
    assert frozen.to_dict() == before


def test_scrubbing_by_time() -> None:
    events = build([(EventType.LIKE, 1, Segment.S1, 10.0)] * 5)  # at 1010, 1020, ... 1050
    replay = Replay(events, every=2)
    assert replay.seq_at_time(1000.0) == 0
    assert replay.seq_at_time(1025.0) == 2
    assert replay.seq_at_time(9999.0) == 5
    assert replay.checkpoints == 3  # before the first, after 2, after 4
