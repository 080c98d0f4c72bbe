"""The store's FastAPI application (``/api/v1``)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

import console
from console.domain.bounds import MAX_SEQ
from console.domain.decisions import Refused
from console.domain.session_clock import SessionClock
from console.domain.sessions import SessionStatus
from console.store import auth, repository, sessions, stats, stream
from console.store.auth import GRANTS, Caller, Permission
from console.store.context import StoreContext
from console.store.deps import Context, SessionId, authenticated, json_response, require
from console.store.errors import (
    ApiError,
    BodyLimitMiddleware,
    NulTextMiddleware,
    api_error_handler,
    database_unavailable_handler,
    http_error_handler,
    not_found_handler,
    problem,
    refused_handler,
    validation_error_handler,
)
from console.store.ingest import store_events
from console.store.jobs import run_jobs
from console.store.models import FreeJson, StrictBody
from console.store.routes_commands import router as commands_router
from console.store.routes_commerce import router as commerce_router
from console.store.routes_followups import router as followups_router
from console.store.routes_leader import router as leader_router
from console.store.routes_members import router as members_router
from console.store.routes_overlay import router as overlay_router
from console.store.routes_platform_stats import router as platform_stats_router
from console.store.routes_replay import router as replay_router
from console.store.routes_reservations import router as reservations_router
from console.store.routes_webhooks import router as webhooks_router
from console.store.schedule import (
    follow_logs,
    run_chain_deadlines,
    run_override_expiry,
    run_schedule,
)
from console.store.target import StoreTarget
from console.store.validation import BatchError, batch_json_schema, parse_batch

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # import files
MAX_PAGE = 5_000
STREAM_HEARTBEAT_S = stream.HEARTBEAT_S
STREAM_TOKEN_RECHECK_S = stream.TOKEN_RECHECK_S

ReadyCallback = Callable[[], Awaitable[None] | None]


# -- request and response bodies (also the OpenAPI document) ----------------------------


class SessionCreate(StrictBody):
    title: str = Field(min_length=1, max_length=120)
    scenario: str | None = Field(default=None, max_length=64)
    audience: FreeJson | None = None
    clock: SessionClock = Field(
        default=SessionClock.WALL,
        strict=False,  # the enum from its JSON string
        description="wall: a show; rehearsal: a script played fast, on its events' own time",
    )


class SessionPatch(StrictBody):
    status: SessionStatus = Field(strict=False)  # the enum from its JSON string


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    last_seq: int


# -- dependencies ------------------------------------------------------------------------


# -- routes ------------------------------------------------------------------------------

router = APIRouter(prefix="/api/v1")


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": console.__version__}


@router.get("/me")
async def me(caller: Annotated[Caller, Depends(authenticated)]) -> dict[str, Any]:
    """Who this token is: its role, its label and what it may do (the console's mode)."""
    return {
        "role": caller.role.value,
        "name": caller.name,
        "permissions": sorted(p.value for p in GRANTS[caller.role]),
    }


@router.post("/sessions", status_code=201, dependencies=[Depends(require(Permission.MANAGE))])
async def create_session(body: SessionCreate, ctx: Context) -> dict[str, Any]:
    return await ctx.write(
        repository.create_session, body.title, body.scenario, body.audience, body.clock
    )


@router.get("/sessions", dependencies=[Depends(require(Permission.READ))])
async def list_sessions(ctx: Context) -> list[dict[str, Any]]:
    return await ctx.read(repository.list_sessions)


@router.get("/sessions/{sid}", dependencies=[Depends(require(Permission.READ))])
async def get_session(sid: SessionId, ctx: Context) -> dict[str, Any]:
    return await ctx.read(repository.get_session, sid)


@router.patch("/sessions/{sid}", dependencies=[Depends(require(Permission.MANAGE))])
async def patch_session(sid: SessionId, body: SessionPatch, ctx: Context) -> dict[str, Any]:
    """开播 / 下播: the only way a session's status changes (an event never starts a show)."""
    session, appended = await ctx.write(sessions.set_status, sid, body.status, ctx.clock)
    if appended is not None:
        ctx.notifier.publish(sid, appended)
    return session


@router.post(
    "/sessions/{sid}/events",
    dependencies=[Depends(require(Permission.INGEST))],
    response_model=IngestResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": batch_json_schema()}},
        }
    },
)
async def ingest_events(sid: str, request: Request, ctx: Context) -> Response:
    try:
        events = parse_batch(await request.body())
    except BatchError as exc:
        raise ApiError(exc.status, exc.problems) from exc
    return json_response(await store_events(ctx, sid, events))


@router.get("/sessions/{sid}/events")
async def read_events(
    sid: SessionId,
    ctx: Context,
    caller: Annotated[Caller, Depends(require(Permission.READ))],
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1_000,
    reveal: bool = False,
) -> Response:
    """The log after ``after``. Free text and names are redacted (脱敏) for everyone; the
    operator may ask for what the platform sent (``reveal=true``)."""
    if reveal and Permission.MANAGE not in GRANTS[caller.role]:
        raise problem(403, "reveal", "只有运营可以查看未脱敏的原文")
    rows = await ctx.read(repository.read_events_json, sid, after, limit)
    if reveal:
        rows = await ctx.read(repository.reveal_originals, sid, rows)
    last = await ctx.read(repository.last_seq, sid)
    body = b'{"events":[' + ",".join(js for _, js in rows).encode() + b'],"last_seq":%d}' % last
    return Response(body, media_type="application/json")


_SEQ_TEXT = re.compile(r"[0-9]{1,19}")


def _resume_point(
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> int:
    """Where a stream starts: after Last-Event-ID (a reconnecting client), else ``after``."""
    if last_event_id is not None and last_event_id.strip():
        value = last_event_id.strip()
        # Only ASCII digits, and few of them: str.isdigit() also takes superscripts and
        # Arabic-Indic digits, which int() refuses, and a seq past SQLite's integers would
        # end the stream mid-way.
        if not _SEQ_TEXT.fullmatch(value) or int(value) > MAX_SEQ:
            raise problem(
                422,
                "Last-Event-ID",
                f"必须是事件序号（0 到 {MAX_SEQ} 的整数），收到 {value[:40]!r}",
            )
        return int(value)
    return after or 0


@router.get(
    "/sessions/{sid}/stream",
    dependencies=[Depends(require(Permission.READ))],
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
async def stream_events(
    sid: SessionId,
    ctx: Context,
    seq: Annotated[int, Depends(_resume_point)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The log as server-sent events whose ids are ``seq``; resumes after Last-Event-ID.

    An idle stream carries a comment every ``STREAM_HEARTBEAT_S``, so a console can tell a
    quiet room from a dead link (its read timeout is a few heartbeats). The caller's token
    is checked again every ``STREAM_TOKEN_RECHECK_S``: a revoked token's stream ends (its
    reconnect then gets 401). A reader too far behind is cut off with ``event: error``
    (see ``console.store.stream``)."""
    token = (authorization or "").partition(" ")[2].strip()
    # Subscribe before the first catch-up read: nothing appended in between is missed.
    subscriber = ctx.broadcaster.subscribe(sid, ctx.read_inline(repository.last_seq, sid), token)

    def read(after: int) -> Awaitable[list[tuple[int, bytes]]]:
        return ctx.read(stream.read_frames, sid, after, stream.CHUNK_EVENTS)

    return stream.LogStream(ctx.broadcaster, read, subscriber, seq)


@router.get("/sessions/{sid}/stats", dependencies=[Depends(require(Permission.READ))])
async def session_stats(sid: SessionId, ctx: Context) -> Response:
    """复盘: the session's funnel, money and rates, in total and per circle (DOMAIN.md)."""
    return json_response(await ctx.read(stats.stats_for, sid, ctx.indexes, ctx.clock()))


@router.get("/sessions/{sid}/state", dependencies=[Depends(require(Permission.READ))])
async def room_state(sid: SessionId, ctx: Context) -> Response:
    return json_response(await ctx.read(ctx.room_state, sid))


# -- the application ---------------------------------------------------------------------


def create_app(
    target: StoreTarget | Path | str,
    on_ready: ReadyCallback | None = None,
    schedule: bool = True,
) -> FastAPI:
    """The store app over ``target``: a SQLite file (created if missing) or a PostgreSQL
    database (its schema created if missing).

    With ``schedule`` the store runs the weekly segmentation itself (see run_schedule).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = StoreContext(target)
        app.state.store = ctx

        def start_jobs() -> list[asyncio.Future[Any]]:
            jobs: list[asyncio.Future[Any]] = [
                asyncio.ensure_future(run_chain_deadlines(ctx)),
                asyncio.ensure_future(run_override_expiry(ctx)),
                asyncio.ensure_future(follow_logs(ctx)),
            ]
            if schedule:
                jobs.append(asyncio.ensure_future(run_schedule(ctx)))
            return jobs

        ctx.broadcaster.start(lambda token: ctx.read_inline(auth.caller_of, token) is not None)
        if ctx.listener is not None:
            ctx.listener.start()
        background = asyncio.ensure_future(run_jobs(ctx, start_jobs))
        if on_ready is not None:
            result = on_ready()
            if result is not None:
                await result
        try:
            yield
        finally:
            ctx.broadcaster.stop()
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background
            ctx.close()

    app = FastAPI(title="直播中控台 store", version=console.__version__, lifespan=lifespan)
    # Our own limiter, not FastAPI's max_body_size: that one answers in plain text, and
    # every error here is JSON naming the field.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=MAX_BODY_BYTES,
        larger={"/api/v1/imports/": MAX_UPLOAD_BYTES},
    )
    app.add_middleware(NulTextMiddleware)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(psycopg.OperationalError, database_unavailable_handler)
    app.add_exception_handler(Refused, refused_handler)
    app.add_exception_handler(repository.NotFound, not_found_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.include_router(router)
    app.include_router(members_router)
    app.include_router(commerce_router)
    app.include_router(commands_router)
    app.include_router(replay_router)
    app.include_router(webhooks_router)
    app.include_router(platform_stats_router)
    app.include_router(overlay_router)
    app.include_router(reservations_router)
    app.include_router(followups_router)
    app.include_router(leader_router)
    return app
