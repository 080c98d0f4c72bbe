"""The broadcast over time (时间轴): the room sampled at a fixed step, for charts and replay."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from console.domain.aids import AidsRecord
from console.domain.events import Event, EventType
from console.domain.flash import END_REASONS
from console.domain.room import RoomState
from console.domain.segments import ALL_SEGMENTS, Segment

MARKER_TYPES = frozenset(
    {
        EventType.PRODUCT_PRESENTED,
        EventType.CHAIN_OPENED,
        EventType.CHAIN_FORMED,
        EventType.CHAIN_FAILED,
        EventType.NOTICE_POSTED,
        EventType.FLASH_SALE_STARTED,
        EventType.FLASH_SALE_ENDED,
        EventType.DRAW_DRAWN,
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
    ``finish``. Lets one fold (the replay's) also produce the timeline.

    With ``max_samples`` the step adapts to a broadcast of any length: when the samples
    outgrow it, every other one is dropped and the step doubles, so the timeline stays
    between half and all of ``max_samples`` points, each still the room at its exact time.
    """

    def __init__(self, step_s: float, max_samples: int | None = None) -> None:
        self.step_s = step_s
        self.max_samples = max_samples
        self.samples: list[Sample] = []
        self.markers: list[Marker] = []
        self.aids = AidsRecord()  # its 抽奖, 秒杀 and prompts (``console.domain.aids``)
        self._start: float | None = None
        self._next_at = 0.0

    def before(self, state: RoomState, event: Event) -> None:
        if self._start is None:
            self._start = event.ts
        elapsed = event.ts - self._start
        while elapsed >= self._next_at + self.step_s:
            self._next_at += self.step_s
            self.samples.append(_sample(state, self._next_at))
            if self.max_samples is not None and len(self.samples) > self.max_samples:
                # Sample k (from 1) is at k steps: keeping the even ones keeps k * 2 steps.
                self.samples = self.samples[1::2]
                self.step_s *= 2
                self._next_at = len(self.samples) * self.step_s

    def after(self, state: RoomState, event: Event) -> None:
        if self._start is None:
            return
        minute = (event.ts - self._start) / 60
        if event.type in MARKER_TYPES:
            self.markers.append(Marker(minute, event.seq, event.type, _label(state, event)))
        self.aids.after(state, event, minute)

    def finish(self, state: RoomState) -> tuple[list[Sample], list[Marker]]:
        """The samples so far plus one at the last event, and the markers (copies: the
        sampler may go on)."""
        samples = list(self.samples)
        if self._start is not None and state.last_ts is not None:
            samples.append(_sample(state, state.last_ts - self._start))
        return samples, list(self.markers)


def sample_timeline(
    events: Iterable[Event], step_s: float = 60.0
) -> tuple[list[Sample], list[Marker]]:
    """Samples every ``step_s`` seconds of event time (and at the end), plus markers for
    presentations, 接龙 milestones, notices, 秒杀 and 抽奖."""
    state = RoomState()
    sampler = TimelineSampler(step_s)
    for event in events:
        sampler.before(state, event)
        state.apply(event)
        sampler.after(state, event)
    return sampler.finish(state)


@dataclass(frozen=True)
class Timeline:
    """A whole session over time, as the store's replay index keeps it."""

    last_seq: int
    first_ts: float | None
    last_ts: float | None
    step_s: float
    samples: list[Sample]
    markers: list[Marker]
    aids: AidsRecord = field(default_factory=AidsRecord)

    def to_json(self) -> dict[str, Any]:
        return {
            "last_seq": self.last_seq,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "step_s": self.step_s,
            "samples": [sample_to_json(s) for s in self.samples],
            "markers": [marker_to_json(m) for m in self.markers],
            "aids": self.aids.to_json(),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Timeline:
        return cls(
            last_seq=int(value["last_seq"]),
            first_ts=value["first_ts"],
            last_ts=value["last_ts"],
            step_s=float(value["step_s"]),
            samples=[sample_from_json(s) for s in value["samples"]],
            markers=[marker_from_json(m) for m in value["markers"]],
            aids=AidsRecord.from_json(value.get("aids") or {}),
        )


def sample_to_json(sample: Sample) -> dict[str, Any]:
    return {
        "minute": sample.minute,
        "seq": sample.seq,
        "online": sample.online,
        "online_by_segment": {s.value: n for s, n in sample.online_by_segment.items()},
        "orders": sample.orders,
        "gmv": sample.gmv,
        "chain_entries": sample.chain_entries,
    }


def sample_from_json(value: dict[str, Any]) -> Sample:
    return Sample(
        minute=float(value["minute"]),
        seq=int(value["seq"]),
        online=int(value["online"]),
        online_by_segment={Segment(s): int(n) for s, n in value["online_by_segment"].items()},
        orders=int(value["orders"]),
        gmv=int(value["gmv"]),
        chain_entries=int(value["chain_entries"]),
    )


def marker_to_json(marker: Marker) -> dict[str, Any]:
    return {
        "minute": marker.minute,
        "seq": marker.seq,
        "kind": marker.kind.value,
        "label": marker.label,
    }


def marker_from_json(value: dict[str, Any]) -> Marker:
    return Marker(
        float(value["minute"]), int(value["seq"]), EventType(value["kind"]), str(value["label"])
    )


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
    if event.type is EventType.DRAW_DRAWN:
        return f"抽奖 {data.get('prize', '')}"
    if event.type in (EventType.FLASH_SALE_STARTED, EventType.FLASH_SALE_ENDED):
        product = str(data.get("product_id") or "")
        name = state.product_names.get(product, product)
        if event.type is EventType.FLASH_SALE_STARTED:
            return f"秒杀 {name}"
        return f"秒杀结束 {name} · {END_REASONS.get(str(data.get('reason')), '')}"
    chain = state.chains.get(str(data.get("chain_id", "")))
    product = state.product_names.get(chain.product_id, chain.product_id) if chain else ""
    return {
        EventType.CHAIN_OPENED: f"开接龙 {product}",
        EventType.CHAIN_FORMED: f"成团 {product}",
        EventType.CHAIN_FAILED: f"未成团 {product}",
    }[event.type]
