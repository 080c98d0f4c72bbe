"""The stream overlay (直播贴片): a page for a streaming program's browser source.

``GET /overlay/{sid}?token=T`` serves the page; the page reads ``/overlay/{sid}/state`` once
and follows ``/overlay/{sid}/stream`` (server-sent events, one ``overlay`` event each time
the log grows). A browser source cannot send headers, so the token comes in the query. It
must be an overlay token (no other role's, not even an operator's): it reads nothing else, and
the page never carries a circle's private price or a full name (``domain.overlay``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from console.resources import resource_path
from console.store import auth, repository
from console.store.assets import add_asset_route
from console.store.deps import Context, json_response
from console.store.errors import problem
from console.store.overlay import overlay_state

router = APIRouter(prefix="/overlay")

POLL_S = 0.25  # how soon the overlay follows the log
HEARTBEAT_S = 5.0
TOKEN_RECHECK_S = 1.0
PAGE = "overlay/overlay.html"
REVOKED = "贴片令牌已吊销"

Token = Annotated[str | None, Query(max_length=200, description="an overlay token")]


def _check(ctx: Context, sid: str, token: str | None) -> str:
    """The token, checked: 401 without a valid one, 403 for a role without the overlay,
    404 for no such session."""
    token = (token or "").strip()
    caller = ctx.read_inline(auth.caller_of, token) if token else None
    if caller is None:
        raise problem(401, "token", "需要有效的贴片令牌（?token=…）")
    if auth.Permission.OVERLAY not in auth.GRANTS[caller.role]:
        raise problem(403, "token", auth.refusal(caller.role, auth.Permission.OVERLAY))
    try:
        ctx.read_inline(repository.last_seq, sid)
    except repository.NotFound as exc:
        raise problem(404, "sid", str(exc)) from exc
    return token


add_asset_route(router)  # the page's fonts (public: no token); before /{sid}


@router.get("/{sid}", response_class=HTMLResponse)
async def overlay_page(sid: str, ctx: Context, token: Token = None) -> HTMLResponse:
    """The overlay page (1920x1080, transparent), for OBS's browser source."""
    _check(ctx, sid, token)
    page = resource_path(PAGE).read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.get("/{sid}/state")
async def overlay_now(sid: str, ctx: Context, token: Token = None) -> Response:
    _check(ctx, sid, token)
    return json_response(await ctx.read(overlay_state, ctx.indexes, sid))


@router.get(
    "/{sid}/stream",
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
async def overlay_stream(sid: str, ctx: Context, token: Token = None) -> StreamingResponse:
    """One ``overlay`` event each time the log grows; a comment every few seconds."""
    checked_token = _check(ctx, sid, token)

    async def frames() -> AsyncIterator[bytes]:
        shown = -1
        beat = checked = time.monotonic()
        while True:
            now = time.monotonic()
            if now - checked >= TOKEN_RECHECK_S:
                checked = now
                if ctx.read_inline(auth.caller_of, checked_token) is None:
                    yield b"event: error\ndata: " + orjson.dumps(REVOKED) + b"\n\n"
                    return
            last = ctx.read_inline(repository.last_seq, sid)
            if last != shown:
                state = await ctx.read(overlay_state, ctx.indexes, sid)
                shown = int(state["seq"])
                yield b"event: overlay\ndata: " + orjson.dumps(state) + b"\n\n"
                beat = now
            elif now - beat >= HEARTBEAT_S:
                yield b": alive\n\n"
                beat = now
            await asyncio.sleep(POLL_S)

    return StreamingResponse(
        frames(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
