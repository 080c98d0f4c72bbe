"""Replay routes (回放): a session's timeline, and the room at any moment of it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from console.domain.snapshot import to_snapshot
from console.store import repurchase
from console.store.auth import Permission
from console.store.deps import Context, SessionId, json_response, require
from console.store.errors import problem
from console.store.replay_index import ReplayIndexes

router = APIRouter(prefix="/api/v1")


@router.get("/sessions/{sid}/replay", dependencies=[Depends(require(Permission.READ))])
async def replay_timeline(sid: SessionId, ctx: Context) -> Response:
    """The whole session over time: samples (the room every ``step_s``), markers, bounds."""
    index = await ctx.read(ctx.indexes.caught_up, sid)
    return json_response(index.timeline())


@router.get("/sessions/{sid}/replay/moment", dependencies=[Depends(require(Permission.READ))])
async def replay_moment(
    sid: SessionId,
    ctx: Context,
    seq: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    at: Annotated[float | None, Query(ge=0, le=1e11, description="epoch seconds")] = None,
) -> Response:
    """The room right after event ``seq``, or as it was at time ``at``: the whole reducer
    state as a snapshot (``console.domain.snapshot``), with the event's seq and time."""
    if (seq is None) == (at is None):
        raise problem(422, "seq", "seq 和 at 必须且只能给一个")
    return json_response(await ctx.read(_moment, sid, ctx.indexes, seq, at))


@router.get("/sessions/{sid}/repurchase", dependencies=[Depends(require(Permission.READ))])
async def session_repurchase(sid: SessionId, ctx: Context) -> Response:
    """30-day repurchase of the session's buyers, in total and per circle (their circle at the
    session), at the store's clock: ``complete`` false and ``days_observed`` while the 30 days
    are not over (``console.domain.repurchase``). Rates are fractions."""
    return json_response(await ctx.read(repurchase.repurchase_json, sid, ctx.clock()))


def _moment(
    db: Any, sid: str, indexes: ReplayIndexes, seq: int | None, at: float | None
) -> dict[str, Any]:
    index = indexes.caught_up(db, sid)
    wanted = index.seq_at(at) if at is not None else min(int(seq or 0), index.last_seq)
    state = index.moment(db, wanted)
    return {"seq": state.seq, "ts": index.ts_of(state.seq), "state": to_snapshot(state)}
