"""May a segmentation run (分层计算) go now, and if not, why not: one rule for the API, the
command line and the weekly schedule.

A run rewrites every member's circle, so it waits while a session is live (unless forced:
the room's prices would change under the host). And a run whose window holds no purchase at
all puts every member in S6 with nothing wrong on the surface; with a real shop's export
that is years old that is what "today, 365 days" does, so such a run is refused, naming the
newest order's date so the operator can score as of it or widen the window. This holds for
an as-of given explicitly too: a window without a single order scores nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from console.domain.decisions import RefusalKind, Refused

MAX_WINDOW_DAYS = 36_500


class RunBlocker(StrEnum):
    LIVE_SESSION = "live_session"
    EMPTY_WINDOW = "empty_window"
    BAD_WINDOW = "bad_window"


@dataclass(frozen=True)
class RunRequest:
    """What the operator asked for: ``as_of`` None means today (China time)."""

    as_of: date | None
    window_days: int
    force: bool = False


@dataclass(frozen=True)
class RunFacts:
    """What the store knows: today's date, live sessions, the newest purchase of all and
    how many members bought within the requested window."""

    today: date
    live_sessions: int
    newest_order: date | None
    buyers_in_window: int


@dataclass(frozen=True)
class RunVerdict:
    """The decision: the day to score as of, or the blocker (with what the message needs)."""

    as_of: date
    window_days: int
    blocker: RunBlocker | None = None
    newest_order: date | None = None
    live_sessions: int = 0

    @property
    def go(self) -> bool:
        return self.blocker is None

    @property
    def window_start(self) -> date:
        """The first day the window covers (it ends with ``as_of``)."""
        return self.as_of - timedelta(days=self.window_days - 1)

    @property
    def field(self) -> str:
        return {
            RunBlocker.LIVE_SESSION: "force",
            RunBlocker.EMPTY_WINDOW: "as_of",
            RunBlocker.BAD_WINDOW: "window_days",
            None: "",
        }[self.blocker]

    def reason_zh(self) -> str:
        """The refusal for the API and the operator's window, in Chinese."""
        match self.blocker:
            case RunBlocker.LIVE_SESSION:
                return (
                    f"有 {self.live_sessions} 场直播正在进行：分群会改写每位会员的圈层；"
                    "请在直播结束后再运行，或传 force"
                )
            case RunBlocker.EMPTY_WINDOW:
                return (
                    f"最新订单是 {self.newest_order}；截至 {self.as_of} 的 {self.window_days} 天"
                    f"窗口里没有任何订单，所有会员都会落入 S6。请把截至日期设为 "
                    f"{self.newest_order}，或加大窗口天数"
                )
            case RunBlocker.BAD_WINDOW:
                return f"窗口天数必须在 1 到 {MAX_WINDOW_DAYS} 之间"
        return ""

    def reason_cli(self) -> str:
        """The same for the command line (its flags named: --force, --as-of)."""
        match self.blocker:
            case RunBlocker.LIVE_SESSION:
                return (
                    f"有 {self.live_sessions} 场直播正在进行：分群会改写每位会员的圈层；"
                    "请在直播结束后再运行，或加 --force"
                )
            case RunBlocker.EMPTY_WINDOW:
                return (
                    f"最新订单是 {self.newest_order}；截至 {self.as_of} 的 {self.window_days} 天"
                    f"窗口里没有任何订单，所有会员都会落入 S6。请用 --as-of {self.newest_order}，"
                    "或加大窗口（--window-days）"
                )
            case RunBlocker.BAD_WINDOW:
                return f"--window-days 必须在 1 到 {MAX_WINDOW_DAYS} 之间"
        return ""

    def refusal(self) -> Refused:
        kind = (
            RefusalKind.INVALID if self.blocker is RunBlocker.BAD_WINDOW else RefusalKind.CONFLICT
        )
        return Refused(kind, self.field, self.reason_zh())


def decide_run(request: RunRequest, facts: RunFacts) -> RunVerdict:
    """Whether the run may go (``verdict.go``), scoring as of which day; else why not."""
    as_of = request.as_of or facts.today
    verdict = RunVerdict(as_of, request.window_days, newest_order=facts.newest_order)
    if not 1 <= request.window_days <= MAX_WINDOW_DAYS:
        return RunVerdict(as_of, request.window_days, RunBlocker.BAD_WINDOW)
    if facts.live_sessions and not request.force:
        return RunVerdict(
            as_of,
            request.window_days,
            RunBlocker.LIVE_SESSION,
            facts.newest_order,
            facts.live_sessions,
        )
    if facts.newest_order is not None and facts.buyers_in_window == 0:
        return RunVerdict(as_of, request.window_days, RunBlocker.EMPTY_WINDOW, facts.newest_order)
    return verdict
