"""Room events: what happens in a broadcast, as stored in the per-session log (事件日志).

The envelope (id, type, ts, member_id, data) comes from the platform or the simulator; the
store adds ``seq`` and the enrichment fields (``segment``, ``koc``, ``nick``) at ingest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from console.domain.segments import Segment


class EventType(StrEnum):
    """The kinds of room event, snake_case on the wire."""

    VIEWER_JOINED = "viewer_joined"
    VIEWER_LEFT = "viewer_left"
    COMMENT = "comment"
    LIKE = "like"
    SHARE = "share"
    ORDER_PLACED = "order_placed"  # written by the store itself when it accepts an order
    ORDER_CANCELLED = "order_cancelled"  # stock returned (a failed chain, a refund)
    CHAIN_OPENED = "chain_opened"  # 接龙 opened by the floor assistant
    CHAIN_FORMED = "chain_formed"  # 成团: the threshold was reached
    CHAIN_CLOSED = "chain_closed"  # no more entries (closed by hand, or formed at its deadline)
    CHAIN_FAILED = "chain_failed"  # the deadline passed before the threshold; entries cancelled
    # Floor-assistant commands (场控指令), written by the store when it accepts one:
    PRODUCT_PRESENTED = "product_presented"  # 讲解中: the product the host is presenting
    STOCK_ADJUSTED = "stock_adjusted"  # stock added or taken back by hand
    NOTICE_POSTED = "notice_posted"  # a notice on the host's screen (公告)
    SHOUTOUT_ACKNOWLEDGED = "shoutout_acknowledged"  # called out: off the board
    SHOUTOUT_PINNED = "shoutout_pinned"  # pinned to (or unpinned from) the top of the board
    DRAW_DRAWN = "draw_drawn"  # 抽奖: criteria, seed, eligible count, winners (domain.draws)
    FLASH_SALE_STARTED = "flash_sale_started"  # 秒杀: product, price, units, ends_at (domain.flash)
    FLASH_SALE_ENDED = "flash_sale_ended"  # its units gone or its time over
    # From live platforms (console/adapters, console.domain.platform):
    FOLLOW = "follow"  # a viewer followed the account (关注)
    ROOM_STATS = "room_stats"  # the platform's own online / total-viewer counts
    PLATFORM_ORDER = "platform_order"  # an order paid (or cancelled, refunded) on the platform
    LIVE_STARTED = "live_started"  # the platform says its stream started (never moves status)
    LIVE_ENDED = "live_ended"  # the platform says its stream ended (never moves status)
    ADAPTER_STATUS = "adapter_status"  # an adapter's link health (已连接 / 断开, lag)
    # Written by the store when it reacts to a platform event:
    IDENTITY_BOUND = "identity_bound"  # a viewer's platform handle bound to a member (绑定)
    CHAIN_JOIN_REFUSED = "chain_join_refused"  # a "+1" comment that could not join a 接龙
    PLATFORM_ORDER_FLAGGED = "platform_order_flagged"  # a paid platform order over the stock


PLATFORM_EVENT_TYPES: frozenset[EventType] = frozenset(
    {
        EventType.VIEWER_JOINED,
        EventType.VIEWER_LEFT,
        EventType.COMMENT,
        EventType.LIKE,
        EventType.SHARE,
        EventType.FOLLOW,
        EventType.ROOM_STATS,
        EventType.PLATFORM_ORDER,
        EventType.LIVE_STARTED,
        EventType.LIVE_ENDED,
        EventType.ADAPTER_STATUS,
    }
)
"""Types a platform webhook or the simulator may send through the ingest endpoint."""

PLATFORM_USER = "platform_user"
"""``data.platform_user``: {"platform", "handle", "nick"?}, the viewer as the platform knows
them; an event carrying it may leave ``member_id`` null (the store resolves bound handles)."""
MAX_HANDLE_LENGTH = 128
MAX_PLATFORM_LENGTH = 32
MAX_PLATFORM_ORDER_ID_LENGTH = 64


class PlatformOrderStatus(StrEnum):
    """A platform order's status as the platform sends it (``platform_order.data.status``)."""

    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


PLATFORM_ORDER_STATUSES = tuple(s.value for s in PlatformOrderStatus)

MAX_EVENT_ID_LENGTH = 128
MAX_MEMBER_ID_LENGTH = 64


@dataclass(frozen=True, slots=True)
class DataField:
    """One allowed key of an event's ``data`` object."""

    kind: type
    required: bool = False
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # the only values a str may take
    nullable: bool = False  # JSON null allowed


@dataclass(frozen=True)
class EventRule:
    """What an event of one type must carry."""

    requires_member: bool  # member_id, or data.platform_user (a viewer not yet bound)
    fields: Mapping[str, DataField] = field(default_factory=dict)

    @cached_property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self.fields.items() if spec.required)


_PLATFORM = DataField(str, required=True, max_length=MAX_PLATFORM_LENGTH)

EVENT_RULES: Mapping[EventType, EventRule] = {
    EventType.VIEWER_JOINED: EventRule(True, {"nick": DataField(str, max_length=64)}),
    EventType.VIEWER_LEFT: EventRule(True),
    EventType.COMMENT: EventRule(True, {"text": DataField(str, required=True, max_length=500)}),
    EventType.LIKE: EventRule(True, {"count": DataField(int, minimum=1, maximum=10_000)}),
    EventType.SHARE: EventRule(True, {"channel": DataField(str, max_length=32)}),
    EventType.FOLLOW: EventRule(True),
    EventType.ROOM_STATS: EventRule(
        False,
        {
            "platform": _PLATFORM,
            "online": DataField(int, required=True, minimum=0, maximum=10**9),
            "total_viewers": DataField(int, required=True, minimum=0, maximum=10**10),
        },
    ),
    EventType.PLATFORM_ORDER: EventRule(
        False,
        {
            "platform": _PLATFORM,
            "platform_order_id": DataField(
                str, required=True, max_length=MAX_PLATFORM_ORDER_ID_LENGTH
            ),
            "status": DataField(str, required=True, choices=PLATFORM_ORDER_STATUSES),
            "product_id": DataField(str, required=True, max_length=64),
            "quantity": DataField(int, required=True, minimum=1, maximum=100_000),
            "amount": DataField(float, required=True, minimum=0, maximum=10**8),
            "pickup_point": DataField(str, max_length=64),
        },
    ),
    EventType.LIVE_STARTED: EventRule(False, {"platform": _PLATFORM}),
    EventType.LIVE_ENDED: EventRule(False, {"platform": _PLATFORM}),
    EventType.ADAPTER_STATUS: EventRule(
        False,
        {
            "source": DataField(str, required=True, max_length=MAX_PLATFORM_LENGTH),
            "connected": DataField(bool, required=True),
            "last_message_ts": DataField(float, required=True, minimum=0, nullable=True),
            "lag_s": DataField(float, required=True, minimum=0, maximum=10**6, nullable=True),
            "dropped": DataField(int, required=True, minimum=0, maximum=10**12),
        },
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation failure: which field, and why (shown to the sender as a 4xx).

    The store turns ``EVENT_RULES`` into its ingest validator (console.store.validation).
    """

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


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
    opted_out: bool = False  # opted out of personalisation: never named by circle on screen

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
            "opted_out": self.opted_out,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        """Rebuild a stored event (as served by the store); raises ValueError if malformed.

        Called for every event a console or a replay reads (a million for a big replay), so
        the enums are looked up in dicts rather than constructed.
        """
        try:
            return cls(
                int(raw["seq"]),
                str(raw["id"]),
                _EVENT_TYPES[raw["type"]],
                float(raw["ts"]),
                raw.get("member_id"),
                _SEGMENTS.get(raw.get("segment")),
                bool(raw.get("koc", False)),
                raw.get("nick") or "",
                raw.get("data") or {},
                bool(raw.get("opted_out", False)),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed stored event {raw!r}: {exc}") from exc


_EVENT_TYPES: dict[str, EventType] = {t.value: t for t in EventType}
_SEGMENTS: dict[object, Segment] = {s.value: s for s in Segment}
