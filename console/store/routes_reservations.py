"""Before the show: reservations (预约) and the invitation funnel (``console.domain``'s
``reservations`` and ``invitations`` say what each figure means)."""

from __future__ import annotations

import pathlib
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from console.domain.reservations import MAX_CODE_LENGTH
from console.store import invitations, reservations
from console.store.auth import Permission
from console.store.deps import Context, SessionId, json_response, require
from console.store.errors import problem
from console.store.imports import ImportOptions, MappingError, parse_map
from console.store.imports.runner import ImportError_
from console.store.models import StrictBody

router = APIRouter(prefix="/api/v1")
MAX_MESSAGE = 200


class ReservationIn(StrictBody):
    member_id: str = Field(min_length=1, max_length=64)
    invite_code: str = Field(default="", max_length=MAX_CODE_LENGTH)
    id: str = Field(default="", max_length=100, description="the caller's idempotency key")


class CodeIn(StrictBody):
    text: str = Field(
        min_length=1, max_length=MAX_MESSAGE, description='the group message: "预约 123456"'
    )


@router.post("/sessions/{sid}/reservations", dependencies=[Depends(require(Permission.INGEST))])
async def reserve(sid: SessionId, body: ReservationIn, ctx: Context) -> Response:
    """A member reserves (a mini-program, a bot, a console): idempotent on session and
    member; 201 when made now, 200 when it was already there."""
    made = await ctx.write(
        reservations.reserve, sid, body.member_id, body.invite_code.upper(), body.id, ctx.clock
    )
    return json_response(made, status=201 if made["created"] else 200)


@router.post(
    "/sessions/{sid}/reservations/code", dependencies=[Depends(require(Permission.INGEST))]
)
async def reserve_by_code(sid: SessionId, body: CodeIn, ctx: Context) -> Response:
    """A code typed in a group ("预约 K7F3Q2A8", an invitation code; "预约 123456", the
    member's bind code, spent by it): its member reserves. An unknown, used or expired
    code, or another session's invitation, is refused naming ``code``."""
    made = await ctx.write(reservations.reserve_by_code, sid, body.text, ctx.clock)
    return json_response(made, status=201 if made["created"] else 200)


@router.post(
    "/sessions/{sid}/reservations/import", dependencies=[Depends(require(Permission.MANAGE))]
)
async def import_reservations(
    sid: SessionId,
    request: Request,
    ctx: Context,
    map: Annotated[str, Query(description="member_id=COLUMN,reserved_at=COLUMN,...")] = "",
    filename: Annotated[str, Query(max_length=100)] = "upload.csv",
) -> Response:
    """The body is a platform's reservation export (CSV): all rows or none; each problem
    names the file, line and field."""
    try:
        options = ImportOptions(mapping=parse_map(map, reservations.KIND))
    except MappingError as exc:
        raise problem(422, "map", str(exc)) from exc
    body = await request.body()
    try:
        result = await ctx.write(_import_bytes, sid, body, options, filename, ctx.clock)
    except ImportError_ as exc:
        raise problem(422, "file", str(exc)) from exc
    return json_response(result, status=200 if result["applied"] else 422)


def _import_bytes(
    db: Any, sid: str, body: bytes, options: ImportOptions, filename: str, clock: Any
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "upload.csv"
        path.write_bytes(body)
        report = reservations.import_reservations(db, sid, path, options, filename, clock)
    return reservations.report_json(report)


@router.get("/sessions/{sid}/reservations", dependencies=[Depends(require(Permission.READ))])
async def reservation_figures(sid: SessionId, ctx: Context) -> Response:
    """Reserved and arrived (已到: reserved members with a viewer_joined in the log), per
    circle and in total, and the host's caption ("预约 230 · 已到 140")."""
    return json_response(await ctx.read(reservations.reservations_json, sid))


@router.get("/sessions/{sid}/invitations/funnel", dependencies=[Depends(require(Permission.READ))])
async def invitation_funnel(sid: SessionId, ctx: Context) -> Response:
    """invite -> reservation -> watch -> order, in total, per circle and per 团长."""
    return json_response(await ctx.read(invitations.funnel_json, sid))
