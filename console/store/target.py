"""Where a store keeps its data (数据库): a SQLite file, the embedded default, or a
PostgreSQL server named by URL. A URL is never taken for a file name."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

# Anything that starts like a URL's scheme ("mysql:", "file:", "sqlite:///") is one; a
# file whose name has a colon in it is given as ./name. "C:\\..." (one letter) is a path.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
POSTGRES_SCHEMES = ("postgresql", "postgres")
USAGE = "SQLite 文件路径，或 postgresql://用户@主机:端口/库名"


@dataclass(frozen=True, slots=True)
class PostgresUrl:
    """A PostgreSQL database, as libpq's URL (``postgresql://user@host:port/db``)."""

    url: str

    def __str__(self) -> str:
        """The URL without its password (for logs and messages)."""
        return without_password(self.url)


StoreTarget = Path | PostgresUrl

_PASSWORD_IN_NETLOC = re.compile(r"([^:/@\s]+:)[^@/\s]*@")
_PASSWORD_IN_QUERY = re.compile(r"(?i)(password=)[^&]*")


def without_password(text: str) -> str:
    """``text`` (a database URL, well formed or not) with any password as ``***``."""
    return _PASSWORD_IN_QUERY.sub(r"\1***", _PASSWORD_IN_NETLOC.sub(r"\1***@", text))


def parse_target(value: str | Path | PostgresUrl) -> StoreTarget:
    """A ``--db`` value as a SQLite path or a PostgreSQL URL; any other URL is refused."""
    if isinstance(value, (Path, PostgresUrl)):
        return value
    text = value.strip()
    if not text:
        raise ValueError(f"数据库地址为空：应为{USAGE}")
    if _URL.match(text):
        scheme = text.split(":", 1)[0].lower()
        if scheme in POSTGRES_SCHEMES and text[len(scheme) :].startswith("://"):
            return PostgresUrl(text)
        raise ValueError(f"不支持的数据库地址 {without_password(text)!r}：应为{USAGE}")
    return Path(text)


def target_text(target: StoreTarget) -> str:
    """``target`` as a ``--db`` value again (a URL keeps its password)."""
    return target.url if isinstance(target, PostgresUrl) else str(target)


def target_arg(value: str) -> StoreTarget:
    """``parse_target`` for argparse: a bad value is a usage error naming ``--db``."""
    try:
        return parse_target(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
