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
        raise UnknownPoint(f"只有团长令牌带自提点（角色 {role.value}）")
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
