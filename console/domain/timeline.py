"""The broadcast over time (时间轴): the room sampled at a fixed step, for charts and replay."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.domain.events import Event, EventType
from console.domain.room import RoomState
from console.domain.segments import ALL_SEGMENTS, Segment

MARKER_TYPES = frozenset(
    {
        EventType.PRODUCT_PRESENTED,
        EventType.CHAIN_OPENED,
        EventType.CHAIN_FORMED,
        EventType.CHAIN_FAILED,
        EventType.NOTICE_POSTED,
    }
)


@dataclass(frozen=True)
class Sample:
    """The room at ``minute`` (from the first event): as the reducer had it then."""

    minute: float
    seq: int
    online: int
    online_by_segment: dict[Segment, int]
    orders: int
    gmv: int  # fen
    chain_entries: int


@dataclass(frozen=True)
class Marker:
    minute: float
    seq: int
    kind: EventType
    label: str


class TimelineSampler:
    """Samples a room as it is folded: call ``before`` each event, ``after`` it, then
    ``finish``. Lets one fold (the replay's) also produce the timeline."""

    def __init__(self, step_s: float) -> None:
        self.step_s = step_s
        self.samples: list[Sample] = []
        self.markers: list[Marker] = []
        self._start: float | None = None
        self._next_at = 0.0

    def before(self, state: RoomState, event: Event) -> None:
        if self._start is None:
            self._start = event.ts
        elapsed = event.ts - self._start
        while elapsed >= self._next_at + self.step_s:
            self._next_at += self.step_s
            self.samples.append(_sample(state, self._next_at))

    def after(self, state: RoomState, event: Event) -> None:
        if event.type in MARKER_TYPES and self._start is not None:
            minute = (event.ts - self._start) / 60
            self.markers.append(Marker(minute, event.seq, event.type, _label(state, event)))

    def finish(self, state: RoomState) -> tuple[list[Sample], list[Marker]]:
        if self._start is not None and state.last_ts is not None:
            self.samples.append(_sample(state, state.last_ts - self._start))
        return self.samples, self.markers


def sample_timeline(
    events: Iterable[Event], step_s: float = 60.0
) -> tuple[list[Sample], list[Marker]]:
    """Samples every ``step_s`` seconds of event time (and at the end), plus markers for
    presentations, 接龙 milestones and notices."""
    state = RoomState()
    sampler = TimelineSampler(step_s)
    for event in events:
        sampler.before(state, event)
        state.apply(event)
        sampler.after(state, event)
    return sampler.finish(state)


def _sample(state: RoomState, elapsed_s: float) -> Sample:
    return Sample(
        minute=elapsed_s / 60,
        seq=state.seq,
        online=state.online,
        online_by_segment={s: state.online_by_segment[s] for s in ALL_SEGMENTS},
        orders=state.orders,
        gmv=state.gmv,
        chain_entries=sum(c.entries for c in state.chains.values()),
    )


def _label(state: RoomState, event: Event) -> str:
    data = event.data
    if event.type is EventType.PRODUCT_PRESENTED:
        product = str(data.get("product_id") or "")
        return f"讲解 {state.product_names.get(product, product)}" if product else "停止讲解"
    if event.type is EventType.NOTICE_POSTED:
        return f"公告 {data.get('text', '')}"
    chain = state.chains.get(str(data.get("chain_id", "")))
    product = state.product_names.get(chain.product_id, chain.product_id) if chain else ""
    return {
        EventType.CHAIN_OPENED: f"开接龙 {product}",
        EventType.CHAIN_FORMED: f"成团 {product}",
        EventType.CHAIN_FAILED: f"未成团 {product}",
    }[event.type]
