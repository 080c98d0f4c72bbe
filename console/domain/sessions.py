"""A broadcast session's life (场次): scheduled -> live -> ended."""

from __future__ import annotations

from enum import StrEnum

from console.domain.decisions import RefusalKind, Refused


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    SessionStatus.SCHEDULED: "未开播",
    SessionStatus.LIVE: "直播中",
    SessionStatus.ENDED: "已结束",
}


def parse_status(value: object) -> SessionStatus | None:
    try:
        return SessionStatus(str(value))
    except ValueError:
        return None


def require_live(status: SessionStatus | None) -> None:
    """Orders and most commands only go into a live session."""
    if status is None:
        raise Refused(RefusalKind.NOT_FOUND, "sid", "场次不存在")
    if status is not SessionStatus.LIVE:
        raise Refused(RefusalKind.CONFLICT, "sid", f"本场{status.label}，不在直播中")
