"""``--db``: a SQLite path or a PostgreSQL URL, and never a URL taken for a file name."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.store.target import PostgresUrl, parse_target, target_text


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://live@127.0.0.1:5432/brand",
        "postgres://live@db.internal/brand",
        "POSTGRESQL://live@db/brand",
        "postgresql://live:secret@db:5432/brand?sslmode=require",
    ],
)
def test_postgres_urls_are_urls(text: str) -> None:
    target = parse_target(text)
    assert isinstance(target, PostgresUrl)
    assert target_text(target) == text  # handed on whole, password included


@pytest.mark.parametrize(
    "text",
    ["store.db", "./data/store.db", "/var/lib/console/store.db", "C:\\store\\s.db", "数据.db"],
)
def test_paths_are_paths(text: str) -> None:
    assert parse_target(text) == Path(text)


@pytest.mark.parametrize(
    "text",
    [
        "mysql://root@db/brand",
        "sqlite:///store.db",
        "http://db/x",
        "postgresql:/x",
        "file:store.db",
        "  ",
    ],
)
def test_any_other_url_is_refused_in_chinese(text: str) -> None:
    with pytest.raises(ValueError, match="数据库地址"):
        parse_target(text)


def test_a_password_never_reaches_a_log_line() -> None:
    target = parse_target("postgresql://live:s3cret@db:5432/brand")
    assert "s3cret" not in str(target)
    assert str(target) == "postgresql://live:***@db:5432/brand"
