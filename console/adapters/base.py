"""What every adapter shares: the raw message, the mapping interface, event builders."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from console.domain.events import MAX_EVENT_ID_LENGTH


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as the platform sent it (JSON-able ``payload``), with when it arrived.

    This is a capture file's line (``console.adapters.capture``): ``kind`` is the platform's
    own name for the message (``WebcastChatMessage``, ``channels_ec_order_pay``, ...)."""

    source: str
    kind: str
    payload: Any
    recv_ts: float

    def to_line(self) -> bytes:
        return orjson.dumps(
            {
                "recv_ts": self.recv_ts,
                "source": self.source,
                "kind": self.kind,
                "payload": self.payload,
            }
        )

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RawMessage:
        return cls(str(raw["source"]), str(raw["kind"]), raw["payload"], float(raw["recv_ts"]))


class Mapper(Protocol):
    """A platform's messages -> store events (``{id, type, ts, member_id, data}``).

    Pure: the same message always gives the same events with the same ids (the platform's
    own message or order id), which is what makes a resend, a restart and a replay harmless.
    """

    source: str

    def map(self, message: RawMessage) -> list[dict[str, Any]]: ...


def event_id(source: str, *parts: object) -> str:
    """``source:part:part`` from the platform's own ids; hashed if it would be too long."""
    text = ":".join([source, *(str(p) for p in parts)])
    if len(text) <= MAX_EVENT_ID_LENGTH:
        return text
    return f"{source}:h:{hashlib.sha256(text.encode()).hexdigest()}"


def content_id(source: str, kind: str, body: bytes) -> str:
    """An id for a message that carries none of its own: its content's hash."""
    return event_id(source, kind, hashlib.sha256(body).hexdigest()[:32])


def platform_user(platform: str, handle: str, nick: str | None = None) -> dict[str, str]:
    """``data.platform_user``: who did it on the platform (member_id stays null until the
    store knows the member behind the handle)."""
    user = {"platform": platform, "handle": handle[:64]}
    if nick:
        user["nick"] = nick[:64]
    return user


def store_event(
    eid: str,
    kind: str,
    ts: float,
    data: Mapping[str, Any],
    member_id: str | None = None,
) -> dict[str, Any]:
    return {"id": eid, "type": kind, "ts": ts, "member_id": member_id, "data": dict(data)}


def platform_ts(value: object, fallback: float) -> float:
    """A platform time (seconds or milliseconds since the epoch) in seconds; ``fallback``
    (the receive time) when the message has none."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return fallback
    if number <= 0:
        return fallback
    return number / 1000.0 if number > 1e11 else number
