"""Platform-reported statistics (平台统计): what a platform says about a session's viewers after
the show, kept apart from the session's own figures.

A finished session refuses platform events (``console.domain.sessions``), and a platform's
after-the-show report is its own count, not our log: so these figures are stored per viewer
(idempotent on session, platform and viewer) and summarised under ``platform_reported`` in
``/stats``, never added to ``watched`` or ``interacted`` of the log.

Per platform:

- watched: viewers the platform lists (members bound through ``identities`` and guests);
- interacted: viewers who commented (the platform's ``is_comment``);
- invited: viewers the platform says someone invited (referral: 邀请);
- watch_minutes: the viewers' watch time summed, in whole minutes (rounded down).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.domain.decisions import RefusalKind, Refused
from console.domain.sessions import SessionStatus

MAX_VIEWERS_PER_CALL = 10_000
MAX_KEY_LENGTH = 128
MAX_WATCH_TIME_S = 7 * 24 * 3600
PLATFORM_LABELS: Mapping[str, str] = {"wecom": "企业微信直播"}
"""The platforms whose statistics the store keeps, with their names in the report."""


@dataclass(frozen=True, slots=True)
class ViewerStat:
    """One viewer as the platform reports them (``viewer``: the platform's own user id)."""

    viewer: str
    kind: str  # the platform's kind of user (wecom: "user" staff, "external" customer)
    watch_time_s: int
    commented: bool
    inviter: str = ""  # the inviting user's id on the platform, "" for none


def check_platform(platform: str) -> str:
    if platform not in PLATFORM_LABELS:
        known = "、".join(PLATFORM_LABELS)
        raise Refused(
            RefusalKind.NOT_FOUND, "platform", f"不支持的平台 {platform[:40]!r}（{known}）"
        )
    return platform


def check_session(status: str) -> None:
    """Statistics are for a show that went on air: live or ended, not one still scheduled."""
    if status == SessionStatus.SCHEDULED:
        raise Refused(RefusalKind.CONFLICT, "sid", "场次尚未开播，不能写入平台统计")


def check_viewer(index: int, stat: ViewerStat) -> ViewerStat:
    """A viewer as stored: an id, a kind, a sane watch time; ``Refused`` naming the field."""
    field = f"viewers[{index}]"
    if not stat.viewer.strip() or len(stat.viewer) > MAX_KEY_LENGTH:
        raise Refused(RefusalKind.INVALID, f"{field}.viewer", f"必填，最多 {MAX_KEY_LENGTH} 个字符")
    if len(stat.inviter) > MAX_KEY_LENGTH:
        raise Refused(RefusalKind.INVALID, f"{field}.inviter", f"最多 {MAX_KEY_LENGTH} 个字符")
    if not 0 <= stat.watch_time_s <= MAX_WATCH_TIME_S:
        raise Refused(
            RefusalKind.INVALID, f"{field}.watch_time", f"应在 0 到 {MAX_WATCH_TIME_S} 秒之间"
        )
    return ViewerStat(
        stat.viewer.strip(), stat.kind, stat.watch_time_s, stat.commented, stat.inviter.strip()
    )


def check_batch(stats: Iterable[ViewerStat]) -> list[ViewerStat]:
    """Each viewer checked; a viewer named twice in one call keeps its last figures."""
    by_viewer: dict[str, ViewerStat] = {}
    for index, stat in enumerate(stats):
        checked = check_viewer(index, stat)
        by_viewer[checked.viewer] = checked
    return list(by_viewer.values())


@dataclass(frozen=True, slots=True)
class StoredViewer:
    """A stored viewer with the member bound to their id (None: a guest)."""

    stat: ViewerStat
    member_id: str | None
    fetched_at: float


def summary(viewers: Iterable[StoredViewer]) -> dict[str, Any]:
    """One platform's figures (see the module's note); ``fetched_at`` of the newest fetch."""
    watched = members = interacted = invited = seconds = 0
    newest: float | None = None
    for row in viewers:
        watched += 1
        members += row.member_id is not None
        interacted += row.stat.commented
        invited += bool(row.stat.inviter)
        seconds += row.stat.watch_time_s
        newest = row.fetched_at if newest is None else max(newest, row.fetched_at)
    return {
        "watched": watched,
        "members": members,
        "guests": watched - members,
        "interacted": interacted,
        "invited": invited,
        "watch_minutes": seconds // 60,
        "fetched_at": newest,
    }


def summaries(viewers: Iterable[tuple[str, StoredViewer]]) -> dict[str, dict[str, Any]]:
    """``{platform: summary}`` for each platform with at least one viewer."""
    grouped: dict[str, list[StoredViewer]] = {}
    for platform, row in viewers:
        grouped.setdefault(platform, []).append(row)
    return {platform: summary(rows) for platform, rows in sorted(grouped.items())}
