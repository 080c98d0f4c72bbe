"""Read, check and apply one import file."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from console.domain.order_status import status_counts
from console.domain.privacy import mask_name
from console.domain.text import spreadsheet_row
from console.store.dialect import json_values
from console.store.imports.dates import TimestampParser
from console.store.imports.duplicates import LINES_HINT, add_order_lines, one_per_id
from console.store.imports.mapping import ImportOptions, required_groups
from console.store.imports.readers import ReadError, RowReader
from console.store.imports.records import (
    RECORD_FIELDS,
    Fields,
    Refused,
    member_record,
    order_line,
    point_record,
    product_record,
    social_record,
)
from console.store.schema import transaction

KINDS = ("members", "orders", "social", "products", "points")
PROBLEMS_SHOWN = 20
PROGRESS_EVERY_ROWS = 20_000
ProgressCallback = Callable[[int, float], None]
REJECTS_ENCODING = "utf-8-sig"
"""With a BOM, whatever the input's encoding: Chinese Excel then reads the file as UTF-8
(without one it guesses GB18030 and garbles every Chinese cell)."""


class ImportError_(ValueError):  # noqa: N801 - not the builtin ImportError
    """The file cannot be imported at all; nothing was applied."""


@dataclass(frozen=True)
class FileProblem:
    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )


@dataclass
class ImportReport:
    kind: str
    file: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    problems: list[FileProblem] = field(default_factory=list)
    applied: bool = False
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    members_created: int = 0
    records: int = 0  # distinct records (orders, members, ...) after repeated ids are dealt with
    duplicates: int = 0  # rows refused because an earlier or a differing row has their id
    merged: int = 0  # rows added into another: order lines (--lines), the same share again
    by_status: dict[str, int] | None = None  # orders: records per status
    rejects_file: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "applied": self.applied,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "members_created": self.members_created,
            "records": self.records,
            "duplicates": self.duplicates,
            "merged": self.merged,
            "by_status": self.by_status,
            "rejects_file": self.rejects_file,
            "seconds": round(self.seconds, 3),
            "problems": [
                {
                    "field": p.column or "file",
                    "line": p.line,
                    "column": p.column,
                    "reason": p.reason,
                }
                for p in self.problems[:PROBLEMS_SHOWN]
            ],
            "problem_count": len(self.problems),
        }


@dataclass
class _Checked:
    good: list[tuple[int, tuple[Any, ...]]]
    bad: list[tuple[int, dict[str, Any] | None, FileProblem]]
    columns: list[str]
    refused_later: set[int]  # lines refused after reading (repeated ids): read again for rejects


def import_file(
    db: sqlite_utils.Database,
    kind: str,
    path: Path,
    options: ImportOptions,
    fmt: str | None = None,
    progress: ProgressCallback | None = None,
    display_name: str | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind``; see the package notes for the all-or-nothing rule."""
    if kind not in KINDS:
        raise ImportError_(f"未知的导入类型 {kind!r}；可选：{', '.join(KINDS)}")
    started = time.perf_counter()
    name = display_name or path.name
    try:
        reader = RowReader(path, fmt, options.encoding)
        checked = _check(kind, reader, options, name, progress)
    except (
        ReadError
    ) as exc:  # named as the caller knows the file (an upload's temp path is no name)
        raise ImportError_(str(exc).replace(str(path), name)) from exc
    report = ImportReport(kind=kind, file=name)
    report.rows = len(checked.good) + len(checked.bad)
    records = _one_per_id(kind, checked, options, name, report)
    report.records = len(records)
    if kind == "orders":
        report.by_status = status_counts([record[-1] for record in records])
    checked.bad.sort(key=lambda item: item[0])
    report.problems = [problem for _, _, problem in checked.bad]
    report.rejected = len(checked.bad)
    report.accepted = report.rows - report.rejected
    if checked.bad and not options.skip_bad:
        report.seconds = time.perf_counter() - started
        return report
    _apply(db, kind, records, report)
    report.applied = True
    if checked.bad:
        target = rejects_target(path, options)
        if checked.refused_later:
            _read_refused_again(reader, checked)
        _write_rejects(target, checked)
        report.rejects_file = str(target)
    report.seconds = time.perf_counter() - started
    return report


def rejects_target(path: Path, options: ImportOptions) -> Path:
    """Where ``--skip-bad`` writes the refused rows: ``--rejects``, else ``FILE.rejected.csv``."""
    return options.rejects_path or path.with_name(path.name + ".rejected.csv")


def _check(
    kind: str,
    reader: RowReader,
    options: ImportOptions,
    name: str,
    progress: ProgressCallback | None,
) -> _Checked:
    parse_time = TimestampParser(options.dayfirst, options.utc_offset_hours).parse
    shift = options.shift_seconds

    def parse(value: object) -> float:
        return parse_time(value) + shift

    build: Callable[[Fields], tuple[Any, ...]] = {
        "members": member_record,
        "orders": lambda f: order_line(f, parse),
        "social": lambda f: social_record(f, parse),
        "products": product_record,
        "points": point_record,
    }[kind]
    checked = _Checked([], [], [], set())
    headers_checked = False
    for count, row in enumerate(reader, start=1):
        if not headers_checked:
            _check_columns(kind, reader, options, name)
            headers_checked = True
        if row.values is None:
            checked.bad.append((row.line, None, FileProblem(name, row.line, "", row.error)))
        else:
            try:
                checked.good.append((row.line, build(Fields(row.values, options))))
            except Refused as refused:
                problem = FileProblem(name, row.line, _label(options, refused.field), str(refused))
                checked.bad.append((row.line, row.values, problem))
        if progress is not None and count % PROGRESS_EVERY_ROWS == 0:
            progress(count, reader.progress)
    if not headers_checked and reader.format == "csv":
        _check_columns(kind, reader, options, name)
    checked.columns = reader.columns
    if progress is not None:
        progress(len(checked.good) + len(checked.bad), 1.0)
    return checked


def _check_columns(kind: str, reader: RowReader, options: ImportOptions, name: str) -> None:
    """Fail at once when a needed column is missing (likely a wrong or missing --map), or,
    in a CSV file (its header names every column), a column that --map names: a mistyped
    status column would otherwise make every cancelled order count as paid."""
    columns = reader.columns
    if not columns:
        return
    if reader.format == "csv":
        for ours, theirs in options.mapping.items():
            if theirs not in columns:
                raise ImportError_(
                    f"{name}：没有 {theirs!r} 列（--map {ours}={theirs}）；文件的列有："
                    f"{', '.join(columns[:20])}"
                )
    for alternatives in required_groups(kind):
        if not any(options.column(field) in columns for field in alternatives):
            wanted = " 或 ".join(repr(options.column(f)) for f in alternatives)
            raise ImportError_(
                f"{name}：没有 {wanted} 列（{'/'.join(alternatives)} 需要）；文件的列有："
                f"{', '.join(columns[:20])}。请用 --map {alternatives[0]}=列名 指定"
            )


def _label(options: ImportOptions, field: str) -> str:
    column = options.column(field)
    return column if column == field else f"{column} ({field})"


def _one_per_id(
    kind: str, checked: _Checked, options: ImportOptions, name: str, report: ImportReport
) -> list[tuple[Any, ...]]:
    """One record per id (see ``duplicates``); rows refused for it join ``checked.bad``."""
    names = RECORD_FIELDS[kind]
    if kind == "orders" and options.lines:
        folded = add_order_lines(checked.good, names)
    else:
        hint = LINES_HINT if kind == "orders" else ""
        folded = one_per_id(checked.good, names, hint, same_is_one=kind == "social")
        report.duplicates = len(folded.refused)
    report.merged = folded.merged
    for refusal in folded.refused:
        problem = FileProblem(name, refusal.line, _label(options, refusal.field), refusal.reason)
        checked.bad.append((refusal.line, None, problem))
        checked.refused_later.add(refusal.line)
    checked.good = folded.good
    return [record for _, record in folded.good]


def _read_refused_again(reader: RowReader, checked: _Checked) -> None:
    """The rows refused for a repeated id, as they were (kept out of memory until needed)."""
    wanted = checked.refused_later
    values = {row.line: row.values for row in reader if row.line in wanted}
    checked.bad = [
        (line, values.get(line) if line in wanted else original, problem)
        for line, original, problem in checked.bad
    ]


def _apply(
    db: sqlite_utils.Database, kind: str, records: list[tuple[Any, ...]], report: ImportReport
) -> None:
    now = time.time()
    with transaction(db) as conn:
        table, key = _TABLES[kind]
        existing = _count_existing(conn, table, key, (r[0] for r in records))
        if kind == "members":
            changed = _changes(conn, _UPSERT_MEMBER, [(*r, mask_name(r[1]), now) for r in records])
        elif kind == "products":
            changed = _changes(conn, _UPSERT_PRODUCT, [(*r, now) for r in records])
        elif kind == "points":
            changed = _changes(conn, _UPSERT_POINT, records)
        else:
            members = sorted({r[1] for r in records})
            report.members_created = _changes(conn, _STUB_MEMBER, [(m, now) for m in members])
            if kind == "orders":
                changed = _changes(conn, _UPSERT_ORDER, [(*r, now) for r in records])
            else:
                changed = _changes(conn, _INSERT_SOCIAL, [(*r, now) for r in records])
    report.inserted = len(records) - existing
    report.updated = max(0, changed - report.inserted)
    report.unchanged = len(records) - report.inserted - report.updated


def _changes(conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> int:
    """Run ``sql`` for each row; how many rows it inserted or changed."""
    return max(0, int(conn.executemany(sql, rows).rowcount))


def _count_existing(conn: Any, table: str, key: str, keys: Iterable[str]) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM {table} WHERE {key} IN {json_values(conn)}",
        [orjson.dumps(list(keys))],
    ).fetchone()
    return int(row[0])


_TABLES = {
    "members": ("members", "id"),
    "orders": ("orders", "order_id"),
    "social": ("social_actions", "action_id"),
    "products": ("products", "id"),
    "points": ("pickup_points", "id"),
}
_UPSERT_PRODUCT = """
INSERT INTO products (id, name, base_price, stock, emoji, category, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, base_price = excluded.base_price, stock = excluded.stock,
    emoji = excluded.emoji, category = excluded.category, updated_at = excluded.updated_at
WHERE (products.name, products.base_price, products.stock, products.emoji, products.category)
      IS DISTINCT FROM (excluded.name, excluded.base_price, excluded.stock, excluded.emoji,
              excluded.category)
"""
_UPSERT_POINT = """
INSERT INTO pickup_points (id, name, leader, lat, lon, address) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, leader = excluded.leader, lat = excluded.lat, lon = excluded.lon,
    address = excluded.address
WHERE (pickup_points.name, pickup_points.leader, pickup_points.lat, pickup_points.lon,
       pickup_points.address)
      IS DISTINCT FROM (excluded.name, excluded.leader, excluded.lat, excluded.lon,
                        excluded.address)
"""
# A file without a location keeps the one the member has (it may come from another source).
_UPSERT_MEMBER = """
INSERT INTO members (id, name, phone, opted_out, tags, city, lat, lon, nick, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, phone = excluded.phone, opted_out = excluded.opted_out,
    tags = excluded.tags, city = excluded.city, lat = coalesce(excluded.lat, members.lat),
    lon = coalesce(excluded.lon, members.lon), nick = excluded.nick,
    updated_at = excluded.updated_at
WHERE (members.name, members.phone, members.opted_out, members.tags, members.city,
       members.lat, members.lon)
      IS DISTINCT FROM (excluded.name, excluded.phone, excluded.opted_out, excluded.tags,
                        excluded.city,
              coalesce(excluded.lat, members.lat), coalesce(excluded.lon, members.lon))
"""
_STUB_MEMBER = (
    "INSERT INTO members (id, name, nick, updated_at) VALUES (?, '', '', ?) ON CONFLICT DO NOTHING"
)
_UPSERT_ORDER = """
INSERT INTO orders (order_id, member_id, ts, amount, items, channel, referrer, status,
                    imported_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (order_id) DO UPDATE SET
    member_id = excluded.member_id, ts = excluded.ts, amount = excluded.amount,
    items = excluded.items, channel = excluded.channel, referrer = excluded.referrer,
    status = excluded.status, imported_at = excluded.imported_at
WHERE (orders.member_id, orders.ts, orders.amount, orders.items, orders.channel, orders.referrer,
       orders.status)
      IS DISTINCT FROM (excluded.member_id, excluded.ts, excluded.amount, excluded.items,
              excluded.channel, excluded.referrer, excluded.status)
"""
_INSERT_SOCIAL = """
INSERT INTO social_actions (action_id, member_id, kind, ts, imported_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""


def _write_rejects(target: Path, checked: _Checked) -> None:
    write_rejects(target, checked.bad, checked.columns)


def write_rejects(
    target: Path,
    bad: Iterable[tuple[int, dict[str, Any] | None, FileProblem]],
    columns: list[str],
) -> None:
    """The refused rows as they were, with line number, column and reason in front; text
    a spreadsheet would run as a formula starts with ``'`` (``spreadsheet_safe``)."""
    checked_columns = columns
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding=REJECTS_ENCODING, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(spreadsheet_row(["line", "column", "reason", *checked_columns]))
        for line, values, problem in sorted(bad, key=lambda item: item[0]):
            original = [("" if values is None else values.get(c, "")) for c in checked_columns]
            # The rows are as sent (hostile ones too), to be opened in a spreadsheet and fixed.
            writer.writerow(spreadsheet_row([line, problem.column, problem.reason, *original]))
