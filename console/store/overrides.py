"""Manual overrides (手动微调): an operator puts a member in a circle, with a reason.

An override applies at once, survives segmentation runs until it expires or is revoked,
and every change is written to the audit log.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlite_utils

from console.domain.overrides import check_override
from console.domain.segments import Segment
from console.store.repository import NotFound
from console.store.schema import transaction
from console.store.segmentation import audit


def set_override(
    db: sqlite_utils.Database,
    member_id: str,
    segment: Segment,
    reason: str,
    author: str,
    expires_at: float | None,
    now: float,
) -> dict[str, Any]:
    """Put ``member_id`` in ``segment`` from ``now`` on; replaces an active override."""
    reason = check_override(reason, expires_at, now)
    with transaction(db) as conn:
        if conn.execute("SELECT 1 FROM members WHERE id = ?", [member_id]).fetchone() is None:
            raise NotFound(f"没有这位会员：{member_id!r}")
        conn.execute(
            "UPDATE overrides SET revoked_at = ?, revoked_by = ? "
            "WHERE member_id = ? AND revoked_at IS NULL",
            [now, author, member_id],
        )
        cursor = conn.execute(
            "INSERT INTO overrides (member_id, segment, reason, author, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [member_id, segment.value, reason, author, now, expires_at],
        )
        override_id = int(cursor.fetchone()[0])
        conn.execute("UPDATE members SET segment = ? WHERE id = ?", [segment.value, member_id])
        audit(
            conn,
            now,
            author,
            "override_set",
            member_id,
            {
                "override": override_id,
                "segment": segment.value,
                "reason": reason,
                "expires_at": expires_at,
            },
        )
    return active_override(db, member_id) or {}


def revoke_override(db: sqlite_utils.Database, member_id: str, actor: str, now: float) -> bool:
    """End the member's override and restore the rules' circle; False if there was none."""
    with transaction(db) as conn:
        ended = conn.execute(
            "UPDATE overrides SET revoked_at = ?, revoked_by = ? "
            "WHERE member_id = ? AND revoked_at IS NULL RETURNING id, segment",
            [now, actor, member_id],
        ).fetchall()
        if not ended:
            return False
        conn.execute(
            "UPDATE members SET segment = coalesce(computed_segment, segment) WHERE id = ?",
            [member_id],
        )
        for override_id, segment in ended:
            audit(
                conn,
                now,
                actor,
                "override_revoked",
                member_id,
                {"override": override_id, "segment": segment},
            )
    return True


def active_override(db: sqlite_utils.Database, member_id: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT id, segment, reason, author, created_at, expires_at FROM overrides "
        "WHERE member_id = ? AND revoked_at IS NULL ORDER BY id DESC LIMIT 1",
        [member_id],
    ).fetchone()
    if row is None:
        return None
    keys = ("id", "segment", "reason", "author", "created_at", "expires_at")
    return dict(zip(keys, row, strict=True))


def audit_trail(db: sqlite_utils.Database, member_id: str) -> list[dict[str, Any]]:
    return [
        {"ts": ts, "actor": actor, "action": action, "details": orjson.loads(details)}
        for ts, actor, action, details in db.execute(
            "SELECT ts, actor, action, details FROM audit_log WHERE member_id = ? ORDER BY id",
            [member_id],
        )
    ]
