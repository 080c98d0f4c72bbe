"""The timeline: adaptive sampling equals fixed sampling; snapshots are independent."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.room import RoomState, fold
from console.domain.timeline import TimelineSampler, sample_timeline
from tests.unit.test_snapshot import build, event_specs


@settings(max_examples=40)
@given(event_specs)
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
@given(event_specs, st.integers(2, 12))
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
