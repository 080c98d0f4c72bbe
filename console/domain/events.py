"""Room events: what happens in a broadcast, as stored in the per-session log (事件日志).

The envelope (id, type, ts, member_id, data) comes from the platform or the simulator; the
store adds ``seq`` and the enrichment fields (``segment``, ``koc``, ``nick``) at ingest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from console.domain.segments import Segment, parse_segment


class EventType(StrEnum):
    """The kinds of room event, snake_case on the wire."""

    VIEWER_JOINED = "viewer_joined"
    VIEWER_LEFT = "viewer_left"
    COMMENT = "comment"
    LIKE = "like"
    SHARE = "share"


PLATFORM_EVENT_TYPES: frozenset[EventType] = frozenset(EventType)
"""Types a platform webhook or the simulator may send through the ingest endpoint."""

MAX_EVENT_ID_LENGTH = 128
MAX_MEMBER_ID_LENGTH = 64


@dataclass(frozen=True, slots=True)
class DataField:
    """One allowed key of an event's ``data`` object."""

    kind: type
    required: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True, slots=True)
class EventRule:
    """What an event of one type must carry."""

    requires_member: bool
    fields: Mapping[str, DataField] = field(default_factory=dict)


EVENT_RULES: Mapping[EventType, EventRule] = {
    EventType.VIEWER_JOINED: EventRule(True, {"nick": DataField(str, max_length=64)}),
    EventType.VIEWER_LEFT: EventRule(True),
    EventType.COMMENT: EventRule(True, {"text": DataField(str, required=True, max_length=500)}),
    EventType.LIKE: EventRule(True, {"count": DataField(int, minimum=1, maximum=10_000)}),
    EventType.SHARE: EventRule(True, {"channel": DataField(str, max_length=32)}),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation failure: which field, and why (shown to the sender as a 4xx)."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def check_event(raw: Mapping[str, Any], where: str = "event") -> list[Problem]:
    """All problems of one incoming event envelope; empty when it may be stored."""
    problems: list[Problem] = []

    event_id = raw.get("id")
    if not isinstance(event_id, str) or not event_id:
        problems.append(Problem(f"{where}.id", "required, a non-empty string"))
    elif len(event_id) > MAX_EVENT_ID_LENGTH:
        problems.append(Problem(f"{where}.id", f"longer than {MAX_EVENT_ID_LENGTH} characters"))

    ts = raw.get("ts")
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts) or ts < 0:
        problems.append(Problem(f"{where}.ts", "required, epoch seconds as a non-negative number"))

    type_name = raw.get("type")
    try:
        event_type = EventType(type_name) if isinstance(type_name, str) else None
    except ValueError:
        event_type = None
    if event_type is None or event_type not in PLATFORM_EVENT_TYPES:
        known = ", ".join(sorted(t.value for t in PLATFORM_EVENT_TYPES))
        problems.append(
            Problem(f"{where}.type", f"unknown event type {type_name!r}; one of {known}")
        )
        return problems

    rule = EVENT_RULES[event_type]
    member_id = raw.get("member_id")
    if member_id is not None and (not isinstance(member_id, str) or not member_id):
        problems.append(Problem(f"{where}.member_id", "must be a non-empty string"))
    elif isinstance(member_id, str) and len(member_id) > MAX_MEMBER_ID_LENGTH:
        problems.append(
            Problem(f"{where}.member_id", f"longer than {MAX_MEMBER_ID_LENGTH} characters")
        )
    elif rule.requires_member and member_id is None:
        problems.append(Problem(f"{where}.member_id", f"required for {event_type.value}"))

    data = raw.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problems.append(Problem(f"{where}.data", "must be an object"))
        return problems
    for name, spec in rule.fields.items():
        problems.extend(_check_field(f"{where}.data.{name}", data.get(name), spec))
    return problems


def _check_field(where: str, value: object, spec: DataField) -> list[Problem]:
    if value is None:
        return [Problem(where, "required")] if spec.required else []
    if spec.kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        return [Problem(where, "must be an integer")]
    if spec.kind is str and not isinstance(value, str):
        return [Problem(where, "must be a string")]
    if isinstance(value, str):
        if spec.required and not value.strip():
            return [Problem(where, "must not be blank")]
        if spec.max_length is not None and len(value) > spec.max_length:
            return [Problem(where, f"longer than {spec.max_length} characters")]
    if isinstance(value, int):
        if spec.minimum is not None and value < spec.minimum:
            return [Problem(where, f"must be at least {spec.minimum}")]
        if spec.maximum is not None and value > spec.maximum:
            return [Problem(where, f"must be at most {spec.maximum}")]
    return []


@dataclass(frozen=True, slots=True)
class Event:
    """One stored event of a session's log, in ``seq`` order."""

    seq: int
    id: str
    type: EventType
    ts: float
    member_id: str | None = None
    segment: Segment | None = None
    koc: bool = False
    nick: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "id": self.id,
            "type": self.type.value,
            "ts": self.ts,
            "member_id": self.member_id,
            "segment": self.segment.value if self.segment else None,
            "koc": self.koc,
            "nick": self.nick,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        """Rebuild a stored event (as served by the store); raises ValueError if malformed."""
        try:
            return cls(
                seq=int(raw["seq"]),
                id=str(raw["id"]),
                type=EventType(raw["type"]),
                ts=float(raw["ts"]),
                member_id=raw.get("member_id"),
                segment=parse_segment(raw.get("segment")),
                koc=bool(raw.get("koc", False)),
                nick=str(raw.get("nick") or ""),
                data=dict(raw.get("data") or {}),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed stored event {raw!r}: {exc}") from exc
