"""Moving a brand's SQLite store to PostgreSQL (``main.py migrate``), the schema both
backends share, and a database made by the previous release."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from console.demo import seed_demo
from console.store import schema
from console.store.migrate import MigrationError, migrate, table_checksum
from console.store.schema import SCHEMA_VERSION, open_store
from console.store.target import PostgresUrl
from tests.backends import requires_postgres, store_target
from tests.helpers import MAIN_PY, StoreProcess, event, open_db, post
from tests.store.test_chains_api import open_chain
from tests.store.test_orders import OFFERS, POINTS, PRODUCTS, order

pytestmark = [requires_postgres, pytest.mark.timeout(300)]


def played_sqlite_store(path: Path) -> tuple[str, dict[str, Any], list[Any]]:
    """A SQLite store with a show played on it: events, orders, a 接龙, a refusal.
    Returns the session, its /stats and its log as the store served them."""
    seed_demo(path)
    store = StoreProcess(path, seed=False)
    store.start()
    try:
        with store.client("operator") as client:
            client.put("/products", json={"products": PRODUCTS}).raise_for_status()
            client.put("/pickup-points", json={"points": POINTS}).raise_for_status()
            sid = store.new_session("迁移前的直播", live=False)
            lineup = [p["id"] for p in PRODUCTS]
            client.put(
                f"/sessions/{sid}/catalog", json={"lineup": lineup, "offers": OFFERS}
            ).raise_for_status()
            client.patch(f"/sessions/{sid}", json={"status": "live"}).raise_for_status()
            members = [
                r["id"] for r in client.get("/members", params={"limit": 30}).json()["members"]
            ]
        post(store, sid, [event("viewer_joined", m) for m in members])
        post(store, sid, [event("comment", m, text="想要 +1") for m in members[:10]])
        assert open_chain(store, sid).status_code == 201
        with store.client("ingest") as client:
            for m in members[:12]:
                placed = client.post(f"/sessions/{sid}/orders", json=order(m))
                assert placed.status_code in (200, 201), placed.text
        with store.client("operator") as client:
            stats = client.get(f"/sessions/{sid}/stats").json()
            log = client.get(f"/sessions/{sid}/events", params={"limit": 5000}).json()["events"]
    finally:
        store.stop()
    return sid, stats, log


def test_a_played_sqlite_store_moves_to_postgres_without_loss(tmp_path: Path) -> None:
    source = tmp_path / "brand.db"
    sid, stats, log = played_sqlite_store(source)
    target = store_target(tmp_path)
    moved = subprocess.run(
        [sys.executable, str(MAIN_PY), "migrate", "--from", str(source), "--to", target],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert moved.returncode == 0, moved.stderr
    printed = {
        m.group(1): (int(m.group(2)), m.group(3))
        for m in re.finditer(r"^(\w+)\s+(\d+)\s+[0-9a-f]{16}\s+(\S+)$", moved.stdout, re.M)
    }
    with sqlite3.connect(source) as lite:
        tables = [
            r[0]
            for r in lite.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {t: lite.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    lite.close()
    assert printed == {t: (n, "ok") for t, n in counts.items()}
    assert counts["events"] == len(log)
    assert counts["live_orders"] == 12
    # The store on PostgreSQL serves the same review and the same log.
    store = StoreProcess(target, seed=False)
    store.start()
    try:
        with store.client("operator") as client:
            assert client.get(f"/sessions/{sid}/stats").json() == stats
            moved_log = client.get(f"/sessions/{sid}/events", params={"limit": 5000}).json()
        assert moved_log["events"] == log
        # ... and goes on from there: the next event gets the next seq.
        assert post(store, sid, [event("comment", text="迁移后")])["last_seq"] == len(log) + 1
    finally:
        store.stop()


def test_migrate_refuses_a_database_that_has_data_and_changes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "brand.db"
    seed_demo(source)
    target = store_target(tmp_path)
    migrate(source, PostgresUrl(target))
    with open_db(target) as db:
        before = db.execute("SELECT count(*) FROM members").fetchone()[0]
    with pytest.raises(MigrationError, match="已有数据"):
        migrate(source, PostgresUrl(target))
    with open_db(target) as db:
        assert db.execute("SELECT count(*) FROM members").fetchone()[0] == before


def test_a_row_postgres_cannot_keep_is_named_and_nothing_is_copied(tmp_path: Path) -> None:
    source = tmp_path / "old.db"
    seed_demo(source)
    with sqlite3.connect(source) as lite:  # written before text with NUL was refused
        lite.execute("UPDATE members SET tags = 'a' || char(0) || 'b' WHERE id = 'm00007'")
    lite.close()
    target = store_target(tmp_path)
    with pytest.raises(MigrationError, match=r"表 members 第 \d+ 行") as refused:
        migrate(source, PostgresUrl(target))
    assert "目标库未做任何改动" in str(refused.value) or "NUL" in str(refused.value)
    with open_db(target) as db:
        assert db.execute("SELECT count(*) FROM members").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 0


def test_a_database_from_the_previous_release_migrates_on_both_backends(tmp_path: Path) -> None:
    """The previous release wrote schema 13 on SQLite only: opening it brings it to the
    current version with its rows, and it then moves to PostgreSQL."""
    path = tmp_path / "v13.db"
    old = schema._connect_sqlite(path)
    old.enable_wal()
    steps = [schema._create_v1] + [getattr(schema, f"_migrate_v{n}") for n in range(2, 14)]
    for step in steps:
        step(old)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 13
    old.execute(
        "INSERT INTO members (id, name, nick, segment) VALUES ('m1', '林小薇', '林*薇', 'S1')"
    )
    old.execute("INSERT INTO sessions (id, title, created_at) VALUES ('s_old', '旧直播', 1.7e9)")
    old.close()
    db = open_store(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT count(*) FROM job_runner").fetchone()[0] == 0
        assert db.execute("SELECT nick, segment FROM members").fetchall() == [("林*薇", "S1")]
    finally:
        db.close()
    target = store_target(tmp_path)
    copies = {c.table: c for c in migrate(path, PostgresUrl(target))}
    assert copies["members"].rows == 1
    assert copies["sessions"].rows == 1
    assert all(c.matches for c in copies.values())
    with open_db(target) as pg:
        assert pg.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def _kind(declared: str) -> str:
    """A column's type as Python reads it back: text, int or float (8 bytes)."""
    declared = declared.lower()
    if "int" in declared:
        return "int"
    if declared in ("real", "double precision", "float", "double", "float8"):
        return "float"
    if declared == "json" or "text" in declared or declared == "":
        return "text"
    return declared


def test_both_backends_have_the_same_tables_columns_and_types(tmp_path: Path) -> None:
    lite = open_store(tmp_path / "lite.db")
    pg = open_store(store_target(tmp_path))
    try:
        on_sqlite = {
            t: [(r[1], _kind(r[2])) for r in lite.execute(f"PRAGMA table_info({t})")]
            for (t,) in lite.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        on_postgres: dict[str, list[tuple[str, str]]] = {}
        for table, column, declared in pg.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'schema_version' "
            "ORDER BY table_name, ordinal_position"
        ):
            # PostgreSQL's "real" is 4 bytes: it would round SQLite's REAL (8 bytes).
            assert declared != "real", f"{table}.{column} is float4"
            on_postgres.setdefault(table, []).append((column, _kind(declared)))
    finally:
        lite.close()
        pg.close()
    assert on_postgres == on_sqlite


def test_the_checksum_reads_the_same_rows_the_same_way() -> None:
    rows = [("a", 1, 2.0, None, "{}"), ("b", 2, 2.5, "x", "[1]")]
    assert table_checksum(rows) == table_checksum(
        [("a", 1, 2, None, "{}"), ("b", 2, 2.5, "x", "[1]")]
    )
    assert table_checksum(rows)[1] != table_checksum(rows[::-1])[1]
    assert table_checksum(rows)[1] != table_checksum([("a", 1, 2.0, "", "{}"), rows[1]])[1]
