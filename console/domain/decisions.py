"""What every decision of the store returns: events to append, or a typed refusal.

The store loads the facts a rule needs, calls a pure decision (``orders``, ``chains``,
``commands``), and appends the events it returns in one transaction; a decision that says
no raises ``Refused``, which names the field and the reason, and nothing changes. The kind
of refusal, not its wording, tells the API which HTTP status to answer with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from console.domain.events import EventType


class RefusalKind(StrEnum):
    """Why a request is refused, in terms of the domain (the API maps each to a status)."""

    NOT_FOUND = "not_found"  # the thing it names does not exist
    NOT_OFFERED = "not_offered"  # it exists, but not for this member (e.g. another circle's)
    CONFLICT = "conflict"  # the request is fine, the state says no (sold out, chain full)
    INVALID = "invalid"  # the request itself is wrong (cap below threshold, self-referral)


@dataclass(frozen=True, slots=True)
class Refusal:
    kind: RefusalKind
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class Refused(Exception):
    """A decision said no: nothing is to change. ``refusal`` says which field and why."""

    def __init__(self, kind: RefusalKind, field: str, reason: str) -> None:
        self.refusal = Refusal(kind, field, reason)
        super().__init__(str(self.refusal))


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a decision wants appended; the store gives it an id and a ``seq``."""

    type: EventType
    ts: float
    data: dict[str, Any] = field(default_factory=dict)
    member_id: str | None = None

    def to_raw(self, event_id: str) -> dict[str, Any]:
        raw: dict[str, Any] = {"id": event_id, "type": self.type.value, "ts": self.ts}
        if self.member_id is not None:
            raw["member_id"] = self.member_id
        raw["data"] = self.data
        return raw
