"""Follows a session's log: catch up over HTTP, then the SSE stream, resuming by ``seq``.

Delivered events are always contiguous: the follower tracks the last ``seq`` handed out,
skips anything at or below it and reconnects on a gap, so its consumer can neither double
count nor miss an event, whatever the network or the store does.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from enum import StrEnum

import httpx
import orjson
from httpx_sse import SSEError

from console.domain.events import Event
from console.sync.client import StoreClient, StoreError

log = logging.getLogger(__name__)

CATCH_UP_PAGE = 5_000
BACKOFF_S = (0.25, 0.5, 1.0, 2.0, 4.0)


class LinkStatus(StrEnum):
    """The console's link to the store, as the banner shows it."""

    CONNECTING = "connecting"  # first contact, not yet caught up
    LIVE = "live"  # caught up and following the stream
    RECONNECTING = "reconnecting"  # lost the link; retrying with back-off
    REFUSED = "refused"  # the store rejects our token or session; retrying slowly


class _Gap(Exception):
    pass


class LogFollower:
    """Delivers a session's events in order to ``on_events``; status to ``on_status``.

    ``run()`` goes on until cancelled.
    """

    def __init__(
        self,
        client: StoreClient,
        session_id: str,
        after_seq: int,
        on_events: Callable[[Sequence[Event]], None],
        on_status: Callable[[LinkStatus, str], None],
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.seq = after_seq
        self._on_events = on_events
        self._on_status = on_status
        self.status = LinkStatus.CONNECTING
        self.reconnects = 0

    def _set_status(self, status: LinkStatus, detail: str = "") -> None:
        self.status = status
        self._on_status(status, detail)

    def _deliver(self, events: Sequence[Event]) -> None:
        fresh = [e for e in events if e.seq > self.seq]
        if not fresh:
            return
        if fresh[0].seq != self.seq + 1 or any(
            b.seq != a.seq + 1 for a, b in itertools.pairwise(fresh)
        ):
            raise _Gap(f"expected seq {self.seq + 1}, got {fresh[0].seq}")
        self.seq = fresh[-1].seq
        self._on_events(fresh)

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._catch_up()
                self._set_status(LinkStatus.LIVE)
                attempt = 0
                await self._follow()
                reason = "stream ended"
            except StoreError as exc:
                if not exc.is_auth and exc.status != 404:
                    reason = exc.reason
                else:
                    self._set_status(LinkStatus.REFUSED, exc.reason)
                    await asyncio.sleep(BACKOFF_S[-1])
                    continue
            except (httpx.TransportError, SSEError, _Gap, ValueError) as exc:
                reason = str(exc) or type(exc).__name__
            self.reconnects += 1
            log.info("link to store lost (%s); resuming after seq %d", reason, self.seq)
            self._set_status(LinkStatus.RECONNECTING, reason)
            await asyncio.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
            attempt += 1

    async def _catch_up(self) -> None:
        while True:
            events, last = await self.client.read_events(self.session_id, self.seq, CATCH_UP_PAGE)
            self._deliver(events)
            if self.seq >= last or not events:
                return

    async def _follow(self) -> None:
        async with self.client.stream(self.session_id, self.seq) as source:
            async for message in source.aiter_sse():
                if not message.data:
                    continue
                self._deliver([Event.from_dict(orjson.loads(message.data))])
