"""Platform identities (统一身份): one member, several platform handles.

A handle (a TikTok user id, a WeChat openid or unionid, a phone hash) is bound to a member by
import, by the operator, or in the room: the assistant reads the member their bind code
(绑定码, 6 digits, expiring) and the viewer comments "绑定 123456". ``decide_bind`` says
whether that comment binds the handle; the store keeps the binding and resolves the
handle's later events to the member (their circle, their price, their shout-outs).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.events import MAX_HANDLE_LENGTH, MAX_PLATFORM_LENGTH, EventType

BIND_CODE_DIGITS = 6
BIND_CODE_TTL_S = 15 * 60
_BIND_COMMENT = re.compile(r"^\s*(?:绑定|绑定码|bind)\s*[:：]?\s*(\d{6})\s*$", re.IGNORECASE)
_BIND_WORD = re.compile(r"(绑定|绑定码|bind)(\s*[:：]?\s*)\d{6}", re.IGNORECASE)


def bind_code_in(text: str) -> str | None:
    """The code of a bind comment ("绑定 123456", full-width digits too), or None."""
    found = _BIND_COMMENT.match(unicodedata.normalize("NFKC", text))
    return found.group(1) if found else None


def hide_bind_code(text: str) -> str:
    """A bind comment as screens show it: the code hidden (it is never read aloud)."""
    return _BIND_WORD.sub(r"\1\2******", unicodedata.normalize("NFKC", text))


def bind_code_from(random_value: int) -> str:
    """A 6-digit code from a random number the caller drew (the domain draws nothing)."""
    return f"{random_value % 10**BIND_CODE_DIGITS:0{BIND_CODE_DIGITS}d}"


@dataclass(frozen=True, slots=True)
class BindCode:
    """A member's bind code as the store found it."""

    code: str
    member_id: str
    expires_at: float
    used: bool = False


@dataclass(frozen=True, slots=True)
class Handle:
    """A platform handle (``platform``, ``handle``) and the member it is bound to, if any."""

    platform: str
    handle: str
    member_id: str | None = None


def check_handle(platform: str, handle: str) -> tuple[str, str]:
    """A handle as stored: trimmed, bounded; ``Refused`` naming the field otherwise."""
    platform, handle = platform.strip(), handle.strip()
    if not platform or len(platform) > MAX_PLATFORM_LENGTH:
        raise Refused(RefusalKind.INVALID, "platform", f"必填，最多 {MAX_PLATFORM_LENGTH} 个字符")
    if not handle or len(handle) > MAX_HANDLE_LENGTH:
        raise Refused(RefusalKind.INVALID, "handle", f"必填，最多 {MAX_HANDLE_LENGTH} 个字符")
    return platform, handle


def bind_by_operator(handle: Handle, member_id: str) -> bool:
    """The operator (or an import) binds a handle: False if it is already this member's;
    ``Refused`` if another member holds it (unbind it there first: never silently moved)."""
    if handle.member_id is None:
        return True
    if handle.member_id == member_id:
        return False
    raise Refused(RefusalKind.CONFLICT, "handle", "该平台账号已绑定其他会员")


@dataclass(frozen=True, slots=True)
class Binding:
    """What a bind comment decided: the handle's member, and the event to log."""

    member_id: str
    event: NewEvent


def decide_bind(handle: Handle, code: BindCode | None, typed: str, now: float, tag: str) -> Binding:
    """A viewer typed ``typed`` ("绑定 123456") from ``handle``: bind it to the code's member.

    Refused when the handle is already bound (to anyone: a bound viewer cannot rebind
    themselves by comment), the code is unknown, used or expired. ``tag`` is the handle's
    pseudonym, the only form of it the log keeps.
    """
    if handle.member_id is not None:
        raise Refused(RefusalKind.CONFLICT, "handle", "该平台账号已绑定会员")
    if code is None or code.code != typed:
        raise Refused(RefusalKind.NOT_FOUND, "code", "绑定码无效")
    if code.used:
        raise Refused(RefusalKind.CONFLICT, "code", "绑定码已使用")
    if now >= code.expires_at:
        raise Refused(RefusalKind.CONFLICT, "code", "绑定码已过期")
    data = {"platform": handle.platform, "tag": tag, "via": "code"}
    return Binding(code.member_id, NewEvent(EventType.IDENTITY_BOUND, now, data, code.member_id))
