"""Platform-reported statistics in the store: kept per viewer, summarised for ``/stats``.

The rules are ``console.domain.platform_stats``; this module loads and keeps. A viewer's id is
an identifier (operator views only): ``/stats`` gives counts, never the ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlite_utils

from console.domain import platform_stats as rules
from console.domain.decisions import RefusalKind, Refused
from console.domain.platform_stats import StoredViewer, ViewerStat
from console.store.schema import transaction


def put_platform_stats(
    db: sqlite_utils.Database,
    sid: str,
    platform: str,
    viewers: Sequence[ViewerStat],
    clock: Callable[[], float],
) -> dict[str, Any]:
    """Keep each viewer's figures (all or nothing), replacing what an earlier fetch said of
    the same viewer: sending a page again changes nothing. Answers the counts and the
    platform's summary after."""
    rules.check_platform(platform)
    checked = rules.check_batch(viewers)
    with transaction(db) as conn:
        row = conn.execute("SELECT status FROM sessions WHERE id = ?", [sid]).fetchone()
        if row is None:
            raise Refused(RefusalKind.NOT_FOUND, "sid", f"场次 {sid!r} 不存在")
        rules.check_session(str(row[0]))
        now = clock()
        added = updated = unchanged = 0
        for stat in checked:
            figures = (stat.kind, stat.watch_time_s, int(stat.commented), stat.inviter)
            before = conn.execute(
                "SELECT kind, watch_time, commented, inviter FROM platform_stats "
                "WHERE session_id = ? AND platform = ? AND viewer = ?",
                [sid, platform, stat.viewer],
            ).fetchone()
            if before is not None and tuple(before) == figures:
                unchanged += 1
                continue
            conn.execute(
                "INSERT INTO platform_stats (session_id, platform, viewer, kind, watch_time, "
                "commented, inviter, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, platform, viewer) DO UPDATE SET kind = excluded.kind, "
                "watch_time = excluded.watch_time, commented = excluded.commented, "
                "inviter = excluded.inviter, fetched_at = excluded.fetched_at",
                [sid, platform, stat.viewer, *figures, now],
            )
            if before is None:
                added += 1
            else:
                updated += 1
        summary = rules.summary(_stored(conn, sid, platform))
    return {
        "platform": platform,
        "received": len(viewers),
        "added": added,
        "updated": updated,
        "unchanged": unchanged,
        "summary": summary,
    }


def _stored(conn: Any, sid: str, platform: str | None = None) -> list[StoredViewer]:
    return [row for _, row in _stored_rows(conn, sid, platform)]


def _stored_rows(conn: Any, sid: str, platform: str | None) -> list[tuple[str, StoredViewer]]:
    """The session's viewers, each with the member bound to their id on that platform."""
    query = (
        "SELECT s.platform, s.viewer, s.kind, s.watch_time, s.commented, s.inviter, "
        "s.fetched_at, i.member_id FROM platform_stats s LEFT JOIN identities i "
        "ON i.platform = s.platform AND i.handle = s.viewer WHERE s.session_id = ?"
    )
    params: list[Any] = [sid]
    if platform is not None:
        query += " AND s.platform = ?"
        params.append(platform)
    return [
        (
            str(r[0]),
            StoredViewer(
                ViewerStat(str(r[1]), str(r[2]), int(r[3]), bool(r[4]), str(r[5])),
                None if r[7] is None else str(r[7]),
                float(r[6]),
            ),
        )
        for r in conn.execute(query, params)
    ]


def platform_reported(db: Any, sid: str) -> dict[str, dict[str, Any]]:
    """``/stats``' ``platform_reported``: each platform's summary (none: ``{}``)."""
    return rules.summaries(_stored_rows(db, sid, None))
