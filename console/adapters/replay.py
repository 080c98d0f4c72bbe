"""Replaying a capture file through an adapter's mapping (``python main.py ingest-file``).

As fast as possible by default (batches of events), or at ``speed`` times the recorded pace
(each message when its time comes). Event times are moved by the same offset so the capture
plays as if it were received now (``keep_time`` keeps the recorded times, for replaying into
the session it came from); the ids stay the platform's, so a second replay adds nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from console.adapters.base import Mapper, RawMessage
from console.adapters.sink import MAX_BATCH, StoreSink


@dataclass(frozen=True)
class ReplayResult:
    messages: int
    events: int
    accepted: int
    duplicates: int
    dropped: int


async def replay(
    messages: Iterable[RawMessage],
    mapper: Mapper,
    sink: StoreSink,
    *,
    speed: float | None = None,
    keep_time: bool = False,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_sent: Callable[[RawMessage, float], None] | None = None,
) -> ReplayResult:
    """Map and send every message; ``on_sent(message, handed_at)`` after each paced one."""
    start = clock()
    first_recv: float | None = None
    pending: list[dict[str, Any]] = []
    count = events = 0
    for message in messages:
        if first_recv is None:
            first_recv = message.recv_ts
        offset = 0.0 if keep_time else start - first_recv
        if speed:
            due = start + (message.recv_ts - first_recv) / speed
            wait = due - clock()
            if wait > 0:
                await sleep(wait)
        handed_at = clock()
        sink.received(handed_at)
        mapped = [_shifted(e, offset) for e in mapper.map(message)]
        count += 1
        events += len(mapped)
        if speed:
            await sink.send(mapped, recv_ts=handed_at)
            if on_sent is not None:
                on_sent(message, handed_at)
        else:
            pending.extend(mapped)
            if len(pending) >= MAX_BATCH:
                await sink.send(pending, recv_ts=handed_at)
                pending = []
    if pending:
        await sink.send(pending, recv_ts=clock())
    h = sink.health
    return ReplayResult(count, events, h.accepted, h.duplicates, h.dropped)


def _shifted(event: dict[str, Any], offset: float) -> dict[str, Any]:
    if not offset:
        return event
    return {**event, "ts": round(float(event["ts"]) + offset, 3)}
