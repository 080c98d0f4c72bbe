"""A session's review figures from its log (the pure ``console.domain.stats``), for /stats."""

from __future__ import annotations

from typing import Any

import orjson

from console.domain.segments import parse_segment
from console.domain.stats import session_stats
from console.store import repository

READ_CHUNK = 50_000


def stats_for(db: Any, sid: str) -> dict[str, Any]:
    """Fold the whole log with the audience, the pickup points' 团长 and KOC nicks."""
    repository.last_seq(db, sid)  # NotFound for an unknown session

    def events() -> Any:
        after = 0
        while True:
            chunk = repository.read_events(db, sid, after, READ_CHUNK)
            yield from chunk
            if len(chunk) < READ_CHUNK:
                return
            after = chunk[-1].seq

    audience = {
        r[0]: parse_segment(r[1])
        for r in db.execute(
            "SELECT member_id, segment FROM session_audience WHERE session_id = ?", [sid]
        )
    }
    leaders = dict(db.execute("SELECT id, leader FROM pickup_points").fetchall())
    result = session_stats(events(), audience, leaders)
    referrers = [row["member_id"] for row in result["koc_leaderboard"]]
    if referrers:
        nicks = dict(
            db.execute(
                "SELECT id, nick FROM members WHERE id IN (SELECT value FROM json_each(?))",
                [_json_list(referrers)],
            ).fetchall()
        )
        for row in result["koc_leaderboard"]:
            row["nick"] = nicks.get(row["member_id"]) or ""
    result["session_id"] = sid
    result["seq"] = repository.last_seq(db, sid)
    return result


def _json_list(values: list[str]) -> str:
    return orjson.dumps(values).decode()
