"""One-line Chinese descriptions of room events for the live feed (互动流)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from console.domain.draws import winner_nicks
from console.domain.events import Event, EventType
from console.domain.platform import platform_name
from console.domain.platform_orders import flagged_line
from console.domain.text import display_text

GUEST_NAME = "访客"
CHAIN_FAILED_REASON = "chain_failed"
"""The ``reason`` of the ``order_cancelled`` events that refund a failed chain's entries."""

FEED_TYPES: frozenset[EventType] = frozenset(
    {
        EventType.VIEWER_JOINED,
        EventType.COMMENT,
        EventType.SHARE,
        EventType.CHAIN_FORMED,
        EventType.CHAIN_FAILED,
        EventType.FOLLOW,
        EventType.LIVE_STARTED,
        EventType.LIVE_ENDED,
        EventType.IDENTITY_BOUND,
        EventType.CHAIN_JOIN_REFUSED,
        EventType.PLATFORM_ORDER_FLAGGED,
        EventType.DRAW_DRAWN,
    }
)
"""Types the live feed lists; likes and departures only move the counters (too many to read)."""


def describe(event: Event) -> str:
    """What the feed shows for ``event``: one safe line with the already masked nick."""
    return display_text(_describe(event))


def _describe(event: Event) -> str:
    who = display_text(event.nick, 16) or GUEST_NAME
    if event.type in _PLATFORM_LINES:
        return _describe_platform(event, who)
    match event.type:
        case EventType.VIEWER_JOINED:
            return f"{who} 进入直播间"
        case EventType.VIEWER_LEFT:
            return f"{who} 离开直播间"
        case EventType.COMMENT:
            return f"{who}：{event.data.get('text', '')}"
        case EventType.LIKE:
            count = event.data.get("count", 1)
            return f"{who} 点赞 ×{count}" if isinstance(count, int) and count > 1 else f"{who} 点赞"
        case EventType.SHARE:
            return f"{who} 分享了直播间"
        case EventType.CHAIN_FORMED:
            return "接龙成团"
        case EventType.CHAIN_FAILED:
            return "接龙未成团，已退款"
        case EventType.DRAW_DRAWN:
            return _describe_draw(event)
    return f"{who} {event.type.value}"


def _describe_draw(event: Event) -> str:
    """抽奖 in the feed: prize, masked winners, out of how many (never a circle)."""
    prize = display_text(str(event.data.get("prize", "")), 40)
    nicks = "、".join(winner_nicks(event.data)) or "无人"
    return f"抽奖「{prize}」：{nicks} 中奖（符合条件 {_int(event.data.get('eligible'))} 人）"


_PLATFORM_LINES = frozenset(
    {
        EventType.FOLLOW,
        EventType.LIVE_STARTED,
        EventType.LIVE_ENDED,
        EventType.IDENTITY_BOUND,
        EventType.CHAIN_JOIN_REFUSED,
        EventType.PLATFORM_ORDER_FLAGGED,
    }
)


def _describe_platform(event: Event, who: str) -> str:
    data = event.data
    platform = platform_name(str(data.get("platform", "")))
    match event.type:
        case EventType.FOLLOW:
            return f"{who} 关注了主播"
        case EventType.LIVE_STARTED:
            return f"{platform} 平台开播"
        case EventType.LIVE_ENDED:
            return f"{platform} 平台下播（本场仍由运营结束）"
        case EventType.IDENTITY_BOUND:
            return f"{who} 绑定了{platform}账号"
        case EventType.CHAIN_JOIN_REFUSED:
            return f"{who} 接龙未成功：{data.get('reason', '')}"
    return flagged_line(
        str(data.get("platform", "")),
        str(data.get("product_name") or data.get("product_id", "")),
        _int(data.get("quantity")),
        str(data.get("reason", "")),
    )


@dataclass
class _ChainNote:
    product: str
    threshold: int
    refunded: int = 0


@dataclass
class FeedReader:
    """Reads the log into feed lines, remembering what a chain's end line needs: the
    product and threshold (from ``chain_opened``) and the entries refunded (the
    ``order_cancelled`` events a failure logs just before ``chain_failed``)."""

    _chains: dict[str, _ChainNote] = field(default_factory=dict)

    def lines(self, events: Iterable[Event]) -> list[tuple[Event, str]]:
        """The feed-worthy ones of ``events`` (in log order) with their lines."""
        shown: list[tuple[Event, str]] = []
        for event in events:
            self._observe(event)
            if event.type in FEED_TYPES:
                shown.append((event, self.describe(event)))
        return shown

    def describe(self, event: Event) -> str:
        note = self._chains.get(str(event.data.get("chain_id") or ""))
        if note is None or event.type not in (EventType.CHAIN_FORMED, EventType.CHAIN_FAILED):
            return describe(event)
        product = display_text(note.product, 30)
        if event.type is EventType.CHAIN_FORMED:
            return f"{product} 接龙成团（满{note.threshold}单）"
        return f"{product} 接龙未成团，已退款 {note.refunded} 单"

    def _observe(self, event: Event) -> None:
        data = event.data
        chain_id = str(data.get("chain_id") or "")
        if event.type is EventType.CHAIN_OPENED and chain_id:
            product = str(data.get("product_name") or data.get("product_id") or "")
            self._chains[chain_id] = _ChainNote(product, _int(data.get("threshold")))
        elif event.type is EventType.ORDER_CANCELLED and data.get("reason") == CHAIN_FAILED_REASON:
            note = self._chains.get(chain_id)
            if note is not None:
                note.refunded += 1


def _int(value: object) -> int:
    """A count from an event's data; 0 when it is not a number."""
    if not isinstance(value, int | float | str):
        return 0
    try:
        return int(value)
    except (ValueError, OverflowError):
        return 0
