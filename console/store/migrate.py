"""Moving a brand's store from its SQLite file to PostgreSQL (``main.py migrate``).

The SQLite file is first brought to the current schema version (as opening it always
does), the PostgreSQL database gets the same version, then every table is copied in the
order its foreign keys need, inside ONE PostgreSQL transaction: on any error nothing is
left half-copied. Each table is then read back from PostgreSQL and compared with the file
by row count and a SHA-256 over its rows in primary-key order (``table_checksum``: the same
function on both sides), so "moved without loss" is checked, not assumed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from console.store.postgres import PgDatabase
from console.store.schema import open_store
from console.store.target import PostgresUrl

BATCH_ROWS = 5_000


class MigrationError(RuntimeError):
    """The move was refused or failed; nothing was written to the target."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    rows: int
    checksum: str  # SHA-256 of the rows, in primary-key order
    matches: bool  # the target read back has the same count and checksum


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # primary key (rowid tables without one: every column)
    text_key: frozenset[str]  # the key's text columns (ordered by bytes on both sides)
    identity: bool  # an "id" the database numbers (AUTOINCREMENT / IDENTITY)


def migrate(
    source: Path, target: PostgresUrl, progress: Callable[[str], None] = lambda _line: None
) -> list[TableCopy]:
    """Copy every table of the SQLite store at ``source`` into the empty PostgreSQL
    store at ``target``; returns what was copied, table by table."""
    if not source.is_file():
        raise MigrationError(f"{source}：文件不存在")
    lite = open_store(source)
    pg = open_store(target)
    try:
        tables = _tables(lite)
        _require_empty(pg, tables, target)
        copies: list[TableCopy] = []
        with pg.transaction(pipeline=False), _as_migration_error(target):
            for table in tables:
                progress(f"copying {table.name} …")
                count = _copy(lite, pg, table)
                if table.identity and count:
                    pg.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                copies.append(_compare(lite, pg, table))
            if not all(copy.matches for copy in copies):
                wrong = ", ".join(c.table for c in copies if not c.matches)
                raise MigrationError(f"复制后核对不一致：{wrong}；目标库未做任何改动")
        return copies
    finally:
        lite.close()
        pg.close()


@contextmanager
def _as_migration_error(target: PostgresUrl) -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MigrationError(f"{target}：{first}；目标库未做任何改动") from exc


def _tables(lite: Any) -> list[Table]:
    """The store's tables, each after the tables its foreign keys point to."""
    names = [
        r[0]
        for r in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    needs = {
        name: {r[2] for r in lite.execute(f"PRAGMA foreign_key_list({name})")} - {name}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and needs[n] <= set(ordered)]
        if not ready:
            raise MigrationError(f"外键成环，无法排序：{sorted(set(names) - set(ordered))}")
        ordered.extend(ready)
    tables = []
    for name in ordered:
        info = list(lite.execute(f"PRAGMA table_info({name})"))
        columns = tuple(str(r[1]) for r in info)
        key = tuple(str(r[1]) for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        create = lite.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
        ).fetchone()[0]
        identity = "AUTOINCREMENT" in create.upper() and key == ("id",)
        text = frozenset(str(r[1]) for r in info if "INT" not in str(r[2]).upper())
        tables.append(Table(name, columns, key or columns, text, identity))
    return tables


def _require_empty(pg: PgDatabase, tables: Sequence[Table], target: PostgresUrl) -> None:
    for table in tables:
        exists = pg.execute("SELECT to_regclass(?) IS NOT NULL", [table.name]).fetchone()
        if exists is None or not exists[0]:
            raise MigrationError(f"{target}：没有表 {table.name}（两边的结构版本不一致）")
        if pg.execute(f"SELECT 1 FROM {table.name} LIMIT 1").fetchone() is not None:
            raise MigrationError(
                f"{target}：表 {table.name} 已有数据；只能迁移到空库，目标库未做任何改动"
            )


def _copy(lite: Any, pg: PgDatabase, table: Table) -> int:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), columns)
    count = 0
    cursor = pg.raw.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in _rows(lite, table):
                copy.write_row(row)
                count += 1
    except psycopg.Error as exc:
        raise MigrationError(
            f"表 {table.name} 第 {count + 1} 行（按主键 {', '.join(table.key)} 排序）"
            f"无法写入 PostgreSQL：{str(exc).strip().splitlines()[0]}"
        ) from exc
    return count


def _rows(db: Any, table: Table, collate: str = "") -> Iterator[tuple[Any, ...]]:
    """The table's rows in primary-key order, by bytes (``collate`` for PostgreSQL)."""
    order = ", ".join(
        f'"{k}"{collate if k in table.text_key else ""} NULLS FIRST' for k in table.key
    )
    listed = ", ".join(f'"{c}"' for c in table.columns)
    cursor = db.execute(f'SELECT {listed} FROM "{table.name}" ORDER BY {order}')
    while batch := cursor.fetchmany(BATCH_ROWS):
        yield from batch


def table_checksum(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """(row count, SHA-256) of rows, each value written the same way whichever database
    read it: numbers by value (an integral REAL and a double agree), text as UTF-8."""
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        count += 1
        for value in row:
            digest.update(_canonical(value))
            digest.update(b"\x1f")
        digest.update(b"\x1e")
    return count, digest.hexdigest()


def _canonical(value: Any) -> bytes:
    if value is None:
        return b"\x00null"
    if isinstance(value, bool):
        return b"n" + str(int(value)).encode()
    if isinstance(value, int):
        return b"n" + str(value).encode()
    if isinstance(value, float):
        return b"n" + (str(int(value)) if value.is_integer() else repr(value)).encode()
    if isinstance(value, bytes | memoryview):
        return b"b" + bytes(value)
    return b"s" + str(value).encode("utf-8", "surrogatepass")


def _compare(lite: Any, pg: PgDatabase, table: Table) -> TableCopy:
    count, checksum = table_checksum(_rows(lite, table))
    back_count, back = table_checksum(_rows(pg, table, collate=' COLLATE "C"'))
    return TableCopy(table.name, count, checksum, count == back_count and checksum == back)


def report_lines(copies: Sequence[TableCopy]) -> list[str]:
    """What ``main.py migrate`` prints: one line per table, then the total."""
    width = max((len(c.table) for c in copies), default=5)
    lines = [f"{'table':<{width}}  {'rows':>10}  sha256 (first 16)  check"]
    for copy in copies:
        mark = "ok" if copy.matches else "MISMATCH"
        lines.append(f"{copy.table:<{width}}  {copy.rows:>10}  {copy.checksum[:16]}   {mark}")
    lines.append(f"{len(copies)} tables, {sum(c.rows for c in copies)} rows copied")
    return lines
