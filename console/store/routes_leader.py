"""The 团长's page (团长工作台): a mobile web page served by the store.

``GET /leader?token=T`` serves the page; it reads ``/leader/today`` (polled every few
seconds: the 接龙 progress follows the show) and posts check-offs, completions and phone
reveals to ``/leader/...``. The token comes in the query, as for the overlay (a link sent to
a phone); it must be a leader token, which carries its pickup point: every endpoint answers
for that point only, whatever the request names (another point's order, task or neighbour
is 404). Any other role's token is 403, none or a wrong one 401 (the page itself answers
with a short page in Chinese, the JSON endpoints with the usual problem body).
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from console.resources import resource_path
from console.store import auth, leader
from console.store.assets import add_asset_route
from console.store.auth import Caller
from console.store.deps import Context, json_response
from console.store.errors import ApiError, problem

router = APIRouter(prefix="/leader")

PAGE = "leader/leader.html"
Token = Annotated[str | None, Query(max_length=200, description="a 团长 (leader) token")]
Ident = Annotated[str, Path(min_length=1, max_length=64)]


def _leader(ctx: Context, token: str | None) -> Caller:
    """The 团长 of a valid leader token: 401 without one, 403 for another role."""
    token = (token or "").strip()
    caller = ctx.read_inline(auth.caller_of, token) if token else None
    if caller is None:
        raise problem(401, "token", "需要有效的团长令牌（?token=…）")
    if auth.Permission.LEADER not in auth.GRANTS[caller.role] or not caller.point:
        raise problem(403, "token", auth.refusal(caller.role, auth.Permission.LEADER))
    return caller


def _by(caller: Caller) -> str:
    return f"{caller.name} @{caller.point}"


def _refusal_page(status: int, text: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>团长工作台</title><body><h1>团长工作台</h1><p>{html.escape(text)}</p></body>"
        "</html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


add_asset_route(router)  # the page's fonts (public: no token), the overlay's


@router.get("", response_class=HTMLResponse, include_in_schema=False)  # a page, not the API
async def leader_page(ctx: Context, token: Token = None) -> HTMLResponse:
    """The 团长's page (phone size), for their pickup point only."""
    try:
        _leader(ctx, token)
    except ApiError as exc:
        text = "请使用团长专属链接打开（令牌无效或已吊销）"
        if exc.status == 403:
            text = "这个链接不是团长链接，无法打开团长工作台"
        return _refusal_page(exc.status, text)
    page = resource_path(PAGE).read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.get("/today")
async def leader_today(ctx: Context, token: Token = None) -> Response:
    """Today's orders to hand out, new neighbours (masked), tasks and live 接龙: one point's."""
    caller = _leader(ctx, token)
    return json_response(await ctx.read(leader.leader_today, caller.point, ctx.clock()))


@router.post("/orders/{order_id}/pickup")
async def pick_up(order_id: Ident, ctx: Context, token: Token = None) -> Response:
    """提货: the order was handed out (idempotent; who and when are kept)."""
    caller = _leader(ctx, token)
    done = await ctx.write(leader.pick_up, caller.point, order_id, _by(caller), ctx.clock())
    return json_response(done)


@router.post("/tasks/{task_id}/done")
async def task_done(task_id: Ident, ctx: Context, token: Token = None) -> Response:
    """A task of this 团长 done (idempotent)."""
    caller = _leader(ctx, token)
    done = await ctx.write(leader.complete, caller.point, task_id, _by(caller), ctx.clock())
    return json_response(done)


@router.post("/neighbours/{member_id}/reveal")
async def reveal(member_id: Ident, ctx: Context, token: Token = None) -> Response:
    """One new neighbour's phone (拨打 / 复制), recorded in the audit log."""
    caller = _leader(ctx, token)
    shown = await ctx.write(leader.reveal_phone, caller.point, member_id, _by(caller), ctx.clock())
    return json_response(shown)
