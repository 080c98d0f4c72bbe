"""Operator routes: members and their circles, overrides, segmentation runs, imports."""

from __future__ import annotations

import pathlib
import tempfile
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field

from console.domain.bounds import MAX_SEQ
from console.domain.events import MAX_HANDLE_LENGTH, MAX_PLATFORM_LENGTH
from console.domain.overrides import MAX_REASON
from console.domain.segment_run import MAX_WINDOW_DAYS
from console.domain.segments import Segment
from console.store import identities, members, overrides, repository, repurchase, segmentation
from console.store.auth import Caller, Permission
from console.store.deps import Context, Operator, json_response, require
from console.store.errors import problem
from console.store.imports import ImportOptions, MappingError, import_file, parse_map
from console.store.imports import mapping as imports_mapping
from console.store.imports.runner import KINDS, REJECTS_ENCODING, ImportError_
from console.store.models import BoundedDate, Expiry, LaxSegment, StrictBody
from console.store.segmentation import CHINA

router = APIRouter(prefix="/api/v1")


class OverrideIn(StrictBody):
    segment: LaxSegment
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    expires_at: Expiry | None = Field(
        default=None, description="a date (end of that day, China time), a time, or epoch s"
    )


class RunIn(StrictBody):
    as_of: BoundedDate | None = Field(default=None, description="default: today (China time)")
    window_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_WINDOW_DAYS,
        description="days of history ending with as_of (default: the rules' window)",
    )
    force: bool = Field(default=False, description="run even while a session is live")


def _epoch(value: date | datetime | float | None) -> float | None:
    if value is None or isinstance(value, float | int):
        return value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=CHINA)).timestamp()
    return segmentation.end_of_day(value)


# -- members -----------------------------------------------------------------------------


@router.get("/ltv")
async def ltv_by_circle(ctx: Context, _caller: Operator) -> Response:
    """LTV by circle over the brand's whole history: members in their circle now, net spend
    of standing orders (live and imported) per member, in yuan (``console.domain.repurchase``)."""
    return json_response(await ctx.read(repurchase.ltv_json))


@router.get("/members")
async def list_members(
    ctx: Context,
    _caller: Operator,
    segment: Segment | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=members.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    reveal: bool = False,
) -> Response:
    page = await ctx.read(
        members.query_members, segment.value if segment else None, q, limit, offset, reveal
    )
    return json_response(page)


@router.get("/members/{member_id}")
async def get_member(
    member_id: str, ctx: Context, _caller: Operator, reveal: bool = False
) -> Response:
    try:
        return json_response(await ctx.read(members.member_detail, member_id, reveal))
    except repository.NotFound as exc:
        raise problem(404, "member_id", str(exc)) from exc


@router.put("/members/{member_id}/override")
async def put_override(
    member_id: str, body: OverrideIn, ctx: Context, caller: Operator
) -> Response:
    try:
        override = await ctx.write(
            overrides.set_override,
            member_id,
            body.segment,
            body.reason,
            caller.name,
            _epoch(body.expires_at),
            ctx.clock(),
        )
    except repository.NotFound as exc:
        raise problem(404, "member_id", str(exc)) from exc
    return json_response(override)


@router.delete("/members/{member_id}/override", status_code=204)
async def delete_override(member_id: str, ctx: Context, caller: Operator) -> Response:
    if not await ctx.write(overrides.revoke_override, member_id, caller.name, ctx.clock()):
        raise problem(404, "member_id", f"会员 {member_id!r} 没有生效中的手动调整")
    return Response(status_code=204)


# -- platform identities (统一身份) --------------------------------------------------------

Assistant = Annotated[Caller, Depends(require(Permission.COMMAND))]
MemberId = Annotated[str, Path(min_length=1, max_length=64)]


class IdentityIn(StrictBody):
    platform: str = Field(min_length=1, max_length=MAX_PLATFORM_LENGTH, examples=["tiktok"])
    handle: str = Field(
        min_length=1,
        max_length=MAX_HANDLE_LENGTH,
        description="the platform's id: TikTok user id, WeChat openid/unionid, a phone hash",
    )


class IdentitiesIn(StrictBody):
    identities: list[IdentityIn] = Field(min_length=1, max_length=100)


@router.put("/members/{member_id}/identities")
async def put_identities(
    member_id: MemberId, body: IdentitiesIn, ctx: Context, _caller: Operator
) -> Response:
    """Bind platform handles to a member (all or none: a handle bound to someone else is
    refused, 409). Later events from these handles count as the member's."""
    handles = [item.model_dump() for item in body.identities]
    return json_response(await ctx.write(identities.put_identities, member_id, handles, ctx.clock))


@router.get("/members/{member_id}/identities")
async def get_identities(member_id: MemberId, ctx: Context, _caller: Operator) -> Response:
    """The member's handles (operator only: a handle is never shown on a host's screen)."""
    return json_response(
        {"member_id": member_id, "identities": await ctx.read(identities.handles_of, member_id)}
    )


@router.get("/members/{member_id}/bind-code")
async def bind_code(member_id: MemberId, ctx: Context, _caller: Assistant) -> Response:
    """A fresh 6-digit bind code (绑定码) for the member, valid 15 minutes: the viewer comments
    "绑定 123456" in the room and their platform account is theirs."""
    return json_response(await ctx.write(identities.issue_bind_code, member_id, ctx.clock))


# -- segmentation ------------------------------------------------------------------------


def _overview(db: Any, now: float) -> dict[str, Any]:
    latest = segmentation.latest_run_id(db)
    return {
        "latest": None if latest is None else segmentation.get_run(db, latest),
        "runs": segmentation.list_runs(db, limit=20),
        "rules_version": (rules := segmentation.load_rules()).version,
        "window_days": rules.window_days,
        "due": segmentation.is_due(db, now),
    }


@router.get("/segmentation")
async def segmentation_overview(ctx: Context, _caller: Operator) -> Response:
    return json_response(await ctx.read(_overview, ctx.clock()))


@router.get("/segmentation/runs/{run_id}")
async def get_run(
    run_id: Annotated[int, Path(ge=1, le=MAX_SEQ)], ctx: Context, _caller: Operator
) -> Response:
    try:
        return json_response(await ctx.read(segmentation.get_run, run_id))
    except LookupError as exc:
        raise problem(404, "run_id", str(exc)) from exc


@router.post("/segmentation/runs", status_code=201)
async def start_run(ctx: Context, caller: Operator, body: RunIn | None = None) -> Response:
    body = body or RunIn()
    try:
        run = await ctx.write(
            segmentation.run_segmentation,
            body.as_of,
            ctx.clock,
            "api",
            caller.name,
            None,
            body.window_days,
            body.force,
        )
    except segmentation.RunRefused as exc:
        raise exc.verdict.refusal() from exc
    except segmentation.SegmentationError as exc:
        raise problem(409, "members", str(exc)) from exc
    return json_response(run, status=201)


# -- imports -----------------------------------------------------------------------------


@router.post("/imports/{kind}")
async def import_upload(
    kind: str,
    request: Request,
    ctx: Context,
    _caller: Operator,
    map: Annotated[str, Query(description="field=Column,...")] = "",
    format: Annotated[str | None, Query(pattern="^(csv|jsonl)$")] = None,
    skip_bad: bool = False,
    lines: Annotated[
        bool, Query(description="orders: rows are lines of orders (invoice lines), added up")
    ] = False,
    status_map: Annotated[
        str, Query(max_length=2000, description="orders: the export's words, VALUE=STATUS,...")
    ] = "",
    dayfirst: bool = False,
    utc_offset: Annotated[float, Query(ge=-12, le=14)] = 8.0,
    filename: Annotated[str, Query(max_length=100)] = "upload",
) -> Response:
    """The request body is the file itself (CSV or JSON Lines)."""
    if kind not in KINDS:
        raise problem(404, "kind", f"未知的导入类型 {kind!r}；可选：{', '.join(KINDS)}")
    if kind != "orders" and (lines or status_map):
        raise problem(422, "lines" if lines else "status_map", "只用于导入订单（orders）")
    try:
        mapping = parse_map(map, kind)
    except MappingError as exc:
        raise problem(422, "map", str(exc)) from exc
    try:
        words = imports_mapping.status_map(status_map)
    except MappingError as exc:
        raise problem(422, "status_map", str(exc)) from exc
    options = ImportOptions(
        mapping=mapping,
        dayfirst=dayfirst,
        utc_offset_hours=utc_offset,
        skip_bad=skip_bad,
        lines=lines,
        status_map=words,
    )
    body = await request.body()
    try:
        result = await ctx.write(_import_bytes, kind, body, options, format, filename)
    except ImportError_ as exc:
        raise problem(422, "file", str(exc)) from exc
    if not result["applied"]:
        result["error"] = (
            f"{result['rows']} 行中有 {result['rejected']} 行被拒绝，未导入任何数据"
            "（修正后重试，或传 skip_bad=true 跳过坏行）"
        )
        return json_response(result, status=422)
    return json_response(result)


def _import_bytes(
    db: Any, kind: str, body: bytes, options: ImportOptions, fmt: str | None, filename: str
) -> dict[str, Any]:
    """Write the upload to a private temporary file and import it (on the writer thread)."""
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / ("upload.jsonl" if fmt == "jsonl" else "upload.csv")
        path.write_bytes(body)
        options.rejects_path = pathlib.Path(folder) / "rejects.csv"
        report = import_file(db, kind, path, options, fmt, None, filename)
        result = report.to_dict()
        result["rejects_file"] = None
        if report.rejects_file:
            rejects = pathlib.Path(report.rejects_file)
            result["rejects_csv"] = rejects.read_text(encoding=REJECTS_ENCODING)
    return result
