"""The operator's member list (会员分层名单): by circle, searchable, masked unless revealed."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from console.domain.rfm import explain
from console.store.overrides import active_override, audit_trail
from console.store.repository import NotFound
from console.store.segmentation import latest_run_id

MAX_PAGE = 500

_SELECT = """
SELECT m.id, m.nick, m.name, m.phone, m.segment, m.computed_segment, m.koc, m.opted_out,
       m.city, m.tags, s.r, s.f, s.m, s.x, s.rule_segment, s.frequency, s.monetary,
       s.recency_days, s.expansion, o.segment, o.reason, o.author, o.expires_at
FROM members AS m
LEFT JOIN member_scores AS s ON s.run_id = :run AND s.member_id = m.id
LEFT JOIN overrides AS o ON o.member_id = m.id AND o.revoked_at IS NULL
"""
_WHERE = """
WHERE (:segment IS NULL OR m.segment = :segment)
  AND (:query IS NULL OR m.id LIKE :query || '%' OR m.name LIKE '%' || :query || '%'
       OR m.tags LIKE '%' || :query || '%' OR m.city = :query)
"""


def _row(row: tuple[Any, ...], reveal: bool) -> dict[str, Any]:
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
    ) = row
    result: dict[str, Any] = {
        "id": member_id,
        "nick": nick or "",
        "segment": segment,
        "computed_segment": computed,
        "koc": bool(koc),
        "opted_out": bool(opted_out),
        "city": city or "",
        "tags": [t for t in (tags or "").split(";") if t],
        "scores": None if r is None else {"r": r, "f": f, "m": m, "x": x},
        "facts": None
        if r is None
        else {
            "frequency": frequency,
            "monetary": monetary,
            "recency_days": recency,
            "expansion": expansion,
        },
        "explanation": "" if r is None else explain(rule_segment, r, f, m, x, bool(koc)),
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
    params = {
        "run": latest_run_id(db),
        "segment": segment,
        "query": query or None,
        "limit": min(limit, MAX_PAGE),
        "offset": offset,
    }
    total = db.execute("SELECT count(*) FROM members AS m" + _WHERE, params).fetchone()[0]
    rows = db.execute(_SELECT + _WHERE + " ORDER BY m.id LIMIT :limit OFFSET :offset", params)
    return {"total": total, "members": [_row(row, reveal) for row in rows]}


def member_detail(
    db: sqlite_utils.Database, member_id: str, reveal: bool = False
) -> dict[str, Any]:
    params = {"run": latest_run_id(db), "member": member_id}
    row = db.execute(_SELECT + " WHERE m.id = :member", params).fetchone()
    if row is None:
        raise NotFound(f"没有这位会员：{member_id!r}")
    detail = _row(row, reveal)
    detail["override"] = active_override(db, member_id)
    detail["audit"] = audit_trail(db, member_id)
    return detail
