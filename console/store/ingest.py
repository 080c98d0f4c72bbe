"""Validated platform events into a session's log: the one path for ``/events`` and the
webhooks (times checked against the session, text redacted, appended, subscribers told)."""

from __future__ import annotations

from typing import Any

from console.domain.bounds import event_time_problem
from console.domain.events import Problem
from console.store import rehearsal, repository
from console.store.context import StoreContext
from console.store.errors import ApiError, problem
from console.store.validation import redact_batch


async def store_events(ctx: StoreContext, sid: str, events: list[dict[str, Any]]) -> dict[str, int]:
    try:
        created_at = ctx.read_inline(repository.session_created_at, sid)
        _check_event_times(events, created_at, ctx.clock())
        events, originals = redact_batch(events)
        result = await ctx.write(rehearsal.ingest, sid, events, originals, ctx.clock)
    except repository.NotFound as exc:
        raise problem(404, "sid", str(exc)) from exc
    ctx.notifier.publish(sid, result.last_seq)
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "last_seq": result.last_seq,
    }


def _check_event_times(events: list[dict[str, Any]], created_at: float, now: float) -> None:
    """The whole batch is refused when any event is dated outside its session's window."""
    problems = [
        Problem(f"events[{index}].ts", reason)
        for index, event in enumerate(events)
        if (reason := event_time_problem(event["ts"], created_at, now)) is not None
    ]
    if problems:
        raise ApiError(422, problems)
