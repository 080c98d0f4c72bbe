"""A broadcast session's life (场次): scheduled -> live -> ended.

A session's status changes only by an operator's call (``change_status``); nothing that
arrives in its log moves it. Only a live session takes new events: platform events that
come before the show or after it are refused and counted apart (``admit_platform_events``),
so an ended session's review (复盘) stays as it was when the show ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from console.domain.decisions import Refusal, RefusalKind, Refused


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

_NEXT: dict[SessionStatus, frozenset[SessionStatus]] = {
    # A show that never went on air may be called off (scheduled -> ended).
    SessionStatus.SCHEDULED: frozenset({SessionStatus.LIVE, SessionStatus.ENDED}),
    SessionStatus.LIVE: frozenset({SessionStatus.ENDED}),
    # Ended is final: reopening would let the log, and so the review, change after the show.
    SessionStatus.ENDED: frozenset(),
}


def parse_status(value: object) -> SessionStatus | None:
    try:
        return SessionStatus(str(value))
    except ValueError:
        return None


def _require_found(status: SessionStatus | None) -> SessionStatus:
    if status is None:
        raise Refused(RefusalKind.NOT_FOUND, "sid", "场次不存在")
    return status


def require_live(status: SessionStatus | None) -> None:
    """Orders, commands and anything else appended to a log only go into a live session."""
    found = _require_found(status)
    if found is not SessionStatus.LIVE:
        raise Refused(RefusalKind.CONFLICT, "sid", f"本场{found.label}，不在直播中")


def change_status(current: SessionStatus | None, wanted: SessionStatus) -> bool:
    """The operator's call (开播 / 下播): whether ``wanted`` changes anything (False: the
    session is already there, a repeated call). A step back is refused."""
    found = _require_found(current)
    if found is wanted:
        return False
    if wanted not in _NEXT[found]:
        raise Refused(RefusalKind.CONFLICT, "status", f"本场{found.label}，不能改为{wanted.label}")
    return True


class OffAir(StrEnum):
    """Why platform events were refused: they came before the show or after it."""

    EARLY = "early"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class Admission:
    """The ingest decision: append (``off_air`` None), or refuse and count as ``off_air``."""

    off_air: OffAir | None = None
    refusal: Refusal | None = None

    @property
    def accepted(self) -> bool:
        return self.off_air is None


APPEND = Admission()


def admit_platform_events(status: SessionStatus | None, new_events: int) -> Admission:
    """Whether a batch of platform events goes into the session's log.

    ``new_events`` counts those not already in the log: a batch of repeats only is
    acknowledged whatever the status (a platform resending what was stored changes
    nothing). New events go in only while the session is live; before the show they are
    refused as early (直播尚未开始), after it as late, and either way counted apart, never
    folded into the review. The event never starts the show: only the operator does.
    """
    found = _require_found(status)
    if found is SessionStatus.LIVE or new_events <= 0:
        return APPEND
    if found is SessionStatus.SCHEDULED:
        reason = f"直播尚未开始（本场{found.label}），平台事件不入账，已计为开播前到达"
        return Admission(OffAir.EARLY, Refusal(RefusalKind.CONFLICT, "status", reason))
    reason = f"本场{found.label}，迟到的平台事件不入账、不改复盘，已计为迟到"
    return Admission(OffAir.LATE, Refusal(RefusalKind.CONFLICT, "status", reason))
