"""The store's own clock-driven jobs: the weekly segmentation, override expiry (to the
second, not the weekly check's ten minutes), 接龙 deadlines, and the replay indexes
following the logs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import sqlite_utils

from console.store import chains, flash_sales, repository, segmentation
from console.store.context import StoreContext
from console.store.replay_index import IndexPacer

log = logging.getLogger(__name__)
CHECK_EVERY_S = 600.0
FIRST_CHECK_AFTER_S = 60.0
CHAIN_CHECK_EVERY_S = 1.0
EXPIRY_MAX_SLEEP_S = 2.0  # an override set meanwhile, expiring sooner, is seen this late
INDEX_FOLLOW_EVERY_S = 0.5
INDEX_BUSY_RATE = 10_000.0  # events/s; the console benchmark's room is 2,000
INDEX_MAX_DEFER_S = 30.0


def scheduled_work(db: sqlite_utils.Database, clock: Callable[[], float]) -> str:
    """Expire overrides; run the segmentation when a week has passed and no session is live."""
    now = clock()
    expired = segmentation.expire_overrides(db, now)
    if not segmentation.is_due(db, now):
        return f"{expired} override(s) expired; segmentation not due"
    if repository.live_session_count(db):
        return f"{expired} override(s) expired; segmentation due, waiting for live sessions"
    if repository.count_members(db) == 0:
        return f"{expired} override(s) expired; no members to segment"
    try:
        run = segmentation.run_segmentation(
            db, None, clock, trigger="schedule", actor="weekly schedule"
        )
    except segmentation.RunRefused as exc:  # e.g. an old import: nothing in the window
        return f"{expired} override(s) expired; segmentation refused: {exc.verdict.reason_zh()}"
    return f"{expired} override(s) expired; segmentation run {run['id']} as of {run['as_of']}"


async def run_schedule(
    ctx: StoreContext, first_after_s: float = FIRST_CHECK_AFTER_S, every_s: float = CHECK_EVERY_S
) -> None:
    """Check now and then, on the writer thread, until cancelled; failures are logged."""
    await asyncio.sleep(first_after_s)
    while True:
        try:
            log.info("schedule: %s", await ctx.write(scheduled_work, ctx.clock))
        except Exception:
            log.exception("scheduled work failed")
        await asyncio.sleep(every_s)


async def run_override_expiry(ctx: StoreContext, max_sleep_s: float = EXPIRY_MAX_SLEEP_S) -> None:
    """End overrides at their expiry: sleep until the next one is due (at most
    ``max_sleep_s``, so one set meanwhile is not missed), then expire what is due."""
    while True:
        try:
            due = await ctx.read(segmentation.next_override_expiry)
            now = ctx.clock()
            if due is not None and due <= now:
                expired = await ctx.write(segmentation.expire_overrides, now)
                log.info("schedule: %s override(s) expired", expired)
                continue
            wait = max_sleep_s if due is None else min(max_sleep_s, due - now)
        except Exception:
            log.exception("expiring overrides failed")
            wait = max_sleep_s
        await asyncio.sleep(wait)


async def run_chain_deadlines(ctx: StoreContext, every_s: float = CHAIN_CHECK_EVERY_S) -> None:
    """End 接龙 chains at their deadline (form or fail) and 秒杀 whose time is over, about
    every second, until cancelled."""
    while True:
        await asyncio.sleep(every_s)
        try:
            if await ctx.read(chains.any_due, ctx.clock()):
                for sid, seq in await ctx.write(chains.end_due_chains, ctx.clock()):
                    ctx.notifier.publish(sid, seq)
        except Exception:
            log.exception("ending due chains failed")
        try:
            if await ctx.read(flash_sales.any_due, ctx.clock()):
                for sid, seq in await ctx.write(flash_sales.end_due_sales, ctx.clock()):
                    ctx.notifier.publish(sid, seq)
        except Exception:
            log.exception("ending due flash sales failed")


async def follow_logs(
    ctx: StoreContext,
    every_s: float = INDEX_FOLLOW_EVERY_S,
    busy_rate: float = INDEX_BUSY_RATE,
    max_defer_s: float = INDEX_MAX_DEFER_S,
) -> None:
    """Keep each session's replay index (``replay_index``) at the end of its log as it
    grows, so a replay or the stats after a broadcast start from a fold already done.

    Acknowledging events comes first: while a log grows faster than ``busy_rate`` events a
    second (a backlog flushed by a platform, a load test), its index waits, for at most
    ``max_defer_s`` (``IndexPacer`` decides). A live room (a few thousand events a second at
    most) is folded as it goes. Only logs that grew since the last pass are touched: an old
    session the indexes have forgotten stays forgotten until someone asks for it (``/state``,
    ``/stats`` and the replay always fold what is missing themselves)."""
    pacer = IndexPacer(busy_rate, max_defer_s, min_interval_s=every_s)
    while True:
        await asyncio.sleep(every_s)
        now = time.monotonic()
        for sid, seq in ctx.notifier.published().items():
            if not pacer.should_fold(sid, seq, now):
                continue
            try:
                await ctx.read(ctx.indexes.caught_up, sid)
            except Exception:
                log.exception("indexing session %s failed", sid)
