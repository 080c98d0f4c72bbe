"""Segmentation runs (分层计算): score every member, assign circles, keep the history.

A run aggregates orders and social actions per member in SQL, scores and assigns in numpy
(``console.domain``), applies manual overrides, and stores per-member scores, the new
circles and the transition matrix against the previous run, in chunks so that ingest is
never locked out for long. Only finished runs are ever read.
"""

from __future__ import annotations

import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import orjson
import sqlite_utils

from console.domain.rfm import MemberAggregates, explain, score
from console.domain.segment_rules import RuleSet, assign, parse_rules
from console.domain.segments import ALL_SEGMENTS
from console.resources import resource_path
from console.store.schema import transaction

RULES_FILE = "segments/rules.toml"
CHINA = timezone(timedelta(hours=8))
DAY_S = 86_400.0
WRITE_CHUNK = 50_000
SCHEDULE_EVERY = timedelta(days=7)


class SegmentationError(RuntimeError):
    """A run cannot start (no members, a live session without force, bad rules)."""


def load_rules() -> RuleSet:
    return parse_rules(tomllib.loads(resource_path(RULES_FILE).read_text(encoding="utf-8")))


def today_in_china(now: float | None = None) -> date:
    return datetime.fromtimestamp(time.time() if now is None else now, CHINA).date()


def end_of_day(as_of: date) -> float:
    """The first instant after ``as_of`` (China time): the run sees everything before it."""
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=CHINA).timestamp() + DAY_S


@dataclass(frozen=True)
class MemberTable:
    ids: list[str]
    aggregates: MemberAggregates


_AGGREGATE = """
WITH o AS (
    SELECT member_id,
           max(CASE WHEN amount > 0 THEN ts END) AS last_ts,
           sum(amount > 0) AS frequency,
           sum(amount) AS net
    FROM orders WHERE ts >= :start AND ts < :end
    GROUP BY member_id
), s AS (
    SELECT member_id,
           sum(CASE kind WHEN 'share' THEN :share WHEN 'invite' THEN :invite
                         ELSE :message END) AS expansion
    FROM social_actions WHERE ts >= :start AND ts < :end
    GROUP BY member_id
)
SELECT m.id, o.last_ts, coalesce(o.frequency, 0), coalesce(o.net, 0.0),
       coalesce(s.expansion, 0.0)
FROM members AS m
LEFT JOIN o ON o.member_id = m.id
LEFT JOIN s ON s.member_id = m.id
ORDER BY m.id
"""


def load_member_table(db: sqlite_utils.Database, rules: RuleSet, as_of: date) -> MemberTable:
    """Every member with their aggregates over the rules' window ending with ``as_of``.

    Recency counts days from the end of ``as_of``; returns and cancellations (negative
    amounts) do not count as purchases but are deducted from the spend, which never falls
    below zero.
    """
    end = end_of_day(as_of)
    params = {"start": end - rules.window_days * DAY_S, "end": end, **rules.expansion_weights}
    rows = db.execute(_AGGREGATE, params).fetchall()
    if not rows:
        return MemberTable([], _empty_aggregates())
    ids, last_ts, frequency, net, expansion = zip(*rows, strict=True)
    last = np.array([np.nan if t is None else t for t in last_ts], dtype=np.float64)
    return MemberTable(
        list(ids),
        MemberAggregates(
            recency_days=(end - last) / DAY_S,
            frequency=np.array(frequency, dtype=np.int64),
            monetary=np.maximum(np.array(net, dtype=np.float64), 0.0),
            expansion=np.array(expansion, dtype=np.float64),
        ),
    )


def _empty_aggregates() -> MemberAggregates:
    empty = np.zeros(0)
    return MemberAggregates(empty, np.zeros(0, dtype=np.int64), empty, empty)


def expire_overrides(db: sqlite_utils.Database, now: float | None = None) -> int:
    """End overrides whose time is up: restore the rules' circle, audit each; returns how many."""
    now = time.time() if now is None else now
    with transaction(db) as conn:
        expired = conn.execute(
            "UPDATE overrides SET revoked_at = expires_at, revoked_by = 'expiry' "
            "WHERE revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ? "
            "RETURNING id, member_id, segment",
            [now],
        ).fetchall()
        for override_id, member_id, segment in expired:
            conn.execute(
                "UPDATE members SET segment = coalesce(computed_segment, segment) WHERE id = ? "
                "AND NOT EXISTS (SELECT 1 FROM overrides WHERE member_id = ? "
                "AND revoked_at IS NULL)",
                [member_id, member_id],
            )
            audit(
                conn,
                "expiry",
                "override_expired",
                member_id,
                {"override": override_id, "segment": segment},
            )
    return len(expired)


def audit(
    conn: Any, actor: str, action: str, member_id: str | None, details: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO audit_log (ts, actor, action, member_id, details) VALUES (?, ?, ?, ?, ?)",
        [time.time(), actor, action, member_id, orjson.dumps(details).decode()],
    )


def active_overrides(db: sqlite_utils.Database) -> dict[str, str]:
    # In id order, so that the newest of a member's overrides wins.
    rows = db.execute(
        "SELECT member_id, segment FROM overrides WHERE revoked_at IS NULL ORDER BY id"
    )
    return dict(rows.fetchall())


def run_segmentation(
    db: sqlite_utils.Database,
    as_of: date | None = None,
    trigger: str = "cli",
    actor: str = "cli",
    rules: RuleSet | None = None,
) -> dict[str, Any]:
    """Score and assign every member as of ``as_of`` (default: today, China time)."""
    rules = rules or load_rules()
    as_of = as_of or today_in_china()
    expire_overrides(db)
    table = load_member_table(db, rules, as_of)
    if not table.ids:
        raise SegmentationError("no members to segment: import members or orders first")
    scores = score(table.aggregates)
    assignment = assign(rules, scores, table.aggregates)
    rule_segments = [ALL_SEGMENTS[i].value for i in assignment.segment]
    overrides = active_overrides(db)
    applied = [
        overrides.get(member, seg) for member, seg in zip(table.ids, rule_segments, strict=True)
    ]

    previous = db.execute(
        "SELECT max(id) FROM segment_runs WHERE finished_at IS NOT NULL"
    ).fetchone()[0]
    started = time.time()
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO segment_runs (as_of, as_of_ts, window_days, rules_version, trigger, "
            "actor, started_at, previous_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                as_of.isoformat(),
                end_of_day(as_of),
                rules.window_days,
                rules.version,
                trigger,
                actor,
                started,
                previous,
            ],
        )
    if cursor.lastrowid is None:
        raise SegmentationError("the run could not be recorded")
    run_id = int(cursor.lastrowid)
    _write_scores(db, run_id, table, scores, assignment, rule_segments, applied)
    counts = Counter(applied)
    summary = {
        "members": len(table.ids),
        "active": int(table.aggregates.active.sum()),
        "counts": {s.value: counts.get(s.value, 0) for s in ALL_SEGMENTS},
        "koc": int(assignment.koc.sum()),
    }
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO segment_transitions (run_id, from_segment, to_segment, members) "
            "SELECT ?, coalesce(p.segment, ''), c.segment, count(*) FROM member_scores AS c "
            "LEFT JOIN member_scores AS p ON p.run_id = ? AND p.member_id = c.member_id "
            "WHERE c.run_id = ? GROUP BY 2, 3",
            [run_id, previous, run_id],
        )
        conn.execute(
            "UPDATE segment_runs SET finished_at = ?, members = ?, active = ?, counts = ?, "
            "koc = ? WHERE id = ?",
            [
                time.time(),
                summary["members"],
                summary["active"],
                orjson.dumps(summary["counts"]).decode(),
                summary["koc"],
                run_id,
            ],
        )
        audit(
            conn,
            actor,
            "segmentation_run",
            None,
            {"run": run_id, "as_of": as_of.isoformat(), "rules": rules.version, **summary},
        )
    return get_run(db, run_id)


def _write_scores(
    db: sqlite_utils.Database,
    run_id: int,
    table: MemberTable,
    scores: Any,
    assignment: Any,
    rule_segments: list[str],
    applied: list[str],
) -> None:
    aggregates = table.aggregates
    recency = [None if np.isnan(d) else round(float(d), 3) for d in aggregates.recency_days]
    columns = zip(
        table.ids,
        recency,
        aggregates.frequency.tolist(),
        np.round(aggregates.monetary, 2).tolist(),
        np.round(aggregates.expansion, 3).tolist(),
        scores.r.tolist(),
        scores.f.tolist(),
        scores.m.tolist(),
        scores.x.tolist(),
        rule_segments,
        applied,
        assignment.koc.astype(int).tolist(),
        assignment.rule.tolist(),
        strict=True,
    )
    rows = [(run_id, *row) for row in columns]
    for start in range(0, len(rows), WRITE_CHUNK):
        chunk = rows[start : start + WRITE_CHUNK]
        with transaction(db) as conn:
            conn.executemany(
                "INSERT INTO member_scores (run_id, member_id, recency_days, frequency, "
                "monetary, expansion, r, f, m, x, rule_segment, segment, koc, rule) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                chunk,
            )
            conn.execute(
                "UPDATE members SET segment = s.segment, computed_segment = s.rule_segment, "
                "koc = s.koc, last_run = s.run_id FROM member_scores AS s "
                "WHERE s.run_id = ? AND s.member_id = members.id "
                "AND members.id >= ? AND members.id <= ?",
                [run_id, chunk[0][1], chunk[-1][1]],
            )


def get_run(db: sqlite_utils.Database, run_id: int) -> dict[str, Any]:
    row = db.execute("SELECT * FROM segment_runs WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise LookupError(f"segmentation run {run_id} not found")
    names = [d[0] for d in db.execute("SELECT * FROM segment_runs LIMIT 0").description]
    run = dict(zip(names, row, strict=True))
    run["counts"] = orjson.loads(run["counts"])
    run["transitions"] = [
        {"from": f, "to": t, "members": n}
        for f, t, n in db.execute(
            "SELECT from_segment, to_segment, members FROM segment_transitions "
            "WHERE run_id = ? ORDER BY from_segment, to_segment",
            [run_id],
        )
    ]
    return run


def latest_run_id(db: sqlite_utils.Database) -> int | None:
    row = db.execute("SELECT max(id) FROM segment_runs WHERE finished_at IS NOT NULL").fetchone()
    return None if row[0] is None else int(row[0])


def list_runs(db: sqlite_utils.Database, limit: int = 50) -> list[dict[str, Any]]:
    return [
        {
            "id": r[0],
            "as_of": r[1],
            "rules_version": r[2],
            "trigger": r[3],
            "actor": r[4],
            "finished_at": r[5],
            "members": r[6],
            "counts": orjson.loads(r[7]),
        }
        for r in db.execute(
            "SELECT id, as_of, rules_version, trigger, actor, finished_at, members, counts "
            "FROM segment_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            [limit],
        )
    ]


def is_due(db: sqlite_utils.Database, now: float | None = None) -> bool:
    """The weekly schedule: a run is due when none finished in the last seven days."""
    now = time.time() if now is None else now
    row = db.execute("SELECT max(finished_at) FROM segment_runs").fetchone()
    return row[0] is None or now - row[0] >= SCHEDULE_EVERY.total_seconds()


def member_explanation(row: dict[str, Any]) -> str:
    return explain(row["rule_segment"], row["r"], row["f"], row["m"], row["x"], bool(row["koc"]))
