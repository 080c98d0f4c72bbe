"""Segmentation runs (分层计算): score every member, assign circles, keep the history.

A run aggregates orders and social actions per member in SQL, asks the domain whether it may
go (``console.domain.segment_run``: no live session unless forced, some purchase in the
window), scores and assigns in numpy (``console.domain``), applies manual overrides, and
stores per-member scores, the new circles, how it scored (for explanations) and the
transition matrix against the previous run's own records, in chunks so that ingest is never
locked out for long. Only finished runs are ever read.
"""

from __future__ import annotations

import itertools
import tomllib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import sqlite_utils

from console.domain.order_status import NOT_COUNTED
from console.domain.overrides import expired as override_expired
from console.domain.rfm import MemberAggregates, score
from console.domain.segment_explain import describe_run
from console.domain.segment_rules import RulesError, RuleSet, assign, parse_rules
from console.domain.segment_run import RunFacts, RunRequest, RunVerdict, decide_run
from console.domain.segments import ALL_SEGMENTS
from console.resources import resource_path
from console.store.dialect import binary, group_array
from console.store.postgres import is_postgres
from console.store.repository import live_session_count
from console.store.schema import connect, transaction

RULES_FILE = "segments/rules.toml"
_SEGMENT_NAMES = np.array([s.value for s in ALL_SEGMENTS])
CHINA = timezone(timedelta(hours=8))
DAY_S = 86_400.0
WRITE_CHUNK = 50_000
SCHEDULE_EVERY = timedelta(days=7)


class SegmentationError(RuntimeError):
    """A run cannot start (no members, bad rules)."""


class RunRefused(SegmentationError):
    """The domain said no (a live session, a window without orders): ``verdict`` says why."""

    def __init__(self, verdict: RunVerdict) -> None:
        super().__init__(verdict.reason_zh())
        self.verdict = verdict


def load_rules() -> RuleSet:
    return parse_rules(tomllib.loads(resource_path(RULES_FILE).read_text(encoding="utf-8")))


def today_in_china(now: float) -> date:
    return datetime.fromtimestamp(now, CHINA).date()


def end_of_day(as_of: date) -> float:
    """The first instant after ``as_of`` (China time): the run sees everything before it."""
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=CHINA).timestamp() + DAY_S


@dataclass(frozen=True)
class MemberTable:
    ids: list[str]
    aggregates: MemberAggregates
    previous: list[str | None]  # each member's circle as the previous run recorded it
    # (None: not in that run, a member new since)


# Each query answers with ONE row of JSON arrays: SQLite then does all of its work in a single
# sqlite3_step, without the GIL, so two of them really run at once (row by row, the threads
# would pass the GIL back and forth for every member).
def _members_sql(db: Any) -> str:
    return f"""
SELECT {group_array(db, "id", binary(db, "id"))}, {group_array(db, "segment", binary(db, "id"))}
FROM (SELECT m.id, p.segment FROM members AS m
      LEFT JOIN member_scores AS p ON p.run_id = :previous AND p.member_id = m.id
      ORDER BY {binary(db, "m.id")}) AS listed
"""


# Cancelled and refunded orders are no purchases: they count in neither F nor M.
_NOT_COUNTED = ", ".join(f"'{status.value}'" for status in NOT_COUNTED)


def _orders_sql(db: Any) -> str:
    columns = ("member_id", "last_ts", "frequency", "net")
    arrays = ", ".join(group_array(db, column, "member_id") for column in columns)
    return f"""
SELECT {arrays}
FROM (
    SELECT member_id,
           max(CASE WHEN amount > 0 THEN ts END) AS last_ts,
           sum(CASE WHEN amount > 0 THEN 1 ELSE 0 END) AS frequency,
           sum(amount) AS net
    FROM orders
    WHERE {binary(db, "member_id")} >= :low AND {binary(db, "member_id")} < :high
      AND ts >= :start AND ts < :end AND status NOT IN ({_NOT_COUNTED})
    GROUP BY member_id
) AS bought
"""


def _social_sql(db: Any) -> str:
    columns = ("member_id", "expansion")
    arrays = ", ".join(group_array(db, column, "member_id") for column in columns)
    return f"""
SELECT {arrays}
FROM (
    SELECT member_id,
           sum(CASE kind WHEN 'share' THEN :share WHEN 'invite' THEN :invite
                         ELSE :message END) AS expansion
    FROM social_actions
    WHERE ts >= :start AND ts < :end
    GROUP BY member_id
) AS shared
"""


ORDER_PARTS = 2  # member-id ranges of orders aggregated at once (SQLite scans without the GIL)
_HIGHEST = "\U0010ffff"


def _database_file(db: Any) -> str:
    """Where ``db`` is, for more connections to it (a file's path, or the server's URL)."""
    if is_postgres(db):
        return str(db.url)
    return str(db.execute("PRAGMA database_list").fetchone()[2])


def _ranges(db: sqlite_utils.Database, parts: int) -> list[tuple[str, str]]:
    total = int(db.execute("SELECT count(*) FROM members").fetchone()[0])
    cuts = [""]
    for part in range(1, parts):
        row = db.execute(
            f"SELECT id FROM members ORDER BY {binary(db, 'id')} LIMIT 1 OFFSET ?",
            [total * part // parts],
        ).fetchone()
        if row is not None and row[0] > cuts[-1]:
            cuts.append(row[0])
    cuts.append(_HIGHEST)
    return list(itertools.pairwise(cuts))


def _columns(path: str, sql: str, params: dict[str, Any]) -> list[list[Any]]:
    """The query's JSON arrays, parsed: one list per column."""
    db = connect(path)
    try:
        row = db.execute(sql, params).fetchone()
    finally:
        db.close()
    return [orjson.loads(column) for column in row]


def _positions(ids: npt.NDArray[np.str_], keys: list[str]) -> npt.NDArray[np.int64]:
    """Where each key (a member id from orders or shares) stands in the sorted member ids."""
    found = np.searchsorted(ids, np.array(keys, dtype=ids.dtype))
    found = np.minimum(found, len(ids) - 1)
    if not np.array_equal(ids[found], np.array(keys, dtype=ids.dtype)):
        raise SegmentationError("订单或分享记录里有不存在的会员")
    return found


def load_member_table(
    db: sqlite_utils.Database, rules: RuleSet, as_of: date, previous_run: int | None = None
) -> MemberTable:
    """Every member with their aggregates over the rules' window ending with ``as_of``.

    Recency counts days from the end of ``as_of``; returns and cancellations (negative
    amounts) do not count as purchases but are deducted from the spend, which never falls
    below zero. Members, orders (in member-id ranges) and shares are read by separate
    queries on their own connections, two at a time, and merged by member id.
    """
    end = end_of_day(as_of)
    window = {"start": end - rules.window_days * DAY_S, "end": end}
    path = _database_file(db)
    with ThreadPoolExecutor(max_workers=2) as pool:
        order_parts = [
            pool.submit(_columns, path, _orders_sql(db), {**window, "low": low, "high": high})
            for low, high in _ranges(db, ORDER_PARTS)
        ]
        members = pool.submit(_columns, path, _members_sql(db), {"previous": previous_run})
        social = pool.submit(_columns, path, _social_sql(db), {**window, **rules.expansion_weights})
        id_list, previous = members.result()
        orders = [part.result() for part in order_parts]
        social_ids, social_weights = social.result()
    if not id_list:
        return MemberTable([], _empty_aggregates(), [])
    ids = np.array(id_list)
    if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        raise SegmentationError("会员编号未按顺序读回")
    n = len(id_list)
    last = np.full(n, np.nan)
    frequency = np.zeros(n, dtype=np.int64)
    net = np.zeros(n)
    expansion = np.zeros(n)
    for keys, last_ts, counts, sums in orders:
        if keys:
            at = _positions(ids, keys)
            last[at] = np.array(last_ts, dtype=np.float64)  # None: no purchase, only returns
            frequency[at] = counts
            net[at] = sums
    if social_ids:
        expansion[_positions(ids, social_ids)] = social_weights
    return MemberTable(
        id_list,
        MemberAggregates(
            recency_days=(end - last) / DAY_S,
            frequency=frequency,
            monetary=np.maximum(net, 0.0),
            expansion=expansion,
        ),
        previous,
    )


def _empty_aggregates() -> MemberAggregates:
    empty = np.zeros(0)
    return MemberAggregates(empty, np.zeros(0, dtype=np.int64), empty, empty)


def expire_overrides(db: sqlite_utils.Database, now: float) -> int:
    """End overrides whose time is up: restore the rules' circle, audit each; returns how many."""
    with transaction(db) as conn:
        active = conn.execute(
            "SELECT id, member_id, segment, expires_at FROM overrides "
            "WHERE revoked_at IS NULL AND expires_at IS NOT NULL"
        ).fetchall()
        expired = [row[:3] for row in active if override_expired(row[3], now)]
        for override_id, member_id, segment in expired:
            conn.execute(
                "UPDATE overrides SET revoked_at = expires_at, revoked_by = 'expiry' WHERE id = ?",
                [override_id],
            )
            conn.execute(
                "UPDATE members SET segment = coalesce(computed_segment, segment) WHERE id = ? "
                "AND NOT EXISTS (SELECT 1 FROM overrides WHERE member_id = ? "
                "AND revoked_at IS NULL)",
                [member_id, member_id],
            )
            audit(
                conn,
                now,
                "expiry",
                "override_expired",
                member_id,
                {"override": override_id, "segment": segment},
            )
    return len(expired)


def next_override_expiry(db: sqlite_utils.Database) -> float | None:
    """When the next active override runs out (None: none will)."""
    row = db.execute(
        "SELECT min(expires_at) FROM overrides WHERE revoked_at IS NULL AND expires_at IS NOT NULL"
    ).fetchone()
    return None if row[0] is None else float(row[0])


def audit(
    conn: Any, ts: float, actor: str, action: str, member_id: str | None, details: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO audit_log (ts, actor, action, member_id, details) VALUES (?, ?, ?, ?, ?)",
        [ts, actor, action, member_id, orjson.dumps(details).decode()],
    )


def active_overrides(db: sqlite_utils.Database) -> dict[str, str]:
    # In id order, so that the newest of a member's overrides wins.
    rows = db.execute(
        "SELECT member_id, segment FROM overrides WHERE revoked_at IS NULL ORDER BY id"
    )
    return dict(rows.fetchall())


def newest_order_day(db: sqlite_utils.Database) -> date | None:
    """The day (China time) of the newest purchase in the store, if any (a cancelled or
    refunded order is no purchase)."""
    row = db.execute(
        f"SELECT max(ts) FROM orders WHERE amount > 0 AND status NOT IN ({_NOT_COUNTED})"
    ).fetchone()
    return None if row[0] is None else today_in_china(float(row[0]))


def run_segmentation(
    db: sqlite_utils.Database,
    as_of: date | None,
    clock: Callable[[], float],
    trigger: str = "cli",
    actor: str = "cli",
    rules: RuleSet | None = None,
    window_days: int | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Score and assign every member as of ``as_of`` (default: the clock's day, China time)
    over the rules' window or ``window_days``; ``RunRefused`` when the domain says no.

    Overrides are expired by the clock (when the run happens), not by ``as_of``."""
    rules = rules or load_rules()
    started = clock()
    request = RunRequest(as_of, rules.window_days if window_days is None else window_days, force)
    try:
        rules = rules.with_window(window_days)
    except RulesError:
        raise RunRefused(
            decide_run(request, RunFacts(today_in_china(started), 0, None, 0))
        ) from None
    as_of = as_of or today_in_china(started)
    previous = latest_run_id(db)
    table = load_member_table(db, rules, as_of, previous)
    if not table.ids:
        raise SegmentationError("没有可分群的会员：请先导入会员或订单")
    buyers = int(table.aggregates.active.sum())
    facts = RunFacts(
        today=today_in_china(started),
        live_sessions=live_session_count(db),
        newest_order=None if buyers else newest_order_day(db),
        buyers_in_window=buyers,
    )
    verdict = decide_run(request, facts)
    if not verdict.go:
        raise RunRefused(verdict)
    expire_overrides(db, started)
    scores = score(table.aggregates, rules.scoring, rules.window_days)
    assignment = assign(rules, scores, table.aggregates)
    rule_segments: list[str] = _SEGMENT_NAMES[assignment.segment].tolist()
    overrides = active_overrides(db)
    applied = (
        [overrides.get(member, seg) for member, seg in zip(table.ids, rule_segments, strict=True)]
        if overrides
        else rule_segments
    )

    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO segment_runs (as_of, as_of_ts, window_days, rules_version, trigger, "
            "actor, started_at, previous_run, scoring) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            [
                as_of.isoformat(),
                end_of_day(as_of),
                rules.window_days,
                rules.version,
                trigger,
                actor,
                started,
                previous,
                orjson.dumps(describe_run(rules, scores.cuts)).decode(),
            ],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        raise SegmentationError("无法记录本次分群")
    run_id = int(inserted[0])
    _write_scores(db, run_id, table, scores, assignment, rule_segments, applied)
    counts = Counter(applied)
    summary = {
        "members": len(table.ids),
        "active": int(table.aggregates.active.sum()),
        "counts": {s.value: counts.get(s.value, 0) for s in ALL_SEGMENTS},
        "koc": int(assignment.koc.sum()),
    }
    moves = Counter(zip((c or "" for c in table.previous), applied, strict=True))
    with transaction(db) as conn:
        conn.executemany(
            "INSERT INTO segment_transitions (run_id, from_segment, to_segment, members) "
            "VALUES (?, ?, ?, ?)",
            [(run_id, source, target, n) for (source, target), n in sorted(moves.items())],
        )
        conn.execute(
            "UPDATE segment_runs SET finished_at = ?, members = ?, active = ?, counts = ?, "
            "koc = ? WHERE id = ?",
            [
                finished := clock(),
                summary["members"],
                summary["active"],
                orjson.dumps(summary["counts"]).decode(),
                summary["koc"],
                run_id,
            ],
        )
        audit(
            conn,
            finished,
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
    """Per-member scores of this run; members' circles where they changed. In chunks."""
    aggregates = table.aggregates
    columns = zip(
        itertools.repeat(run_id, len(table.ids)),
        table.ids,
        np.round(aggregates.recency_days, 3).tolist(),  # NaN binds as NULL
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
    while chunk := list(itertools.islice(columns, WRITE_CHUNK)):
        with transaction(db) as conn:
            conn.executemany(
                "INSERT INTO member_scores (run_id, member_id, recency_days, frequency, "
                "monetary, expansion, r, f, m, x, rule_segment, segment, koc, rule) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                chunk,
            )
            conn.execute(
                "UPDATE members SET segment = s.segment, computed_segment = s.rule_segment, "
                "koc = s.koc FROM member_scores AS s "
                "WHERE s.run_id = ? AND s.member_id = members.id "
                f"AND {binary(conn, 'members.id')} >= ? AND {binary(conn, 'members.id')} <= ? "
                "AND (members.segment, members.computed_segment, members.koc) "
                "IS DISTINCT FROM (s.segment, s.rule_segment, s.koc)",
                [run_id, chunk[0][1], chunk[-1][1]],
            )


def get_run(db: sqlite_utils.Database, run_id: int) -> dict[str, Any]:
    row = db.execute("SELECT * FROM segment_runs WHERE id = ?", [run_id]).fetchone()
    if row is None:
        raise LookupError(f"没有这次分群：{run_id}")
    names = [d[0] for d in db.execute("SELECT * FROM segment_runs LIMIT 0").description]
    run = dict(zip(names, row, strict=True))
    run["counts"] = orjson.loads(run["counts"])
    run["scoring"] = orjson.loads(run.get("scoring") or "{}")
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


def is_due(db: sqlite_utils.Database, now: float) -> bool:
    """The weekly schedule: a run is due when none finished in the last seven days."""
    row = db.execute("SELECT max(finished_at) FROM segment_runs").fetchone()
    return row[0] is None or now - row[0] >= SCHEDULE_EVERY.total_seconds()
