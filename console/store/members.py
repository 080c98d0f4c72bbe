"""The operator's member list (会员分层名单): by circle, searchable, masked unless revealed."""

from __future__ import annotations

from typing import Any

import orjson
import sqlite_utils

from console.domain.rfm import explain
from console.domain.segment_explain import NO_ORDERS, explain_member
from console.store.overrides import active_override, audit_trail
from console.store.repository import NotFound
from console.store.segmentation import latest_run_id

MAX_PAGE = 500

_SELECT = """
SELECT m.id, m.nick, m.name, m.phone, m.segment, m.computed_segment, m.koc, m.opted_out,
       m.city, m.tags, s.r, s.f, s.m, s.x, s.rule_segment, s.frequency, s.monetary,
       s.recency_days, s.expansion, o.segment, o.reason, o.author, o.expires_at, s.rule
FROM members AS m
LEFT JOIN member_scores AS s ON s.run_id = :run AND s.member_id = m.id
LEFT JOIN overrides AS o ON o.member_id = m.id AND o.revoked_at IS NULL
"""
_WHERE = """
WHERE (CAST(:segment AS TEXT) IS NULL OR m.segment = :segment)
  AND (CAST(:query AS TEXT) IS NULL OR m.id LIKE :query || '%' OR m.name LIKE '%' || :query || '%'
       OR m.tags LIKE '%' || :query || '%' OR m.city = :query)
"""


def _run_scoring(db: sqlite_utils.Database, run: int | None) -> dict[str, Any]:
    """How the run scored (for explanations); {} for a run from before schema v10."""
    if run is None:
        return {}
    row = db.execute("SELECT scoring FROM segment_runs WHERE id = ?", [run]).fetchone()
    return dict(orjson.loads(row[0] or "{}")) if row else {}


def _explanation(
    scoring: dict[str, Any],
    rule_segment: str,
    rule: int,
    scores: dict[str, int],
    facts: dict[str, Any],
    koc: bool,
) -> str:
    if not scoring:  # a run from before runs kept how they scored
        return explain(rule_segment, scores["r"], scores["f"], scores["m"], scores["x"], koc)
    return explain_member(scoring, rule, rule_segment, scores, facts, koc)


def _row(row: tuple[Any, ...], reveal: bool, scoring: dict[str, Any]) -> dict[str, Any]:
    (
        member_id,
        nick,
        name,
        phone,
        segment,
        computed,
        koc,
        opted_out,
        city,
        tags,
        r,
        f,
        m,
        x,
        rule_segment,
        frequency,
        monetary,
        recency,
        expansion,
        o_segment,
        o_reason,
        o_author,
        o_expires,
        rule,
    ) = row
    facts = {
        "frequency": frequency,
        "monetary": monetary,
        "recency_days": recency,
        "expansion": expansion,
    }
    in_window = rule != NO_ORDERS
    result: dict[str, Any] = {
        "id": member_id,
        "nick": nick or "",
        "segment": segment,
        "computed_segment": computed,
        "koc": bool(koc),
        "opted_out": bool(opted_out),
        "city": city or "",
        "tags": [t for t in (tags or "").split(";") if t],
        # No order in the window: R, F and M were not scored, so none are shown (such a
        # member must not look like an active member with low scores).
        "scores": None
        if r is None
        else {"r": r, "f": f, "m": m, "x": x}
        if in_window
        else {"r": None, "f": None, "m": None, "x": x},
        "facts": None if r is None else facts,
        "in_window": None if r is None else in_window,
        "explanation": ""
        if r is None
        else _explanation(
            scoring, rule_segment, rule, {"r": r, "f": f, "m": m, "x": x}, facts, bool(koc)
        ),
        "override": None
        if o_segment is None
        else {
            "segment": o_segment,
            "reason": o_reason,
            "author": o_author,
            "expires_at": o_expires,
        },
    }
    if reveal:
        result["name"] = name or ""
        result["phone"] = phone or ""
    return result


def query_members(
    db: sqlite_utils.Database,
    segment: str | None = None,
    query: str | None = None,
    limit: int = 50,
    offset: int = 0,
    reveal: bool = False,
) -> dict[str, Any]:
    """A page of members (by id), with the total that matched."""
    run = latest_run_id(db)
    params = {
        "run": run,
        "segment": segment,
        "query": query or None,
        "limit": min(limit, MAX_PAGE),
        "offset": offset,
    }
    total = db.execute("SELECT count(*) FROM members AS m" + _WHERE, params).fetchone()[0]
    rows = db.execute(_SELECT + _WHERE + " ORDER BY m.id LIMIT :limit OFFSET :offset", params)
    scoring = _run_scoring(db, run)
    return {"total": total, "members": [_row(row, reveal, scoring) for row in rows]}


def member_detail(
    db: sqlite_utils.Database, member_id: str, reveal: bool = False
) -> dict[str, Any]:
    run = latest_run_id(db)
    params = {"run": run, "member": member_id}
    row = db.execute(_SELECT + " WHERE m.id = :member", params).fetchone()
    if row is None:
        raise NotFound(f"没有这位会员：{member_id!r}", field="member_id")
    detail = _row(row, reveal, _run_scoring(db, run))
    detail["override"] = active_override(db, member_id)
    detail["audit"] = audit_trail(db, member_id)
    return detail
