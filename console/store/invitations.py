"""Invitations per circle in the store: the template file, the export, what was sent, and
the funnel's facts (``console.domain.invitations`` holds the rules).

The template file (``resources/invitations/<scenario>.toml``)::

    title = "臻纯牧场《夏日冰饮季》"     # {title} in the texts
    signature = "臻纯牧场"                # the SMS signature: 【臻纯牧场】 first, 拒收请回复R last
    monthly_cap = 4                       # invitations per member per calendar month
    [[circles]]
    circle = "S1"                         # one table per circle invited
    tag = "夏日冰饮季-尊享"                # the WeCom tag the mass-send is filed under
    text = "您好，..."                    # to one member: {title} {code} {leader} {point}
    group_text = "..."                    # the 团长's group: {title} {leader} {point} {codes}

A problem is refused naming the file, the line and the field (``circles[1].circle``); the
lines are found by scanning the text (``tomlfile.line_of``: tomllib keeps no positions).

The export writes three shapes into a folder, and records each invitation in the same
transaction (so the monthly cap counts them and the funnel follows their codes):

- ``wecom_mass_send.csv``: 企业微信 客户群发 by tag. WeCom's admin console imports a customer
  list for 群发 and its API (``externalcontact/add_msg_template``) takes external_userid and
  tag ids; no CSV layout is published for it, so the columns approximate what both need:
  ``external_userid, tag, content`` (plus our ``invite_code``). Adjust to the tenant's tool;
- ``sms.csv``: ``phone, content, chars, parts`` (one SMS up to 70 characters, 67 per part
  beyond), for an SMS gateway's batch upload;
- ``group_<point>-<hash>.txt``: per 团长 (the point id's safe characters and a short hash
  of it, so two points never share a file), one message per circle for their group, naming
  the members reached through the group only by masked nick and code.

Files hold phone numbers and WeCom ids: they are written for the operator who sends them,
with a BOM so Chinese Excel reads them as UTF-8. No cell should need the spreadsheet quoting
(a leading ``'``, which an SMS gateway would send as is): phones are written as digits
(``rules.sms_phone``, a country code kept as digits) and a ``tag``, ``text`` or ``group_text``
starting with ``= + - @`` is refused when the file is loaded. ``spreadsheet_row`` still
guards every row (a member's nick at the start of a text could lead with one).
"""

from __future__ import annotations

import csv
import hashlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TextIO

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from console.domain import invitations as rules
from console.domain.invitations import (
    DEFAULT_MONTHLY_CAP,
    GROUP_PLACEHOLDERS,
    MAX_MONTHLY_CAP,
    PLACEHOLDERS,
    Funnel,
    Invitation,
    Recipient,
    Sent,
    Template,
)
from console.domain.orders import OrderStatus
from console.domain.reservations import check_reservable
from console.domain.segments import Segment, parse_segment
from console.domain.sessions import parse_status
from console.domain.text import FORMULA_LEADS, spreadsheet_row
from console.store import reservations
from console.store.catalog import assign_points
from console.store.dialect import json_values
from console.store.messages import reason_of
from console.store.repository import NotFound
from console.store.schema import transaction
from console.tomlfile import Problem, read_toml, refusal_text

ENCODING = "utf-8-sig"
MAX_TEXT = 500
WECOM_FILE = "wecom_mass_send.csv"
SMS_FILE = "sms.csv"
WECOM_PLATFORM = "wecom"


class InvitationFileError(ValueError):
    """The template file cannot be used; the message names file, line and field."""


class ExportFolderInUse(ValueError):
    """The export's folder already holds an export's files (the codes already sent in them
    would be overwritten); the message names the file."""


def check_export_folder(out: Path) -> None:
    """Refuse a folder that already holds an export's files (``wecom_mass_send.csv``,
    ``sms.csv``, ``group_*.txt``): a second export into it would replace the files with the
    codes already sent by ones without them. ``ExportFolderInUse`` naming the file."""
    if out.exists() and not out.is_dir():
        raise ExportFolderInUse(f"{out} 不是文件夹：请给一个文件夹（不存在会新建）")
    if not out.is_dir():
        return
    taken = [out / WECOM_FILE, out / SMS_FILE, *sorted(out.glob("group_*.txt"))]
    for path in taken:
        if path.exists():
            raise ExportFolderInUse(f"{path} 已存在：请换一个文件夹，已发出的邀请不会被覆盖")


def _no_formula_lead(text: str) -> str:
    if text.strip()[:1] in FORMULA_LEADS:
        raise ValueError("不能以 = + - @ 开头（表格软件会当作公式，加引号后短信网关会原样发出）")
    return text


def _placeholders_ok(text: str, allowed: frozenset[str]) -> str:
    if allowed is PLACEHOLDERS and "nick" in rules.unknown_placeholders(text, allowed):
        raise ValueError(rules.NICK_REFUSED)
    unknown = rules.unknown_placeholders(text, allowed)
    if unknown:
        raise ValueError(f"未知的占位符 {', '.join(unknown)}；可用：{', '.join(sorted(allowed))}")
    return text


class CircleTemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    circle: Segment = Field(description="S1..S6")
    tag: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    group_text: str = Field(min_length=1, max_length=MAX_TEXT * 4)

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        return _no_formula_lead(value)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return _placeholders_ok(_no_formula_lead(value), PLACEHOLDERS)

    @field_validator("group_text")
    @classmethod
    def _group_text(cls, value: str) -> str:
        return _placeholders_ok(_no_formula_lead(value), GROUP_PLACEHOLDERS)


class InvitationFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    signature: str = Field(
        min_length=2,
        max_length=rules.MAX_SIGNATURE,
        description="the SMS signature (签名), sent as 【signature】 at the start",
    )
    monthly_cap: Annotated[int, Field(ge=1, le=MAX_MONTHLY_CAP)] = DEFAULT_MONTHLY_CAP
    circles: list[CircleTemplateIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_per_circle(self) -> InvitationFileIn:
        seen: set[Segment] = set()
        for template in self.circles:
            if template.circle in seen:
                raise ValueError(f"圈层 {template.circle.value} 出现了两次")
            seen.add(template.circle)
        return self

    @field_validator("signature")
    @classmethod
    def _signature(cls, value: str) -> str:
        if any(c in value for c in "【】[]") or value != value.strip():
            raise ValueError("签名只写名字（如 鲜直达），不带【】和首尾空格：发送时加上【】")
        return _no_formula_lead(value)

    def templates(self) -> dict[Segment, Template]:
        return {
            t.circle: Template(
                t.circle, t.text.strip(), t.group_text.strip(), t.tag, self.signature
            )
            for t in self.circles
        }


def _reason(error: Any) -> str:
    if error["type"] == "enum":
        return f"未知的圈层 {error.get('input')!r}（可选 S1..S6）"
    if error["type"] == "extra_forbidden":
        return "未知字段（拼写错误？）"
    return reason_of(error)


def load_template_file(path: Path) -> InvitationFileIn:
    """The file, checked; ``InvitationFileError`` naming ``path:LINE: field: reason``."""
    raw = read_toml(path, InvitationFileError)
    try:
        return InvitationFileIn.model_validate(raw)
    except ValidationError as exc:
        problems = [Problem(tuple(e["loc"]), _reason(e)) for e in exc.errors()]
        raise InvitationFileError(refusal_text(path, problems)) from exc


# -- the export --------------------------------------------------------------------------


def _recipients(conn: Any, circles: Iterable[Segment]) -> dict[str, Recipient]:
    wanted = orjson.dumps([c.value for c in circles]).decode()
    rows = conn.execute(
        "SELECT id, nick, segment, opted_out, phone, lat, lon FROM members "
        f"WHERE segment IN {json_values(conn)}",
        [wanted],
    ).fetchall()
    ids = orjson.dumps([r[0] for r in rows]).decode()
    wecom = dict(
        conn.execute(
            "SELECT member_id, min(handle) FROM identities WHERE platform = ? "
            f"AND member_id IN {json_values(conn)} GROUP BY member_id",
            [WECOM_PLATFORM, ids],
        ).fetchall()
    )
    last_point = {
        str(m): str(p)
        for m, p, _ in conn.execute(
            "SELECT member_id, pickup_point, max(created_at) FROM live_orders "
            f"WHERE member_id IN {json_values(conn)} GROUP BY member_id, pickup_point "
            "ORDER BY member_id, max(created_at)",
            [ids],
        ).fetchall()
    }  # ordered by time: the last one per member wins
    located = [r for r in rows if r[5] is not None and r[6] is not None]
    nearest = {}
    if located:
        found = assign_points(conn, [r[5] for r in located], [r[6] for r in located]) or []
        nearest = {r[0]: f["point_id"] for r, f in zip(located, found, strict=False)}
    points = {
        str(p): (str(leader or ""), str(name or ""))
        for p, name, leader in conn.execute("SELECT id, name, leader FROM pickup_points")
    }
    result = {}
    for member, nick, segment, opted_out, phone, _lat, _lon in rows:
        point = rules.home_point(last_point.get(member, ""), nearest.get(member, ""))
        leader, point_name = points.get(point, ("", ""))
        result[str(member)] = Recipient(
            member_id=str(member),
            nick=str(nick or ""),
            circle=parse_segment(segment),
            opted_out=bool(opted_out),
            phone=str(phone or ""),
            wecom_id=str(wecom.get(member) or ""),
            point_id=point if point in points else "",
            leader=leader,
            point_name=point_name,
        )
    return result


def _audience(conn: Any, sid: str) -> frozenset[str] | None:
    """The session's audience (``session_audience``, set by ``PUT /sessions/{sid}/audience``
    or a catalog's audience) as the export's rule reads it (``rules.audience_of``)."""
    row = conn.execute("SELECT audience FROM sessions WHERE id = ?", [sid]).fetchone()
    summary = orjson.loads(row[0] or "{}") if row is not None else {}
    members = conn.execute(
        "SELECT member_id FROM session_audience WHERE session_id = ?", [sid]
    ).fetchall()
    return rules.audience_of(
        summary if isinstance(summary, dict) else {}, (str(m[0]) for m in members)
    )


def _fresh_codes(conn: Any) -> Iterable[str]:
    """Unused invitation codes, drawn at random (the domain only shapes them)."""
    while True:
        code = rules.code_from(secrets.randbits(64))
        if conn.execute("SELECT 1 FROM invitations WHERE code = ?", [code]).fetchone() is None:
            yield code


def export_invitations(
    db: Any, sid: str, path: Path, out: Path, clock: Callable[[], float]
) -> dict[str, Any]:
    """Select, render, write the three shapes and record what was sent, in one transaction
    (a failure writing the files records nothing). A summary.

    The files are written into a staging folder beside ``out`` (same filesystem) and moved
    into ``out`` only after the commit: a failure recording the invitations, or at the
    COMMIT, leaves no file holding codes that were never recorded (the staging folder is
    removed on any exception).

    A folder that already holds an export's files is refused before anything is recorded
    (``ExportFolderInUse``): each export goes into a folder of its own, so the files of one
    already sent are never replaced; the files are created exclusively, so two exports racing
    into one folder cannot overwrite each other either."""
    spec = load_template_file(path)
    check_export_folder(out)
    templates = spec.templates()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    try:
        return _export(db, sid, spec, templates, staging, out, clock)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # empty after a success


def _export(
    db: Any,
    sid: str,
    spec: InvitationFileIn,
    templates: dict[Segment, Template],
    staging: Path,
    out: Path,
    clock: Callable[[], float],
) -> dict[str, Any]:
    with transaction(db) as conn:
        row = conn.execute("SELECT status, title FROM sessions WHERE id = ?", [sid]).fetchone()
        if row is None:
            raise NotFound(f"没有这场直播：{sid!r}")
        check_reservable(parse_status(row[0]))  # invitations go out while it takes them
        now = clock()
        month = rules.month_of(now)
        recipients = _recipients(conn, templates)
        audience = _audience(conn, sid)
        ids = orjson.dumps(sorted(recipients)).decode()
        sent = dict(
            conn.execute(
                "SELECT member_id, count(*) FROM invitations WHERE month = ? "
                f"AND member_id IN {json_values(conn)} GROUP BY member_id",
                [month, ids],
            ).fetchall()
        )
        already = {
            str(r[0])
            for r in conn.execute(
                "SELECT member_id FROM invitations WHERE session_id = ?", [sid]
            ).fetchall()
        }
        selection = rules.select(
            recipients.values(),
            templates,
            {str(k): int(v) for k, v in sent.items()},
            already,
            spec.monthly_cap,
            _fresh_codes(conn),
            spec.title,
            audience=audience,
        )
        groups = rules.group_messages(selection.invitations, recipients, templates, spec.title)
        written = _write(staging, selection.invitations, recipients, templates, groups)
        _record(conn, sid, selection.invitations, month, now)
    files = _move_in(written, out)  # only once the codes are recorded
    by_channel: dict[str, int] = {}
    for invitation in selection.invitations:
        by_channel[invitation.channel.value] = by_channel.get(invitation.channel.value, 0) + 1
    return {
        "session_id": sid,
        "month": month,
        "monthly_cap": spec.monthly_cap,
        "invited": len(selection.invitations),
        "by_channel": by_channel,
        "skipped": selection.skipped,
        "files": [str(f) for f in files],
    }


def _record(conn: Any, sid: str, invitations: list[Invitation], month: str, now: float) -> None:
    """Record what the export sends (inside its transaction)."""
    conn.executemany(
        "INSERT INTO invitations (code, session_id, member_id, segment, channel, point_id, "
        "leader, month, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i.code,
                sid,
                i.member_id,
                i.circle.value,
                i.channel.value,
                i.point_id,
                i.leader,
                month,
                now,
            )
            for i in invitations
        ],
    )


def _move_in(written: list[Path], out: Path) -> list[Path]:
    """The staged files moved into ``out``, each created exclusively (a hard link, never
    replacing a file there: ``ExportFolderInUse`` naming it), then unlinked from staging."""
    out.mkdir(parents=True, exist_ok=True)
    moved = []
    for staged in written:
        target = out / staged.name
        try:
            os.link(staged, target)
        except FileExistsError as exc:
            raise ExportFolderInUse(
                f"{target} 已存在：请换一个文件夹，已发出的邀请不会被覆盖"
            ) from exc
        except OSError:  # a filesystem without hard links: copy into a new file
            with _create_binary(target) as handle:
                handle.write(staged.read_bytes())
        staged.unlink()
        moved.append(target)
    return moved


def _write(
    out: Path,
    invitations: list[Invitation],
    recipients: dict[str, Recipient],
    templates: dict[Segment, Template],
    groups: list[rules.GroupMessage],
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    wecom_path, sms_path = out / WECOM_FILE, out / SMS_FILE
    with _create(wecom_path) as handle:
        writer = csv.writer(handle)
        writer.writerow(spreadsheet_row(["external_userid", "tag", "content", "invite_code"]))
        for i in invitations:
            if i.channel is rules.Channel.WECOM:
                who = recipients[i.member_id].wecom_id
                writer.writerow(spreadsheet_row([who, templates[i.circle].tag, i.text, i.code]))
    with _create(sms_path) as handle:
        writer = csv.writer(handle)
        writer.writerow(spreadsheet_row(["phone", "content", "chars", "parts"]))
        for i in invitations:
            if i.channel is rules.Channel.SMS:
                phone = rules.sms_phone(recipients[i.member_id].phone)
                writer.writerow(
                    spreadsheet_row([phone, i.text, len(i.text), rules.sms_parts(i.text)])
                )
    files = [wecom_path, sms_path]
    by_point: dict[str, list[rules.GroupMessage]] = {}
    for message in groups:
        by_point.setdefault(message.point_id, []).append(message)
    for point, messages in sorted(by_point.items()):
        target = out / f"group_{_safe(point)}.txt"
        parts = [
            f"【{m.leader or rules.NO_LEADER} · {m.circle.value}】\n{m.text}" for m in messages
        ]
        with _create(target, "utf-8") as handle:
            handle.write("\n\n".join(parts) + "\n")
        files.append(target)
    return files


def _create(path: Path, encoding: str = ENCODING) -> TextIO:
    """A new file (never an existing one: ``ExportFolderInUse`` naming it)."""
    try:
        return path.open("x", encoding=encoding, newline="")
    except FileExistsError as exc:
        raise ExportFolderInUse(f"{path} 已存在：请换一个文件夹，已发出的邀请不会被覆盖") from exc


def _create_binary(path: Path) -> BinaryIO:
    try:
        return path.open("xb")
    except FileExistsError as exc:
        raise ExportFolderInUse(f"{path} 已存在：请换一个文件夹，已发出的邀请不会被覆盖") from exc


def _safe(name: str) -> str:
    """A file-name part for a point id: its safe characters, then a short hash of the whole
    id, so two ids differing only in unsafe characters ("pt/1", "pt_1") never share a file."""
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in name)
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{kept[:40] or 'point'}-{digest}"


# -- the funnel --------------------------------------------------------------------------


def funnel_for(db: Any, sid: str) -> Funnel:
    if db.execute("SELECT 1 FROM sessions WHERE id = ?", [sid]).fetchone() is None:
        raise NotFound(f"没有这场直播：{sid!r}")
    sent = [
        Sent(str(code), str(member), parse_segment(segment), str(point), str(leader))
        for code, member, segment, point, leader in db.execute(
            "SELECT code, member_id, segment, point_id, leader FROM invitations "
            "WHERE session_id = ?",
            [sid],
        ).fetchall()
    ]
    buyers = {
        str(r[0])
        for r in db.execute(
            "SELECT DISTINCT member_id FROM live_orders WHERE session_id = ? AND status <> ?",
            [sid, OrderStatus.CANCELLED.value],
        ).fetchall()
    }
    return rules.funnel(
        sent, reservations.member_codes(db, sid), reservations.joined_members(db, sid), buyers
    )


def funnel_json(db: Any, sid: str) -> dict[str, Any]:
    """``GET /sessions/{sid}/invitations/funnel`` and ``/stats``'s ``invitation_funnel``."""
    return {"session_id": sid, **funnel_for(db, sid).to_json()}
