"""Role tokens: created once, stored only as SHA-256 hashes, checked on every request."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import sqlite_utils

TOKEN_PREFIX = "lc_"


class Role(StrEnum):
    """Who holds a token (角色)."""

    HOST = "host"
    ASSISTANT = "assistant"
    OPERATOR = "operator"
    INGEST = "ingest"
    OVERLAY = "overlay"  # a stream overlay (直播贴片): reads the overlay page and nothing else
    LEADER = "leader"  # a 团长: their pickup point's page and tasks, nothing of other points


class Permission(StrEnum):
    READ = "read"  # sessions, log, stream, state
    COMMAND = "command"  # floor-assistant commands
    INGEST = "ingest"  # room events from the platform or the simulator
    MANAGE = "manage"  # sessions, catalog, members, segmentation, reports
    OVERLAY = "overlay"  # the stream overlay: public figures only (console.domain.overlay)
    LEADER = "leader"  # a 团长's page and their own tasks, scoped to the token's point


ROLE_NAMES: dict[Role, str] = {
    Role.HOST: "主播",
    Role.ASSISTANT: "场控",
    Role.OPERATOR: "运营",
    Role.INGEST: "接入",
    Role.OVERLAY: "直播叠加层",
    Role.LEADER: "团长",
}
"""Each role as users call it (error messages, the command line)."""

PERMISSION_NAMES: dict[Permission, str] = {
    Permission.READ: "查看",
    Permission.COMMAND: "发指令",
    Permission.INGEST: "接入事件",
    Permission.MANAGE: "管理",
    Permission.OVERLAY: "打开直播叠加层",
    Permission.LEADER: "打开团长页面",
}
"""Each permission as users call it: "角色 主播 无权管理"."""


def role_name(role: Role | str) -> str:
    """``Role.HOST`` -> "主播"; a value that is no role stays as it is."""
    try:
        return ROLE_NAMES[Role(role)]
    except ValueError:
        return str(role)


def refusal(role: Role, permission: Permission | str) -> str:
    """ "角色 主播 无权管理": the one wording of a 403 (``permission`` a Permission or a
    phrase such as "处理回访任务")."""
    what = PERMISSION_NAMES[permission] if isinstance(permission, Permission) else permission
    return f"角色 {role_name(role)} 无权{what}"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.HOST: frozenset({Permission.READ}),
    Role.ASSISTANT: frozenset({Permission.READ, Permission.COMMAND}),
    # An overlay URL sits in a streaming program's settings: only an overlay token goes there.
    # A 团长's page is scoped to a point: only a leader token (which carries one) opens it.
    Role.OPERATOR: frozenset(Permission) - {Permission.OVERLAY, Permission.LEADER},
    Role.INGEST: frozenset({Permission.INGEST}),
    Role.OVERLAY: frozenset({Permission.OVERLAY}),
    Role.LEADER: frozenset({Permission.LEADER}),
}


class UnknownPoint(ValueError):
    """A leader token for a pickup point the store does not have (or none given)."""


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a plain hash is as strong as a slow KDF here.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: sqlite_utils.Database, role: Role, label: str = "", point: str = "") -> str:
    """Store a new token's hash and return the token (shown once, never stored). A leader
    token carries its pickup point (``point``, which must exist); other roles none."""
    point = point.strip()
    if role is Role.LEADER:
        if not point:
            raise UnknownPoint("团长令牌需要自提点：--leader POINT_ID")
        if db.execute("SELECT 1 FROM pickup_points WHERE id = ?", [point]).fetchone() is None:
            raise UnknownPoint(f"没有这个自提点：{point[:60]!r}")
    elif point:
        raise UnknownPoint(f"只有团长令牌带自提点（角色 {role_name(role)}）")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.execute(
        "INSERT INTO tokens (hash, role, label, created_at, point_id) VALUES (?, ?, ?, ?, ?)",
        [hash_token(token), role.value, label, time.time(), point],
    )
    return token


def revoke_token(db: sqlite_utils.Database, token: str) -> bool:
    cursor = db.execute(
        "UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL",
        [time.time(), hash_token(token)],
    )
    return cursor.rowcount > 0


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's role and label (the label names them in the audit log)."""

    role: Role
    label: str
    point: str = ""  # a leader's pickup point

    @property
    def name(self) -> str:
        return self.label or f"{self.role.value} token"


def caller_of(db: sqlite_utils.Database, token: str) -> Caller | None:
    """The holder of a valid, unrevoked token, else None."""
    row = db.execute(
        "SELECT role, label, point_id FROM tokens WHERE hash = ? AND revoked_at IS NULL",
        [hash_token(token)],
    ).fetchone()
    return Caller(Role(row[0]), row[1] or "", row[2] or "") if row else None
