"""Follow-up tasks (余温沉淀): the operator's report and list, and completion by the operator
or by the task's own 团长 (a leader token; another leader's task is not found to them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from console.domain.followups import CompleteRequest
from console.store import followups
from console.store.auth import GRANTS, Caller, Permission, Role, refusal
from console.store.deps import Context, SessionId, authenticated, json_response, require
from console.store.errors import problem

router = APIRouter(prefix="/api/v1")

TaskId = Annotated[str, Path(min_length=1, max_length=64)]


async def task_owner(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
    """The operator, or a 团长: who may list and complete tasks (a 团长 only their own)."""
    if not GRANTS[caller.role] & {Permission.MANAGE, Permission.LEADER}:
        raise problem(403, "authorization", refusal(caller.role, "处理回访任务"))
    return caller


TaskCaller = Annotated[Caller, Depends(task_owner)]


def _point(caller: Caller) -> str | None:
    return caller.point if caller.role is Role.LEADER else None


@router.get("/sessions/{sid}/followups", dependencies=[Depends(require(Permission.MANAGE))])
async def followup_report(sid: SessionId, ctx: Context) -> Response:
    """Completion per rule and per owner now (按时完成 / 逾期完成 / 待办 / 已逾期) and what the
    finished tasks led to: the 30-day repurchase of members whose task was done against
    those whose task was not."""
    return json_response(await ctx.read(followups.followup_report_json, sid, ctx.clock()))


@router.get("/tasks")
async def list_tasks(
    ctx: Context,
    caller: TaskCaller,
    session: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    ] = None,
) -> Response:
    """The operator: every task (or one session's); a 团长: their own only."""
    tasks = await ctx.read(followups.list_tasks, session, _point(caller), ctx.clock())
    return json_response({"tasks": tasks})


@router.post("/tasks/{task_id}/done")
async def task_done(task_id: TaskId, ctx: Context, caller: TaskCaller) -> Response:
    """Mark a task done; idempotent (a done task keeps its first completion)."""
    request = CompleteRequest(by=caller.name, leader_point=_point(caller))
    done = await ctx.write(followups.complete_task, task_id, request, ctx.clock())
    return json_response(done)
