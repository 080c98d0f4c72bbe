"""Where a test's store keeps its data: a fresh SQLite file, or a fresh PostgreSQL database.

``./dev test`` runs the store tests twice: on SQLite, then with ``STORE_TEST_POSTGRES`` set to
the admin URL of a throwaway server it starts itself (``tools/pg_server.sh``), e.g.
``postgresql://postgres@127.0.0.1:50001/postgres``. By hand::

    url=$(tools/pg_server.sh start /tmp/pg1)
    STORE_TEST_POSTGRES=$url .venv/bin/python -m pytest tests/pg
    tools/pg_server.sh stop /tmp/pg1
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ENV = "STORE_TEST_POSTGRES"


def postgres_admin_url() -> str | None:
    """The admin URL of the test PostgreSQL server, or None when the tests run on SQLite."""
    return os.environ.get(ENV) or None


requires_postgres = pytest.mark.skipif(
    postgres_admin_url() is None,
    reason=f"needs a PostgreSQL server: {ENV}=<admin URL> (./dev test sets it)",
)


def store_target(tmp_path: Path, name: str = "store") -> str:
    """The store's database for one test: ``tmp_path/<name>.db`` on SQLite; on PostgreSQL a
    new empty database (``t_`` + a uuid4 hex) on the test server, as a URL with the admin
    URL's user, host and port. The databases live until the server is stopped."""
    admin = postgres_admin_url()
    if admin is None:
        return str(tmp_path / f"{name}.db")
    import psycopg
    from psycopg import sql

    database = "t_" + uuid.uuid4().hex
    # template0: nobody ever connects to it, so parallel workers never find it busy.
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(database)
            )
        )
    parts = urlsplit(admin)
    return urlunsplit(parts._replace(path="/" + database))


sqlite_only = pytest.mark.skipif(
    postgres_admin_url() is not None,
    reason="about SQLite itself (its file, pragmas or old versions); runs in the SQLite pass",
)
