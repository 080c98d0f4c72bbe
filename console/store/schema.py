"""The store's schema: on SQLite (created through sqlite-utils, in WAL mode) or PostgreSQL.

SQLite records its version in ``PRAGMA user_version``, PostgreSQL in the table
``schema_version``; ``open_store`` migrates either forward. Versions 1 to 13 grew on SQLite
(below); PostgreSQL starts from their sum (``schema_postgres``); every later version is
one portable step in ``migrations`` that both run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from console.domain.chains import ChainStatus
from console.domain.order_status import WITHOUT_STATUS, ImportedStatus
from console.domain.orders import OrderStatus
from console.domain.privacy import mask_name
from console.store import migrations, schema_postgres
from console.store.postgres import PgDatabase, is_postgres
from console.store.target import PostgresUrl, parse_target

SCHEMA_VERSION = migrations.SCHEMA_VERSION
BUSY_TIMEOUT_MS = 10_000

Database = Any
"""A store connection: ``sqlite_utils.Database`` or ``postgres.PgDatabase`` (same calls)."""


def connect(target: str | Path | PostgresUrl) -> Database:
    """A connection to the store at ``target`` (a SQLite path or a PostgreSQL URL); does
    not create or migrate anything."""
    where = parse_target(target)
    if isinstance(where, PostgresUrl):
        return PgDatabase.connect(where.url)
    return _connect_sqlite(where)


def _connect_sqlite(path: Path) -> sqlite_utils.Database:
    """A SQLite connection with the store's pragmas."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    # Autocommit mode: every write path opens its own explicit transaction.
    conn.isolation_level = None
    db = sqlite_utils.Database(conn)
    # WAL + synchronous=NORMAL keeps every committed transaction across a process kill
    # (only an OS crash or power loss may drop the newest ones).
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    conn.create_function("mask_name", 1, sql_mask_name, deterministic=True)
    return db


def sql_mask_name(name: object) -> str | None:
    return mask_name(name) if isinstance(name, str) and name.strip() else None


def open_store(target: str | Path | PostgresUrl) -> Database:
    """Open (creating and migrating if needed) the store database at ``target``."""
    where = parse_target(target)
    if isinstance(where, PostgresUrl):
        db = PgDatabase.connect(where.url)
        try:
            _open_postgres(db, where)
        except BaseException:
            db.close()
            raise
        return db
    return _open_sqlite(where)


def _open_postgres(db: PgDatabase, where: PostgresUrl) -> None:
    """The baseline on an empty database, then the portable steps; under the write lock,
    so store processes starting together migrate once."""
    with db.transaction(pipeline=False):
        if not _scalar(db, "SELECT to_regclass('schema_version') IS NOT NULL"):
            db.execute(schema_postgres.BASELINE)
            db.execute("CREATE TABLE schema_version (version bigint NOT NULL)")
            db.execute(
                "INSERT INTO schema_version (version) VALUES (?)",
                [schema_postgres.BASELINE_VERSION],
            )
        version = int(_scalar(db, "SELECT version FROM schema_version"))
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{where}: schema version {version} is newer than this program ({SCHEMA_VERSION})"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in migrations.STEPS[step]:
                db.execute(statement)
            db.execute("UPDATE schema_version SET version = ?", [step])


def _scalar(db: Database, sql: str) -> Any:
    row = db.execute(sql).fetchone()
    assert row is not None, sql
    return row[0]


def _open_sqlite(path: Path) -> sqlite_utils.Database:  # noqa: PLR0912 (one per version)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = _connect_sqlite(path)
    db.enable_wal()
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"{path}: schema version {version} is newer than this program ({SCHEMA_VERSION})"
        )
    if version < 1:
        _create_v1(db)
    if version < 2:
        _migrate_v2(db)
    if version < 3:
        _migrate_v3(db)
    if version < 4:
        _migrate_v4(db)
    if version < 5:
        _migrate_v5(db)
    if version < 6:
        _migrate_v6(db)
    if version < 7:
        _migrate_v7(db)
    if version < 8:
        _migrate_v8(db)
    if version < 9:
        _migrate_v9(db)
    if version < 10:
        _migrate_v10(db)
    if version < 11:
        _migrate_v11(db)
    if version < 12:
        _migrate_v12(db)
    if version < 13:
        _migrate_v13(db)
    for step in range(max(version, 13) + 1, SCHEMA_VERSION + 1):
        with transaction(db):
            for statement in migrations.STEPS[step]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {step}")
    return db


def _create_v1(db: sqlite_utils.Database) -> None:
    with transaction(db):
        db.table("members").create(
            {
                "id": str,
                "name": str,
                "nick": str,  # the masked display name (林*薇), the only name events carry
                "phone": str,
                "segment": str,
                "koc": int,
                "opted_out": int,
                "tags": str,
                "city": str,
                "updated_at": float,
            },
            pk="id",
            not_null={"id", "name"},
            defaults={"koc": 0, "opted_out": 0, "tags": ""},
            if_not_exists=True,
        )
        db.table("sessions").create(
            {
                "id": str,
                "title": str,
                "status": str,
                "scenario": str,
                "audience": str,
                "created_at": float,
                "started_at": float,
                "ended_at": float,
                "last_seq": int,
            },
            pk="id",
            not_null={"id", "title", "status", "created_at", "last_seq"},
            defaults={"status": "scheduled", "last_seq": 0},
            if_not_exists=True,
        )
        # The log is clustered on (session_id, seq): reading "after seq N" is a range scan.
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS events (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                seq INTEGER NOT NULL,
                event_id TEXT NOT NULL,
                type TEXT NOT NULL,
                ts REAL NOT NULL,
                member_id TEXT,
                segment TEXT,
                koc INTEGER NOT NULL DEFAULT 0,
                nick TEXT NOT NULL DEFAULT '',
                data TEXT NOT NULL DEFAULT '{}',
                received_at REAL NOT NULL,
                PRIMARY KEY (session_id, seq)
            ) WITHOUT ROWID
            """
        )
        db.table("events").create_index(
            ["session_id", "event_id"],
            unique=True,
            index_name="events_event_id",
            if_not_exists=True,
        )
        db.table("tokens").create(
            {
                "hash": str,
                "role": str,
                "label": str,
                "created_at": float,
                "revoked_at": float,
            },
            pk="hash",
            not_null={"hash", "role", "created_at"},
            if_not_exists=True,
        )
        db.execute("PRAGMA user_version = 1")


@contextmanager
def transaction(db: Database) -> Iterator[Any]:
    """All of it commits, or none of it; one writer at a time (SQLite's ``BEGIN
    IMMEDIATE``, PostgreSQL's write lock, see ``postgres``)."""
    if is_postgres(db):
        with db.transaction() as pg:
            yield pg
        return
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _migrate_v2(db: sqlite_utils.Database) -> None:
    """Orders, social actions, segmentation runs, overrides and the audit log."""
    with transaction(db):
        members = db.table("members")
        for column, kind in (("computed_segment", str), ("nick", str)):
            if column not in members.columns_dict:
                members.add_column(column, kind)
        db.execute("UPDATE members SET nick = mask_name(name) WHERE nick IS NULL")
        db.execute("CREATE INDEX IF NOT EXISTS members_segment ON members (segment, id)")
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS orders (
                order_id TEXT PRIMARY KEY,
                member_id TEXT NOT NULL,
                ts REAL NOT NULL,
                amount REAL NOT NULL,  -- yuan; negative for a return or cancellation
                items TEXT NOT NULL DEFAULT '',
                channel TEXT NOT NULL DEFAULT '',
                referrer TEXT NOT NULL DEFAULT '',
                imported_at REAL NOT NULL
            )
            """
        )
        # Covering index: a segmentation run aggregates orders per member in index order.
        db.execute("CREATE INDEX IF NOT EXISTS orders_member ON orders (member_id, ts, amount)")
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS social_actions (
                action_id TEXT PRIMARY KEY,  -- given, or a hash of member, kind and time
                member_id TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('share', 'invite', 'message')),
                ts REAL NOT NULL,
                imported_at REAL NOT NULL
            )
            """
        )
        db.execute(
            "CREATE INDEX IF NOT EXISTS social_member ON social_actions (member_id, ts, kind)"
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS segment_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                as_of TEXT NOT NULL,  -- the business date (Asia/Shanghai) scored
                as_of_ts REAL NOT NULL,
                window_days INTEGER NOT NULL,
                rules_version TEXT NOT NULL,
                trigger TEXT NOT NULL,  -- cli, api, schedule
                actor TEXT NOT NULL,
                started_at REAL NOT NULL,
                finished_at REAL,
                members INTEGER NOT NULL DEFAULT 0,
                active INTEGER NOT NULL DEFAULT 0,
                counts TEXT NOT NULL DEFAULT '{}',
                koc INTEGER NOT NULL DEFAULT 0,
                previous_run INTEGER REFERENCES segment_runs(id)
            )
            """
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS member_scores (
                run_id INTEGER NOT NULL REFERENCES segment_runs(id),
                member_id TEXT NOT NULL,
                recency_days REAL,
                frequency INTEGER NOT NULL,
                monetary REAL NOT NULL,
                expansion REAL NOT NULL,
                r INTEGER NOT NULL, f INTEGER NOT NULL, m INTEGER NOT NULL, x INTEGER NOT NULL,
                rule_segment TEXT NOT NULL,  -- what the rules said
                segment TEXT NOT NULL,  -- what applied: an override wins over the rules
                koc INTEGER NOT NULL,
                rule INTEGER NOT NULL,
                PRIMARY KEY (run_id, member_id)
            ) WITHOUT ROWID
            """
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS segment_transitions (
                run_id INTEGER NOT NULL REFERENCES segment_runs(id),
                from_segment TEXT NOT NULL,  -- '' for members new since the previous run
                to_segment TEXT NOT NULL,
                members INTEGER NOT NULL,
                PRIMARY KEY (run_id, from_segment, to_segment)
            ) WITHOUT ROWID
            """
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS overrides (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                member_id TEXT NOT NULL REFERENCES members(id),
                segment TEXT NOT NULL,
                reason TEXT NOT NULL,
                author TEXT NOT NULL,
                created_at REAL NOT NULL,
                expires_at REAL,
                revoked_at REAL,
                revoked_by TEXT
            )
            """
        )
        db.execute("CREATE INDEX IF NOT EXISTS overrides_member ON overrides (member_id)")
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS audit_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                ts REAL NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                member_id TEXT,
                details TEXT NOT NULL DEFAULT '{}'
            )
            """
        )
        db.execute("CREATE INDEX IF NOT EXISTS audit_member ON audit_log (member_id, ts)")
        db.execute("PRAGMA user_version = 2")


def _migrate_v3(db: sqlite_utils.Database) -> None:
    """Catalog, tiered offers per session, pickup points, live orders; members' location."""
    with transaction(db):
        members = db.table("members")
        for column in ("lat", "lon"):
            if column not in members.columns_dict:
                members.add_column(column, float)
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS products (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                base_price INTEGER NOT NULL CHECK (base_price >= 0),  -- fen
                stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
                emoji TEXT NOT NULL DEFAULT '',
                category TEXT NOT NULL DEFAULT '',
                updated_at REAL NOT NULL
            )
            """
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS session_products (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                product_id TEXT NOT NULL REFERENCES products(id),
                position INTEGER NOT NULL,
                PRIMARY KEY (session_id, product_id)
            ) WITHOUT ROWID
            """
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS session_offers (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                product_id TEXT NOT NULL REFERENCES products(id),
                segment TEXT NOT NULL,  -- '' for the standard offer
                price INTEGER NOT NULL CHECK (price >= 0),  -- fen
                perk TEXT NOT NULL DEFAULT '',
                member_limit INTEGER NOT NULL DEFAULT 0,
                visible INTEGER NOT NULL DEFAULT 1,
                PRIMARY KEY (session_id, product_id, segment)
            ) WITHOUT ROWID
            """
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS pickup_points (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                leader TEXT NOT NULL DEFAULT '',
                lat REAL NOT NULL,
                lon REAL NOT NULL,
                address TEXT NOT NULL DEFAULT ''
            )
            """
        )
        db.execute(
            f"""
            CREATE TABLE IF NOT EXISTS live_orders (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id),
                idempotency_key TEXT NOT NULL,
                request TEXT NOT NULL,  -- what was asked, to refuse a key reused otherwise
                member_id TEXT NOT NULL,
                product_id TEXT NOT NULL,
                quantity INTEGER NOT NULL,
                unit_price INTEGER NOT NULL,  -- fen
                amount INTEGER NOT NULL,  -- fen
                tier TEXT,
                pickup_point TEXT NOT NULL,
                referrer TEXT NOT NULL DEFAULT '',
                chain_id TEXT,
                gift TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT '{OrderStatus.PLACED.value}',
                created_at REAL NOT NULL,
                seq INTEGER NOT NULL,
                response TEXT NOT NULL,
                UNIQUE (session_id, idempotency_key)
            )
            """
        )
        db.execute(
            "CREATE INDEX IF NOT EXISTS live_orders_member "
            "ON live_orders (session_id, member_id, product_id)"
        )
        db.execute(
            f"""
            CREATE TABLE IF NOT EXISTS chains (
                id TEXT PRIMARY KEY,
                session_id TEXT NOT NULL REFERENCES sessions(id),
                product_id TEXT NOT NULL REFERENCES products(id),
                threshold INTEGER NOT NULL,
                cap INTEGER NOT NULL,
                deadline REAL NOT NULL,
                gift_first INTEGER NOT NULL DEFAULT 0,
                gift TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT '{ChainStatus.OPEN.value}',
                entries INTEGER NOT NULL DEFAULT 0,
                opened_by TEXT NOT NULL,
                opened_at REAL NOT NULL
            )
            """
        )
        db.execute("CREATE INDEX IF NOT EXISTS chains_due ON chains (status, deadline)")
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS commands (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                command_id TEXT NOT NULL,
                request TEXT NOT NULL,
                response TEXT NOT NULL,
                actor TEXT NOT NULL,
                created_at REAL NOT NULL,
                PRIMARY KEY (session_id, command_id)
            ) WITHOUT ROWID
            """
        )
        db.execute("PRAGMA user_version = 3")


def _migrate_v4(db: sqlite_utils.Database) -> None:
    """A session's audience (who was invited, with their circle then) and referral codes."""
    with transaction(db):
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS session_audience (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                member_id TEXT NOT NULL,
                segment TEXT,
                PRIMARY KEY (session_id, member_id)
            ) WITHOUT ROWID
            """
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS referral_codes (
                code TEXT PRIMARY KEY,  -- random, issued at a member's first share in a session
                session_id TEXT NOT NULL REFERENCES sessions(id),
                member_id TEXT NOT NULL,
                UNIQUE (session_id, member_id)
            )
            """
        )
        db.execute("PRAGMA user_version = 4")


def _migrate_v5(db: sqlite_utils.Database) -> None:
    """A member's live orders across sessions (is this their first order ever?): without it
    every order scanned all live orders, quadratic in a big broadcast."""
    with transaction(db):
        db.execute("CREATE INDEX IF NOT EXISTS live_orders_buyer ON live_orders (member_id)")
        db.execute("PRAGMA user_version = 5")


def _migrate_v6(db: sqlite_utils.Database) -> None:
    """What a platform sent before redaction (a phone number in a comment, a full name),
    for the operator only; the log itself holds the redacted text."""
    with transaction(db):
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS event_originals (
                session_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (session_id, event_id)
            ) WITHOUT ROWID
            """
        )
        # A member who opted out of personalisation (seed 001) as the event was stored:
        # screens thank them by name, never by circle.
        db.execute("ALTER TABLE events ADD COLUMN opted_out INTEGER NOT NULL DEFAULT 0")
        db.execute("PRAGMA user_version = 6")


def _migrate_v7(db: sqlite_utils.Database) -> None:
    """Platform events refused because the session was not live: kept by id only (counted
    once however often a platform resends them), never in the log or the review."""
    with transaction(db):
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS off_air_events (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                event_id TEXT NOT NULL,
                off_air TEXT NOT NULL,  -- early (before the show) or late (after it)
                type TEXT NOT NULL,
                ts REAL NOT NULL,
                received_at REAL NOT NULL,
                PRIMARY KEY (session_id, event_id)
            ) WITHOUT ROWID
            """
        )
        db.execute("PRAGMA user_version = 7")


def _migrate_v8(db: sqlite_utils.Database) -> None:
    """Whose clock a session runs on (``console.domain.session_clock``): the wall's, or a
    rehearsal's own script time."""
    with transaction(db):
        db.execute("ALTER TABLE sessions ADD COLUMN clock TEXT NOT NULL DEFAULT 'wall'")
        db.execute("PRAGMA user_version = 8")


def _migrate_v9(db: sqlite_utils.Database) -> None:
    """Imported orders' status (``console.domain.order_status``): orders imported before it
    came from exports without one, so they are what such an export means (paid). The
    covering index for a segmentation run's aggregation gains the status it filters on."""
    # ORs rather than IN (...): SQLite checks an IN list about 2 us slower a row, a third of
    # the time a big import spends inserting orders.
    allowed = " OR ".join(f"status = '{status.value}'" for status in ImportedStatus)
    with transaction(db):
        db.execute(
            f"ALTER TABLE orders ADD COLUMN status TEXT NOT NULL "
            f"DEFAULT '{WITHOUT_STATUS.value}' CHECK ({allowed})"
        )
        db.execute("DROP INDEX IF EXISTS orders_member")
        db.execute(
            "CREATE INDEX IF NOT EXISTS orders_member ON orders (member_id, ts, amount, status)"
        )
        db.execute("PRAGMA user_version = 9")


def _migrate_v10(db: sqlite_utils.Database) -> None:
    """How each segmentation run scored (methods, cut points, the rules it used), so that a
    member's explanation names the rule that fired and its thresholds."""
    with transaction(db):
        db.execute("ALTER TABLE segment_runs ADD COLUMN scoring TEXT NOT NULL DEFAULT '{}'")
        db.execute("PRAGMA user_version = 10")


def _migrate_v11(db: sqlite_utils.Database) -> None:
    """Live platforms (issue 16): members' platform handles (统一身份), bind codes, platform
    orders by their platform's id, and a 接龙's comment pattern. Written to run after
    whichever of versions 9 and 10 exist: it only adds its own tables and column."""
    with transaction(db):
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS identities (
                platform TEXT NOT NULL,
                handle TEXT NOT NULL,  -- an identifier: operator views only, never a host's
                member_id TEXT NOT NULL REFERENCES members(id),
                source TEXT NOT NULL,  -- operator, import, code
                bound_at REAL NOT NULL,
                PRIMARY KEY (platform, handle)
            ) WITHOUT ROWID
            """
        )
        db.execute("CREATE INDEX IF NOT EXISTS identities_member ON identities (member_id)")
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS bind_codes (
                code TEXT PRIMARY KEY,
                member_id TEXT NOT NULL REFERENCES members(id),
                created_at REAL NOT NULL,
                expires_at REAL NOT NULL,
                used_at REAL
            )
            """
        )
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS platform_orders (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                platform TEXT NOT NULL,
                platform_order_id TEXT NOT NULL,
                state TEXT NOT NULL,  -- placed, flagged, cancelled
                order_id TEXT,  -- the live order it placed
                reason TEXT NOT NULL DEFAULT '',
                updated_at REAL NOT NULL,
                PRIMARY KEY (session_id, platform, platform_order_id)
            ) WITHOUT ROWID
            """
        )
        columns = {row[1] for row in db.execute("PRAGMA table_info(chains)")}
        if "comment_pattern" not in columns:
            db.execute("ALTER TABLE chains ADD COLUMN comment_pattern TEXT")
        db.execute("PRAGMA user_version = 11")


def _migrate_v12(db: sqlite_utils.Database) -> None:
    """Platform-reported statistics (issue 16, 企业微信直播): one row per viewer a platform
    reports for a session after the show, kept apart from the log's own figures."""
    with transaction(db):
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS platform_stats (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                platform TEXT NOT NULL,
                viewer TEXT NOT NULL,  -- the platform's user id: operator views only
                kind TEXT NOT NULL,  -- wecom: user (staff) or external (customer)
                watch_time INTEGER NOT NULL,  -- seconds
                commented INTEGER NOT NULL,
                inviter TEXT NOT NULL DEFAULT '',  -- the inviting user's id, '' for none
                fetched_at REAL NOT NULL,
                PRIMARY KEY (session_id, platform, viewer)
            ) WITHOUT ROWID
            """
        )
        db.execute("PRAGMA user_version = 12")


def _migrate_v13(db: sqlite_utils.Database) -> None:
    """话术: each product's lines for the host in a session, general ('') or per circle."""
    with transaction(db):
        db.execute(
            """
            CREATE TABLE IF NOT EXISTS session_scripts (
                session_id TEXT NOT NULL REFERENCES sessions(id),
                product_id TEXT NOT NULL REFERENCES products(id),
                segment TEXT NOT NULL,  -- '' for the general lines
                lines TEXT NOT NULL,  -- JSON array of strings
                PRIMARY KEY (session_id, product_id, segment)
            ) WITHOUT ROWID
            """
        )
        db.execute("PRAGMA user_version = 13")
