"""One JSON shape for every 4xx: which field, and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.domain.bounds import NUL, text_problem
from console.domain.decisions import RefusalKind, Refused
from console.domain.events import Problem
from console.store.messages import field_of, http_reason, json_position_reason, reason_of

MAX_PROBLEMS_SHOWN = 20


class ApiError(Exception):
    """Raised by handlers; rendered as ``{"error", "problems", "problem_count"}``."""

    def __init__(self, status: int, problems: Sequence[Problem]) -> None:
        super().__init__(str(problems[0]) if problems else "error")
        self.status = status
        self.problems = list(problems)


REFUSAL_STATUS: dict[RefusalKind, int] = {
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.NOT_OFFERED: 403,
    RefusalKind.CONFLICT: 409,
    RefusalKind.INVALID: 422,
}
"""How the API answers each kind of refusal a domain decision gives."""


async def refused_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refused)
    refusal = exc.refusal
    return JSONResponse(
        problem_body([Problem(refusal.field, refusal.reason)]),
        status_code=REFUSAL_STATUS[refusal.kind],
    )


async def not_found_handler(_request: Request, exc: Exception) -> JSONResponse:
    """A named thing a reader or writer looked up is not there (``repository.NotFound``,
    e.g. an unknown session in a query): 404 with its Chinese message, never a 500, naming
    the field the caller gave for it (``NotFound.field``: ``session``, ``sid``, ...)."""
    field = getattr(exc, "field", "id") or "id"
    return JSONResponse(problem_body([Problem(field, str(exc))]), status_code=404)


async def database_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL unreachable or restarting: 503, said in Chinese; the client retries."""
    body = problem_body([Problem("database", "数据库暂时不可用，请稍后重试")])
    return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})


def problem(status: int, field: str, reason: str) -> ApiError:
    return ApiError(status, [Problem(field, reason)])


def problem_body(problems: Sequence[Problem]) -> dict[str, object]:
    return {
        "error": str(problems[0]) if problems else "error",
        "problems": [{"field": p.field, "reason": p.reason} for p in problems[:MAX_PROBLEMS_SHOWN]],
        "problem_count": len(problems),
    }


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(problem_body(exc.problems), status_code=exc.status, headers=headers)


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem_of(error, exc.body) for error in exc.errors()]
    return JSONResponse(problem_body(problems), status_code=422)


def _problem_of(error: dict[str, Any], body: Any) -> Problem:
    """One validation error as a Problem; a body that is not JSON at all is named by line and
    column (FastAPI's loc is ``("body", offset)``, its reason Python's English)."""
    loc = tuple(error.get("loc", ()))
    if (
        error.get("type") == "json_invalid"
        and len(loc) == 2
        and loc[0] == "body"
        and isinstance(loc[1], int)
        and isinstance(body, (str, bytes))
    ):
        detail = str((error.get("ctx") or {}).get("error", error.get("msg", "")))
        return Problem("body", json_position_reason(body, loc[1], detail))
    return Problem(field_of(error), reason_of(error))


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        problem_body([Problem("request", http_reason(exc.status_code, str(exc.detail)))]),
        status_code=exc.status_code,
        headers=exc.headers,
    )


class BodyLimitMiddleware:
    """Rejects request bodies over ``max_bytes`` with 413 before the handler reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_max = max_bytes
        self.larger = larger or {}  # path prefix -> its own limit (file uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next(
            (size for prefix, size in self.larger.items() if path.startswith(prefix)),
            self.default_max,
        )
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._reject(scope, receive, send, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise ApiError(413, [self._problem(limit)])
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    def _problem(limit: int) -> Problem:
        return Problem("body", f"请求体超过 {limit} 字节")

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = JSONResponse(problem_body([self._problem(limit)]), status_code=413)
        await response(scope, receive, send)


class NulTextMiddleware:
    """Refuses a request whose path or query holds a NUL (U+0000) with 422 naming where:
    no id, name or search holds one, and PostgreSQL cannot even compare with it (SQLite
    would quietly find nothing). Bodies are checked field by field (``models``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_in_request(scope)
            if where is not None:
                problem_ = Problem(where, text_problem(NUL) or "")
                response = JSONResponse(problem_body([problem_]), status_code=422)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nul_in_request(scope: Scope) -> str | None:
    if NUL in scope.get("path", ""):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if NUL in key or NUL in value:
            return key if NUL not in key else "query"
    return None
