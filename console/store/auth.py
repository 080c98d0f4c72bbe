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


class Permission(StrEnum):
    READ = "read"  # sessions, log, stream, state
    COMMAND = "command"  # floor-assistant commands
    INGEST = "ingest"  # room events from the platform or the simulator
    MANAGE = "manage"  # sessions, catalog, members, segmentation, reports
    OVERLAY = "overlay"  # the stream overlay: public figures only (console.domain.overlay)


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.HOST: frozenset({Permission.READ}),
    Role.ASSISTANT: frozenset({Permission.READ, Permission.COMMAND}),
    # An overlay URL sits in a streaming program's settings: only an overlay token goes there.
    Role.OPERATOR: frozenset(Permission) - {Permission.OVERLAY},
    Role.INGEST: frozenset({Permission.INGEST}),
    Role.OVERLAY: frozenset({Permission.OVERLAY}),
}


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a plain hash is as strong as a slow KDF here.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: sqlite_utils.Database, role: Role, label: str = "") -> str:
    """Store a new token's hash and return the token (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.execute(
        "INSERT INTO tokens (hash, role, label, created_at) VALUES (?, ?, ?, ?)",
        [hash_token(token), role.value, label, time.time()],
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

    @property
    def name(self) -> str:
        return self.label or f"{self.role.value} token"


def caller_of(db: sqlite_utils.Database, token: str) -> Caller | None:
    """The holder of a valid, unrevoked token, else None."""
    row = db.execute(
        "SELECT role, label FROM tokens WHERE hash = ? AND revoked_at IS NULL", [hash_token(token)]
    ).fetchone()
    return Caller(Role(row[0]), row[1] or "") if row else None
