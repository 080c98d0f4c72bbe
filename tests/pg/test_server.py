"""The PostgreSQL server of the tests' second pass is real, unprivileged and hands out fresh,
empty databases (tests/backends.py). psycopg is imported in the PostgreSQL tests only: the
SQLite pass does not need it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backends import postgres_admin_url, requires_postgres, store_target


def test_on_sqlite_the_target_is_a_file_in_the_test_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORE_TEST_POSTGRES", raising=False)
    assert postgres_admin_url() is None
    assert store_target(tmp_path) == str(tmp_path / "store.db")
    assert store_target(tmp_path, "other") == str(tmp_path / "other.db")


@requires_postgres
def test_the_server_is_a_real_postgresql_on_the_loopback() -> None:
    import psycopg

    admin = postgres_admin_url()
    assert admin is not None
    with psycopg.connect(admin) as conn:
        row = conn.execute("SELECT version(), current_user, host(inet_server_addr())").fetchone()
    assert row is not None
    version, user, address = row
    assert "PostgreSQL" in version
    assert user != "root"
    assert address == "127.0.0.1"


@requires_postgres
def test_each_store_target_is_a_new_empty_database(tmp_path: Path) -> None:
    import psycopg

    first, second = store_target(tmp_path), store_target(tmp_path)
    assert first != second
    names = set()
    for url in (first, second):
        assert url.startswith("postgresql://")
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT current_database(), (SELECT count(*) FROM pg_catalog.pg_class c"
                " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))"
            ).fetchone()
            assert row is not None
            name, tables = row
            names.add(name)
            assert name.startswith("t_")
            assert url.endswith("/" + name)
            assert tables == 0
            # Usable by the store: the test's user may create tables in it.
            conn.execute("CREATE TABLE probe (id integer PRIMARY KEY)")
    assert len(names) == 2
