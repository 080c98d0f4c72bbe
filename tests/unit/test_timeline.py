"""The timeline: adaptive sampling equals fixed sampling; snapshots are independent."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.room import RoomState, fold
from console.domain.segments import Segment
from console.domain.timeline import TimelineSampler, sample_timeline

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


@settings(max_examples=60)
@given(_specs, st.integers(2, 12))
def test_an_adaptive_timeline_equals_a_fixed_one_at_its_final_step(
    specs: list[Any], max_samples: int
) -> None:
    events = build(specs)
    adaptive = TimelineSampler(0.5, max_samples=max_samples)
    state = RoomState()
    for event in events:
        adaptive.before(state, event)
        state.apply(event)
        adaptive.after(state, event)
    samples, markers = adaptive.finish(state)
    assert len(samples) <= max_samples + 1  # the end sample comes on top
    fixed, fixed_markers = sample_timeline(events, step_s=adaptive.step_s)
    assert samples == fixed
    assert markers == fixed_markers
    for sample in samples[:-1]:
        assert sample.online == fold(events[: sample.seq]).online
    assert adaptive.finish(state) == (samples, markers)  # finishing twice changes nothing
