"""Plays an event plan against a store in (compressed) real time (``main.py simulate``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import httpx

from console.sim.planner import PlannedEvent
from console.sync.client import StoreClient, StoreError

BATCH_WINDOW_S = 0.05  # events due within this window go out in one request
MAX_BATCH = 1_000
RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 5.0)


async def play(
    client: StoreClient,
    sid: str,
    events: Sequence[PlannedEvent],
    speed: float,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Send ``events`` on schedule (``speed`` x real time; 0 = as fast as possible).

    Each event is stamped with the wall-clock time it is sent. A failed request is retried
    with the same event ids, which the store deduplicates, so a store restart mid-broadcast
    loses and doubles nothing. Returns the number of events sent.
    """
    start = clock()
    index = 0
    while index < len(events):
        due = events[index].offset_s / speed if speed > 0 else 0.0
        delay = start + due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        horizon = (clock() - start + BATCH_WINDOW_S) * speed if speed > 0 else float("inf")
        batch: list[dict[str, object]] = []
        while index < len(events) and len(batch) < MAX_BATCH and events[index].offset_s <= horizon:
            batch.append({**events[index].event, "ts": time.time()})
            index += 1
        await _send_with_retry(client, sid, batch)
    return index


async def _send_with_retry(
    client: StoreClient, sid: str, batch: list[dict[str, object]], give_up_after_s: float = 60.0
) -> None:
    """Post ``batch``, retrying transport errors and 5xx (a store restart) with back-off."""
    deadline = time.monotonic() + give_up_after_s
    for attempt in range(1_000_000):
        try:
            await client.post_events(sid, batch)
            return
        except (httpx.TransportError, StoreError) as exc:
            transient = isinstance(exc, httpx.TransportError) or exc.status >= 500
            if not transient or time.monotonic() > deadline:
                raise
            await asyncio.sleep(RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)])
