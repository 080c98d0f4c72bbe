"""Manual overrides (手动微调): the checks on an operator moving a member by hand."""

from __future__ import annotations

from console.domain.decisions import RefusalKind, Refused

MAX_REASON = 200


def check_override(reason: str, expires_at: float | None, now: float) -> str:
    """The override's reason, cleaned; ``Refused`` when it lacks one or expires already."""
    reason = reason.strip()
    if not reason:
        raise Refused(RefusalKind.INVALID, "reason", "必填：说明为什么调整该会员的圈层")
    if len(reason) > MAX_REASON:
        raise Refused(RefusalKind.INVALID, "reason", f"不能超过 {MAX_REASON} 个字")
    if expires_at is not None and expires_at <= now:
        raise Refused(RefusalKind.INVALID, "expires_at", "到期时间必须在将来")
    return reason


def expired(expires_at: float | None, now: float) -> bool:
    """An override whose time is up (one without an expiry lasts until revoked)."""
    return expires_at is not None and expires_at <= now
