"""Live platforms (抖音, 微信小店, 企业微信) as the room sees them: who a viewer is there, what the
platform counts, and how its adapters are doing.

A viewer arrives as ``data.platform_user`` ({"platform", "handle", "nick"?}). The handle is an
identifier: the store keeps it (``identities``) to resolve a bound viewer to their member, but
the log, and so every screen, holds only its pseudonym (``handle_tag``): a host never sees a
raw TikTok id or WeChat openid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.domain.events import PLATFORM_USER

PLATFORM_NAMES: Mapping[str, str] = {
    "tiktok": "抖音",
    "douyin": "抖音",
    "wechat": "微信小店",
    "wechat_shop": "微信小店",
    "wecom": "企业微信",
    "kuaishou": "快手",
    "webhook": "网络钩子",
}
GUEST_BUYER_PREFIX = "guest:"
"""The buyer id of a platform order from a viewer bound to no member (``guest_buyer``)."""


def platform_name(platform: str) -> str:
    """The platform's name on screen (抖音); an unknown one as sent."""
    return PLATFORM_NAMES.get(platform, platform)


def handle_tag(platform: str, handle: str) -> str:
    """A stable pseudonym for a platform handle (12 hex digits): the same viewer gets the same
    tag, and nobody reading the log can turn it back into the handle."""
    digest = hashlib.sha256(f"{platform}\x1f{handle}".encode()).hexdigest()
    return digest[:12]


@dataclass(frozen=True, slots=True)
class PlatformUser:
    platform: str
    handle: str
    nick: str = ""

    @property
    def tag(self) -> str:
        return handle_tag(self.platform, self.handle)


def platform_user(data: Mapping[str, Any]) -> PlatformUser | None:
    """``data.platform_user`` as sent (before redaction), or None."""
    raw = data.get(PLATFORM_USER)
    if not isinstance(raw, Mapping):
        return None
    platform, handle = raw.get("platform"), raw.get("handle")
    if not isinstance(platform, str) or not isinstance(handle, str) or not handle.strip():
        return None
    nick = raw.get("nick")
    return PlatformUser(platform, handle, nick if isinstance(nick, str) else "")


def redact_platform_user(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``platform_user`` as the log keeps it: the handle replaced by its tag."""
    clean = dict(raw)
    platform, handle = raw.get("platform"), raw.get("handle")
    if isinstance(platform, str) and isinstance(handle, str):
        clean.pop("handle", None)
        clean["tag"] = handle_tag(platform, handle)
    return clean


def guest_buyer(platform: str, handle: str) -> str:
    """Who bought, for a platform order whose buyer is bound to no member: one id per viewer
    (counted once among buyers), never the handle itself."""
    return f"{GUEST_BUYER_PREFIX}{platform[:16]}:{handle_tag(platform, handle)}"


# -- the platform's own counts and the adapters' health (folded by the room) --------------


@dataclass(frozen=True, slots=True)
class PlatformCount:
    """The platform's latest room counts (在线 / 累计观看), shown beside ours."""

    platform: str
    online: int
    total_viewers: int
    ts: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "online": self.online,
            "total_viewers": self.total_viewers,
            "ts": self.ts,
        }


@dataclass(frozen=True, slots=True)
class AdapterHealth:
    """One adapter's link as it last reported it."""

    source: str
    connected: bool
    last_message_ts: float | None
    lag_s: float | None
    dropped: int
    ts: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "connected": self.connected,
            "last_message_ts": self.last_message_ts,
            "lag_s": self.lag_s,
            "dropped": self.dropped,
            "ts": self.ts,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AdapterHealth:
        return cls(
            str(raw.get("source", "")),
            bool(raw.get("connected")),
            _number(raw.get("last_message_ts")),
            _number(raw.get("lag_s")),
            int(_number(raw.get("dropped")) or 0),
            float(_number(raw.get("ts")) or 0.0),
        )

    def label(self) -> str:
        """ "抖音 ● 已连接 · 延迟 0.4s" / "微信小店 ○ 断开"."""
        name = platform_name(self.source)
        if not self.connected:
            return f"{name} ○ 断开"
        text = f"{name} ● 已连接"
        if self.lag_s is not None:
            text += f" · 延迟 {self.lag_s:.1f}s"
        if self.dropped:
            text += f" · 丢弃 {self.dropped:,}"
        return text


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
