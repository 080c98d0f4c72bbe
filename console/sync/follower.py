"""Follows a session's log: catch up over HTTP, then the SSE stream, resuming by ``seq``.

Delivered events are always contiguous: the follower tracks the last ``seq`` handed out,
skips anything at or below it and reconnects on a gap, so its consumer can neither double
count nor miss an event, whatever the network or the store does.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TypeGuard

import httpx
import orjson
from httpx_sse import SSEError
from tenacity import RetryCallState, retry_if_exception_type

from console.domain.events import Event
from console.sync.client import StoreClient, StoreError
from console.sync.retry import STORE_BACKOFF, Backoff, describe, failure, start_over

log = logging.getLogger(__name__)

CATCH_UP_PAGE = 5_000


class LinkStatus(StrEnum):
    """The console's link to the store, as the banner shows it."""

    CONNECTING = "connecting"  # first contact, not yet caught up
    LIVE = "live"  # caught up and following the stream
    RECONNECTING = "reconnecting"  # lost the link; retrying with back-off
    REFUSED = "refused"  # the store rejects our token or session; retrying slowly


class _LinkLost(Exception):
    """The stream ended or went wrong: reconnect and resume after the last ``seq``."""


class _Gap(_LinkLost):
    pass


# Everything that ends a link but not the follower; anything else is a bug and is raised.
LINK_ERRORS = (StoreError, httpx.TransportError, SSEError, _LinkLost, ValueError)


def _is_refusal(exc: BaseException) -> TypeGuard[StoreError]:
    return isinstance(exc, StoreError) and (exc.is_auth or exc.status == 404)


class LogFollower:
    """Delivers a session's events in order to ``on_events``; status to ``on_status``.

    ``run()`` goes on until cancelled. After a lost link it waits on ``backoff`` (starting
    over once live again) and resumes after the last ``seq``; a refusal (token, session) is
    retried every ``backoff.most_s``. ``reconnects`` counts the lost links.
    """

    def __init__(
        self,
        client: StoreClient,
        session_id: str,
        after_seq: int,
        on_events: Callable[[Sequence[Event]], None],
        on_status: Callable[[LinkStatus, str], None],
        backoff: Backoff = STORE_BACKOFF,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.seq = after_seq
        self._on_events = on_events
        self._on_status = on_status
        self.status = LinkStatus.CONNECTING
        self.reconnects = 0
        self.backoff = backoff
        self._wait = backoff.wait()

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
        retrying = self.backoff.retrying(
            retry_if_exception_type(LINK_ERRORS), wait=self._wait_after, before_sleep=self._on_lost
        )
        async for attempt in retrying:
            with attempt:
                await self._catch_up()
                self._set_status(LinkStatus.LIVE)
                start_over(attempt.retry_state)
                await self._follow()
                raise _LinkLost("stream ended")

    def _wait_after(self, retry_state: RetryCallState) -> float:
        if _is_refusal(failure(retry_state)):
            return self.backoff.most_s  # nothing changes soon: ask again slowly
        return self._wait(retry_state)

    def _on_lost(self, retry_state: RetryCallState) -> None:
        exc = failure(retry_state)
        if _is_refusal(exc):
            self._set_status(LinkStatus.REFUSED, exc.reason)
            return
        reason = exc.reason if isinstance(exc, StoreError) else describe(exc)
        self.reconnects += 1
        log.info("link to store lost (%s); resuming after seq %d", reason, self.seq)
        self._set_status(LinkStatus.RECONNECTING, reason)

    async def _catch_up(self) -> None:
        while True:
            events, last = await self.client.read_events(self.session_id, self.seq, CATCH_UP_PAGE)
            self._deliver(events)
            if self.seq >= last or not events:
                return

    async def _follow(self) -> None:
        async with self.client.stream(self.session_id, self.seq) as source:
            async for message in source.aiter_sse():
                if message.event == "error":  # the store ended the stream, saying why
                    raise _LinkLost(message.data)
                if not message.data:
                    continue
                self._deliver([Event.from_dict(orjson.loads(message.data))])
