"""Operator routes: members and their circles, overrides, segmentation runs, imports."""

from __future__ import annotations

import pathlib
import tempfile
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from console.domain.bounds import MAX_SEQ
from console.domain.overrides import MAX_REASON
from console.domain.segment_run import MAX_WINDOW_DAYS
from console.domain.segments import Segment
from console.store import members, overrides, repository, segmentation
from console.store.deps import Context, Operator, json_response
from console.store.errors import problem
from console.store.imports import ImportOptions, MappingError, import_file, parse_map
from console.store.imports.runner import KINDS, ImportError_
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
    dayfirst: bool = False,
    utc_offset: Annotated[float, Query(ge=-12, le=14)] = 8.0,
    filename: Annotated[str, Query(max_length=100)] = "upload",
) -> Response:
    """The request body is the file itself (CSV or JSON Lines)."""
    if kind not in KINDS:
        raise problem(404, "kind", f"未知的导入类型 {kind!r}；可选：{', '.join(KINDS)}")
    try:
        options = ImportOptions(
            mapping=parse_map(map, kind),
            dayfirst=dayfirst,
            utc_offset_hours=utc_offset,
            skip_bad=skip_bad,
        )
    except MappingError as exc:
        raise problem(422, "map", str(exc)) from exc
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
            result["rejects_csv"] = pathlib.Path(report.rejects_file).read_text(encoding="utf-8")
    return result
