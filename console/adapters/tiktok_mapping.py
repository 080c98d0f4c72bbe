"""TikTok LIVE (the ``TikTokLive`` library's event objects) -> store events. Pure.

A raw TikTok message is the webcast protobuf message the library parsed; in a capture it is
``{"proto_b64": ...}`` (the message's own bytes, what TikTok sent) and ``kind`` its webcast
method name. Captured or documented payloads may also be written as the protobuf's JSON form
(``{"common": {"msgId": ...}, "user": {...}, "content": "+1"}``), read with ``from_dict``.

- WebcastChatMessage -> comment; WebcastMemberMessage (joined) -> viewer_joined;
  WebcastLikeMessage -> like; WebcastSocialMessage -> follow or share;
  WebcastRoomUserSeqMessage -> room_stats; WebcastControlMessage (ended) -> live_ended.
- WebcastOecLiveShoppingMessage (a product card pinned in the room) carries no order: it maps
  to nothing. TikTok LIVE's webcast has no order message; orders come from the shop's side.
"""

from __future__ import annotations

import base64
from typing import Any

from TikTokLive.events import (
    CommentEvent,
    ControlEvent,
    JoinEvent,
    LikeEvent,
    OecLiveShoppingEvent,
    RoomUserSeqEvent,
    SocialEvent,
)
from TikTokLive.events.proto_events import ProtoEvent

from console.adapters.base import (
    RawMessage,
    content_id,
    event_id,
    platform_ts,
    platform_user,
    store_event,
)

SOURCE = PLATFORM = "tiktok"
MAX_LIKES = 10_000
# ControlAction.STREAM_ENDED and STREAM_SUSPENDED (the library's LiveEndEvent).
_ENDED_ACTIONS = frozenset({3, 4})
_MEMBER_JOINED = frozenset({0, 1})  # MemberMessageAction UNKNOWN (older rooms), JOINED

EVENT_CLASSES: dict[str, type[ProtoEvent]] = {
    "WebcastChatMessage": CommentEvent,
    "WebcastMemberMessage": JoinEvent,
    "WebcastLikeMessage": LikeEvent,
    "WebcastSocialMessage": SocialEvent,
    "WebcastRoomUserSeqMessage": RoomUserSeqEvent,
    "WebcastControlMessage": ControlEvent,
    "WebcastOecLiveShoppingMessage": OecLiveShoppingEvent,
}
KINDS: dict[type[ProtoEvent], str] = {cls: kind for kind, cls in EVENT_CLASSES.items()}


def kind_of(event: ProtoEvent) -> str:
    for cls, kind in KINDS.items():
        if isinstance(event, cls):
            return kind
    raise ValueError(f"not a TikTok message this adapter maps: {type(event).__name__}")


def encode(event: ProtoEvent) -> dict[str, str]:
    """The message as a capture keeps it: its protobuf bytes."""
    return {"proto_b64": base64.b64encode(bytes(event)).decode("ascii")}


def decode(kind: str, payload: Any) -> ProtoEvent:
    cls = EVENT_CLASSES[kind]
    if isinstance(payload, dict) and "proto_b64" in payload:
        return cls().parse(base64.b64decode(payload["proto_b64"]))
    return cls.from_dict(payload)


class TikTokMapper:
    source = SOURCE

    def map(self, message: RawMessage) -> list[dict[str, Any]]:
        if message.kind not in EVENT_CLASSES:
            return []
        return map_event(decode(message.kind, message.payload), message.recv_ts)


def map_event(event: ProtoEvent, recv_ts: float) -> list[dict[str, Any]]:
    """The store events for one library event object (most give one, some none)."""
    common = getattr(event, "common", None)
    msg_id = int(getattr(common, "msg_id", 0) or 0)
    eid = event_id(SOURCE, msg_id) if msg_id else content_id(SOURCE, kind_of(event), bytes(event))
    ts = platform_ts(getattr(common, "create_time", 0), recv_ts)
    user = _user(event)
    if not user and isinstance(event, CommentEvent | JoinEvent | LikeEvent | SocialEvent):
        return []  # a viewer's act without the viewer: nobody to credit it to
    if isinstance(event, CommentEvent):
        text = (event.content or "").strip()[:500]
        if not text:
            return []
        return [store_event(eid, "comment", ts, {"text": text, **user})]
    if isinstance(event, JoinEvent):
        if int(event.action) not in _MEMBER_JOINED:
            return []
        nick = user["platform_user"].get("nick")
        return [store_event(eid, "viewer_joined", ts, {**user, **({"nick": nick} if nick else {})})]
    if isinstance(event, LikeEvent):
        count = min(max(int(event.count or 1), 1), MAX_LIKES)
        return [store_event(eid, "like", ts, {"count": count, **user})]
    if isinstance(event, SocialEvent):
        return [_social(event, eid, ts, user)]
    if isinstance(event, RoomUserSeqEvent):
        data = {
            "platform": PLATFORM,
            "online": int(event.total),
            "total_viewers": int(event.total_user),
        }
        return [store_event(eid, "room_stats", ts, data)]
    if isinstance(event, ControlEvent):
        if int(event.action) in _ENDED_ACTIONS:
            return [store_event(eid, "live_ended", ts, {"platform": PLATFORM})]
        return []
    return []  # OecLiveShoppingEvent: a pinned product card, not an order


def _social(event: SocialEvent, eid: str, ts: float, user: dict[str, Any]) -> dict[str, Any]:
    key = event.common.display_text.key if event.common and event.common.display_text else ""
    # The library tells follow from share by this display key (its FollowEvent/ShareEvent);
    # without one, a share names where it went.
    if "share" in key or (not key and (event.share_target or event.share_type)):
        return store_event(eid, "share", ts, {"channel": PLATFORM, **user})
    return store_event(eid, "follow", ts, user)


def _user(event: ProtoEvent) -> dict[str, Any]:
    user = getattr(event, "user", None)
    if user is None or not (user.id or user.display_id):
        return {}
    handle = user.display_id or str(user.id)
    return {"platform_user": platform_user(PLATFORM, handle, user.nickname or None)}
