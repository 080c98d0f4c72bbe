"""Reservations (预约) in the store: taken through the API, a code typed in a group, or a
platform's reservation export; loaded for ``console.domain.reservations``.

The rules (who may reserve when, which codes reserve, what counts as arrived) are the
domain's; this module loads facts and keeps rows. A reservation is keyed by session and
member, so repeating one (the same request, the same member through another channel, a
re-imported export) changes nothing and is answered as already there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from console.domain import reservations as rules
from console.domain.decisions import RefusalKind, Refused
from console.domain.reservations import Reservation, ReservationFigures, Source
from console.domain.segments import parse_segment
from console.domain.sessions import parse_status
from console.store import identities
from console.store.dialect import json_values
from console.store.imports.dates import TimestampParser
from console.store.imports.mapping import ImportOptions
from console.store.imports.readers import ReadError, RowReader
from console.store.imports.records import Fields
from console.store.imports.records import Refused as RowRefused
from console.store.imports.runner import (
    FileProblem,
    ImportError_,
    ImportReport,
    rejects_target,
    write_rejects,
)
from console.store.repository import NotFound
from console.store.schema import transaction

KIND = "reservations"
_INSERT = """
INSERT INTO reservations (session_id, member_id, segment, source, invite_code, request_id,
                          reserved_at)
SELECT ?, id, segment, ?, ?, ?, ? FROM members WHERE id = ?
"""


def _status(conn: Any, sid: str) -> None:
    row = conn.execute("SELECT status FROM sessions WHERE id = ?", [sid]).fetchone()
    rules.check_reservable(None if row is None else parse_status(row[0]))


def _row_json(row: tuple[Any, ...]) -> dict[str, Any]:
    member, segment, source, code, at = row
    return {
        "member_id": member,
        "segment": segment,
        "source": source,
        "invite_code": code,
        "reserved_at": at,
    }


def _reservation_of(conn: Any, sid: str, member_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT member_id, segment, source, invite_code, reserved_at FROM reservations "
        "WHERE session_id = ? AND member_id = ?",
        [sid, member_id],
    ).fetchone()
    return None if row is None else _row_json(tuple(row))


def _insert(
    conn: Any, sid: str, member_id: str, source: Source, code: str, request_id: str, now: float
) -> dict[str, Any]:
    """The member's reservation, made now unless there was one; ``created`` says which."""
    if conn.execute("SELECT 1 FROM members WHERE id = ?", [member_id]).fetchone() is None:
        raise Refused(RefusalKind.NOT_FOUND, "member_id", f"会员 {member_id!r} 不存在")
    found = _reservation_of(conn, sid, member_id)
    if found is not None:  # the writer holds the lock: nobody reserves in between
        return {**found, "created": False}
    conn.execute(_INSERT, [sid, source.value, code, request_id, now, member_id])
    made = _reservation_of(conn, sid, member_id)
    assert made is not None
    return {**made, "created": True}


def reserve(
    db: Any,
    sid: str,
    member_id: str,
    invite_code: str,
    request_id: str,
    clock: Callable[[], float],
) -> dict[str, Any]:
    """``POST /sessions/{sid}/reservations``: idempotent on (session, member). An invitation
    code, if given, must be one of this session's invitations to this member."""
    with transaction(db) as conn:
        _status(conn, sid)
        if invite_code:
            _check_invitation(conn, sid, invite_code, member_id)
        return _insert(conn, sid, member_id, Source.API, invite_code, request_id, clock())


def _check_invitation(conn: Any, sid: str, code: str, member_id: str) -> None:
    row = conn.execute(
        "SELECT member_id FROM invitations WHERE code = ? AND session_id = ?", [code, sid]
    ).fetchone()
    if row is None or str(row[0]) != member_id:
        raise Refused(RefusalKind.NOT_FOUND, "invite_code", "不是本场发给该会员的邀请码")


def reserve_by_code(db: Any, sid: str, text: str, clock: Callable[[], float]) -> dict[str, Any]:
    """A message typed in a group ("预约 K7F3Q2A8" with an invitation code, or "预约 123456"
    with the member's bind code): the code's member reserves. A bind code is spent by it
    (``rules.reserve_with_bind_code``: everyone in the group saw it). Refused naming
    ``code`` when the message holds no code, or the code is unknown, used, expired or
    another session's invitation."""
    typed = rules.code_in(text)
    if typed is None:
        raise Refused(RefusalKind.INVALID, "code", "消息里没有预约码（如：预约 K7F3Q2A8）")
    if rules.is_bind_code(typed):
        # Spent first, in its own transaction, whatever happens next (a show that ended, ...):
        # the group saw it, so it must never bind anyone's handle afterwards.
        with transaction(db) as conn:
            now = clock()
            member = rules.reserve_with_bind_code(identities.load_code(conn, typed), typed, now)
            identities.use_code(conn, typed, now)
        with transaction(db) as conn:
            _status(conn, sid)
            return _insert(conn, sid, member, Source.CODE, "", "", clock())
    with transaction(db) as conn:
        _status(conn, sid)
        row = conn.execute(
            "SELECT member_id FROM invitations WHERE code = ? AND session_id = ?", [typed, sid]
        ).fetchone()
        if row is None:
            raise Refused(RefusalKind.NOT_FOUND, "code", "预约码无效（不是本场的邀请码）")
        return _insert(conn, sid, str(row[0]), Source.CODE, typed, "", clock())


# -- a platform's reservation export -----------------------------------------------------


@dataclass(frozen=True)
class _Row:
    line: int
    member_id: str
    reserved_at: float | None
    invite_code: str


def import_reservations(
    db: Any,
    sid: str,
    path: Path,
    options: ImportOptions | None = None,
    display_name: str | None = None,
    clock: Callable[[], float] = time.time,
) -> ImportReport:
    """A platform's reservation export (CSV or JSON Lines: ``member_id``, optional
    ``reserved_at`` and ``invite_code``; ``options.mapping`` names the export's columns).
    Every row is checked first (unknown member, bad time, another member's invitation code,
    each named by file, line and field); with any problem nothing is applied, unless
    ``options.skip_bad``: then the good rows are applied and the refused ones written, as
    they were with line, column and reason, to the rejects file (``--rejects``, else
    ``FILE.rejected.csv``; ``report.rejects_file``), as the other imports do."""
    options = options or ImportOptions()
    name = display_name or path.name
    report = ImportReport(kind=KIND, file=name)
    parse = TimestampParser(options.dayfirst, options.utc_offset_hours).parse
    rows: list[_Row] = []
    try:
        reader = RowReader(path, None, options.encoding)
        for row in reader:
            report.rows += 1
            if row.values is None:
                report.problems.append(FileProblem(name, row.line, "", row.error))
                continue
            fields = Fields(row.values, options)
            try:
                member = fields.identifier("member_id")
                raw_at = fields.raw("reserved_at")
                at = fields.when("reserved_at", parse) if raw_at not in (None, "") else None
                code = fields.text("invite_code", limit=rules.MAX_CODE_LENGTH).upper()
            except RowRefused as refused:
                label = _label(options, refused.field)
                report.problems.append(FileProblem(name, row.line, label, str(refused)))
                continue
            rows.append(_Row(row.line, member, at, code))
        if report.rows == 0 and "member_id" not in reader.columns:
            column = options.column("member_id")
            raise ImportError_(f"{name}：没有 {column!r} 列（member_id 需要）")
    except ReadError as exc:
        raise ImportError_(str(exc).replace(str(path), name)) from exc
    with transaction(db) as conn:
        _status(conn, sid)
        _check_rows(conn, sid, rows, options, name, report)
        report.problems.sort(key=lambda p: p.line)
        report.rejected = len({p.line for p in report.problems})
        report.accepted = report.rows - report.rejected
        if report.problems and not options.skip_bad:
            return report  # nothing applied: the transaction writes nothing
        bad_lines = {p.line for p in report.problems}
        _apply(conn, sid, [r for r in rows if r.line not in bad_lines], clock(), report)
        if report.problems:
            target = rejects_target(path, options)
            values = {row.line: row.values for row in reader if row.line in bad_lines}
            write_rejects(
                target,
                [(p.line, values.get(p.line), p) for p in report.problems],
                list(reader.columns),
            )
            report.rejects_file = str(target)
    return report


def _apply(conn: Any, sid: str, rows: list[_Row], now: float, report: ImportReport) -> None:
    """The good rows, one reservation per member (a repeated member: a duplicate)."""
    seen: set[str] = set()
    for good in rows:
        if good.member_id in seen:
            report.duplicates += 1
            continue
        seen.add(good.member_id)
        at = good.reserved_at if good.reserved_at is not None else now
        made = _insert(conn, sid, good.member_id, Source.IMPORT, good.invite_code, "", at)
        if made["created"]:
            report.inserted += 1
        else:
            report.unchanged += 1
    report.records = len(seen)
    report.applied = True


def _label(options: ImportOptions, field: str) -> str:
    """The export's column, and ours when they differ: "用户ID (member_id)" (as imports say)."""
    column = options.column(field)
    return column if column == field else f"{column} ({field})"


def _check_rows(
    conn: Any,
    sid: str,
    rows: list[_Row],
    options: ImportOptions,
    name: str,
    report: ImportReport,
) -> None:
    members = {r.member_id for r in rows}
    known = {
        str(r[0])
        for r in conn.execute(
            f"SELECT id FROM members WHERE id IN {json_values(conn)}",
            [orjson.dumps(sorted(members)).decode()],
        ).fetchall()
    }
    invited = {
        str(r[0]): str(r[1])
        for r in conn.execute(
            "SELECT code, member_id FROM invitations WHERE session_id = ?", [sid]
        ).fetchall()
    }
    for row in rows:
        if row.member_id not in known:
            report.problems.append(
                FileProblem(name, row.line, _label(options, "member_id"), "会员不存在")
            )
        elif row.invite_code and invited.get(row.invite_code) != row.member_id:
            report.problems.append(
                FileProblem(
                    name, row.line, _label(options, "invite_code"), "不是本场发给该会员的邀请码"
                )
            )


# -- figures -----------------------------------------------------------------------------


def load_reservations(db: Any, sid: str) -> list[Reservation]:
    return [
        Reservation(
            member_id=str(member),
            circle=parse_segment(segment),
            source=Source(source),
            ts=float(at),
            invite_code=str(code or ""),
        )
        for member, segment, source, code, at in db.execute(
            "SELECT member_id, segment, source, invite_code, reserved_at FROM reservations "
            "WHERE session_id = ?",
            [sid],
        ).fetchall()
    ]


def joined_members(db: Any, sid: str) -> set[str]:
    """Members with a ``viewer_joined`` in the session's log (arrivals point at events)."""
    return {
        str(r[0])
        for r in db.execute(
            "SELECT DISTINCT member_id FROM events WHERE session_id = ? "
            "AND type = 'viewer_joined' AND member_id IS NOT NULL",
            [sid],
        ).fetchall()
    }


def figures(db: Any, sid: str) -> ReservationFigures:
    row = db.execute("SELECT 1 FROM sessions WHERE id = ?", [sid]).fetchone()
    if row is None:
        raise NotFound(f"没有这场直播：{sid!r}")
    return rules.reservation_figures(load_reservations(db, sid), joined_members(db, sid))


def reservations_json(db: Any, sid: str) -> dict[str, Any]:
    """``GET /sessions/{sid}/reservations`` and ``/stats``'s ``reservations``."""
    return {"session_id": sid, **figures(db, sid).to_json()}


def report_json(report: ImportReport) -> dict[str, Any]:
    result = report.to_dict()
    if not report.applied:
        result["error"] = (
            f"{report.rows} 行中有 {report.rejected} 行被拒绝，未导入任何预约（修正后重试）"
        )
    return result


def member_codes(db: Any, sid: str) -> Mapping[str, str]:
    """member -> the invitation code their reservation named (the funnel's "reserved")."""
    return {
        str(m): str(c)
        for m, c in db.execute(
            "SELECT member_id, invite_code FROM reservations WHERE session_id = ? "
            "AND invite_code <> ''",
            [sid],
        ).fetchall()
    }
