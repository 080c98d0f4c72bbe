"""FastAPI dependencies shared by the routers: the store context, auth, path checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Request, Response

from console.store import auth, repository
from console.store.auth import Caller, Permission
from console.store.context import StoreContext
from console.store.errors import problem


def _context(request: Request) -> StoreContext:
    ctx: StoreContext = request.app.state.store
    return ctx


Context = Annotated[StoreContext, Depends(_context)]


async def authenticated(
    ctx: Context, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    """A dependency: the caller of a valid bearer token; 401 otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise problem(401, "authorization", "需要 Bearer 令牌")
    caller = ctx.read_inline(auth.caller_of, token.strip())
    if caller is None:
        raise problem(401, "authorization", "令牌无效或已被吊销")
    return caller


def require(permission: Permission) -> Callable[..., Awaitable[Caller]]:
    """A dependency: 401 without a valid token, 403 when its role lacks ``permission``."""

    async def check(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        if permission not in auth.GRANTS[caller.role]:
            raise problem(403, "authorization", auth.refusal(caller.role, permission))
        return caller

    return check


Operator = Annotated[Caller, Depends(require(Permission.MANAGE))]


async def _existing_session(
    sid: str, ctx: Context, _caller: Annotated[Caller, Depends(authenticated)]
) -> str:
    """The session id of the path, once the caller is known (so that an anonymous caller
    learns nothing, not even which sessions exist: 401 before 404)."""
    try:
        ctx.read_inline(repository.last_seq, sid)
    except repository.NotFound as exc:
        raise problem(404, "sid", str(exc)) from exc
    return sid


SessionId = Annotated[str, Depends(_existing_session)]


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")
