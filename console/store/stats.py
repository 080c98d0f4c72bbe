"""A session's review figures from its log (the pure ``console.domain.stats``), for /stats."""

from __future__ import annotations

from typing import Any

import orjson

from console.domain.segments import parse_segment
from console.domain.stats import stats_from_facts
from console.store.dialect import json_values
from console.store.invitations import funnel_json
from console.store.platform_stats import platform_reported
from console.store.replay_index import ReplayIndexes
from console.store.repurchase import repurchase_json
from console.store.reservations import reservations_json


def stats_for(db: Any, sid: str, indexes: ReplayIndexes, now: float) -> dict[str, Any]:
    """The stats from the session's index (its facts follow the log), with the audience,
    the pickup points' 团长 and KOC nicks; and the buyers' 30-day repurchase at ``now``
    (``repurchase``: as ``GET /sessions/{sid}/repurchase``)."""
    index = indexes.caught_up(db, sid)  # NotFound for an unknown session
    audience = {
        r[0]: parse_segment(r[1])
        for r in db.execute(
            "SELECT member_id, segment FROM session_audience WHERE session_id = ?", [sid]
        )
    }
    points = db.execute("SELECT id, leader, name FROM pickup_points").fetchall()
    leaders = {point: leader for point, leader, _ in points}
    point_names = {point: name for point, _, name in points}
    with index.lock:
        result = stats_from_facts(index.facts, audience, leaders)
        seq = index.state.seq
    referrers = [row["member_id"] for row in result["koc_leaderboard"]]
    if referrers:
        nicks = dict(
            db.execute(
                f"SELECT id, nick FROM members WHERE id IN {json_values(db)}",
                [_json_list(referrers)],
            ).fetchall()
        )
        for row in result["koc_leaderboard"]:
            row["nick"] = nicks.get(row["member_id"]) or ""
    for row in result["new_neighbours"]:  # the 团长's point by name, as the brand knows it
        row["point_name"] = point_names.get(row["pickup_point"], "")
    # What platforms report after the show, apart: never added to the log's own figures.
    result["platform_reported"] = platform_reported(db, sid)
    # After the show too: later sessions' and imported orders (console.domain.repurchase).
    result["repurchase"] = repurchase_json(db, sid, now)
    # Before the show: reservations and the invitation funnel (tables, folded by the domain).
    result["reservations"] = reservations_json(db, sid)
    result["invitation_funnel"] = funnel_json(db, sid)
    result["session_id"] = sid
    result["seq"] = seq
    return result


def _json_list(values: list[str]) -> str:
    return orjson.dumps(values).decode()
