"""Members' platform handles (统一身份) and bind codes in the store.

The rules are ``console.domain.identities``; this module loads and keeps. Handles are shown
to the operator only (the API's member routes); the log keeps their pseudonyms.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlite_utils

from console.domain import identities as rules
from console.domain.decisions import RefusalKind, Refused
from console.domain.identities import BindCode, Handle
from console.store.schema import transaction

OPERATOR = "operator"
CODE = "code"


def _require_member(conn: sqlite3.Connection, member_id: str) -> None:
    if conn.execute("SELECT 1 FROM members WHERE id = ?", [member_id]).fetchone() is None:
        raise Refused(RefusalKind.NOT_FOUND, "member_id", f"会员 {member_id!r} 不存在")


def load_handle(conn: sqlite3.Connection, platform: str, handle: str) -> Handle:
    row = conn.execute(
        "SELECT member_id FROM identities WHERE platform = ? AND handle = ?", [platform, handle]
    ).fetchone()
    return Handle(platform, handle, None if row is None else str(row[0]))


def member_of(conn: sqlite3.Connection, platform: str, handle: str) -> str | None:
    """The member a handle is bound to, if any (ingest resolves events through this)."""
    return load_handle(conn, platform, handle).member_id


def save_binding(
    conn: sqlite3.Connection, handle: Handle, member_id: str, source: str, now: float
) -> None:
    conn.execute(
        "INSERT INTO identities (platform, handle, member_id, source, bound_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [handle.platform, handle.handle, member_id, source, now],
    )


def handles_of(conn: Any, member_id: str) -> list[dict[str, Any]]:
    return [
        {"platform": r[0], "handle": r[1], "source": r[2], "bound_at": r[3]}
        for r in conn.execute(
            "SELECT platform, handle, source, bound_at FROM identities WHERE member_id = ? "
            "ORDER BY platform, handle",
            [member_id],
        )
    ]


def put_identities(
    db: sqlite_utils.Database,
    member_id: str,
    handles: Sequence[Mapping[str, str]],
    clock: Callable[[], float],
) -> dict[str, Any]:
    """Bind each handle to the member (the operator's call, all or nothing): a handle bound to
    another member refuses the whole call. Answers the member's handles after."""
    with transaction(db) as conn:
        _require_member(conn, member_id)
        now = clock()
        added = 0
        for index, raw in enumerate(handles):
            try:
                platform, handle = rules.check_handle(raw["platform"], raw["handle"])
                found = load_handle(conn, platform, handle)
                if rules.bind_by_operator(found, member_id):
                    save_binding(conn, found, member_id, OPERATOR, now)
                    added += 1
            except Refused as refused:
                field = f"identities[{index}].{refused.refusal.field}"
                raise Refused(refused.refusal.kind, field, refused.refusal.reason) from None
        return {"member_id": member_id, "added": added, "identities": handles_of(conn, member_id)}


def issue_bind_code(
    db: sqlite_utils.Database, member_id: str, clock: Callable[[], float]
) -> dict[str, Any]:
    """A fresh 6-digit bind code for the member, valid ``BIND_CODE_TTL_S``; the member's
    earlier unused codes stop working (only the newest one read out binds)."""
    with transaction(db) as conn:
        _require_member(conn, member_id)
        now = clock()
        conn.execute(
            "DELETE FROM bind_codes WHERE expires_at <= ? OR member_id = ?", [now, member_id]
        )
        while True:
            code = rules.bind_code_from(secrets.randbelow(10**rules.BIND_CODE_DIGITS))
            taken = conn.execute("SELECT 1 FROM bind_codes WHERE code = ?", [code]).fetchone()
            if taken is None:
                break
        expires = now + rules.BIND_CODE_TTL_S
        conn.execute(
            "INSERT INTO bind_codes (code, member_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            [code, member_id, now, expires],
        )
    return {"member_id": member_id, "code": code, "expires_at": expires}


def load_code(conn: sqlite3.Connection, code: str) -> BindCode | None:
    row = conn.execute(
        "SELECT code, member_id, expires_at, used_at FROM bind_codes WHERE code = ?", [code]
    ).fetchone()
    if row is None:
        return None
    return BindCode(str(row[0]), str(row[1]), float(row[2]), row[3] is not None)


def use_code(conn: sqlite3.Connection, code: str, now: float) -> None:
    conn.execute("UPDATE bind_codes SET used_at = ? WHERE code = ?", [now, code])
