"""One-line Chinese descriptions of room events for the live feed (互动流)."""

from __future__ import annotations

from console.domain.events import Event, EventType
from console.domain.text import display_text

GUEST_NAME = "访客"

FEED_TYPES: frozenset[EventType] = frozenset(
    {EventType.VIEWER_JOINED, EventType.COMMENT, EventType.SHARE}
)
"""Types the live feed lists; likes and departures only move the counters (too many to read)."""


def describe(event: Event) -> str:
    """What the feed shows for ``event``: one safe line with the already masked nick."""
    return display_text(_describe(event))


def _describe(event: Event) -> str:
    who = display_text(event.nick, 16) or GUEST_NAME
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
    return f"{who} {event.type.value}"
