"""Platform-reported statistics: ``PUT /sessions/{sid}/platform-stats/{platform}``.

An adapter (ingest token) or the operator puts a platform's per-viewer figures after the
show, a page at a time; the same page put again changes nothing. ``/stats`` summarises them
under ``platform_reported`` (``console.domain.platform_stats``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from console.domain.platform_stats import (
    MAX_KEY_LENGTH,
    MAX_VIEWERS_PER_CALL,
    MAX_WATCH_TIME_S,
    ViewerStat,
)
from console.store import platform_stats
from console.store.auth import Permission
from console.store.deps import Context, SessionId, json_response, require
from console.store.models import StrictBody

router = APIRouter(prefix="/api/v1")


class ViewerIn(StrictBody):
    viewer: str = Field(min_length=1, max_length=MAX_KEY_LENGTH, description="the platform's id")
    kind: Literal["user", "external"] = "external"
    watch_time: int = Field(ge=0, le=MAX_WATCH_TIME_S, description="seconds")
    commented: bool = False
    inviter: str = Field(default="", max_length=MAX_KEY_LENGTH)


class ViewersIn(StrictBody):
    viewers: list[ViewerIn] = Field(max_length=MAX_VIEWERS_PER_CALL)


@router.put(
    "/sessions/{sid}/platform-stats/{platform}",
    dependencies=[Depends(require(Permission.INGEST))],
)
async def put_platform_stats(
    sid: SessionId, platform: str, body: ViewersIn, ctx: Context
) -> Response:
    """A platform's figures per viewer (平台统计), kept apart from the session's own."""
    viewers = [
        ViewerStat(v.viewer, v.kind, v.watch_time, v.commented, v.inviter) for v in body.viewers
    ]
    return json_response(
        await ctx.write(platform_stats.put_platform_stats, sid, platform, viewers, ctx.clock)
    )
