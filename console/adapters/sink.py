"""The way into the store: batches of events to ``POST /sessions/{sid}/events`` with retries,
and the adapter's health as ``adapter_status`` events.

Ids are the platform's own, so a batch sent again after a timeout or a store restart is
acknowledged as duplicates, never stored twice. What the store refuses on its merits (4xx:
the session is not on air, an event it cannot keep) is dropped, counted and logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from console.adapters.base import event_id, store_event
from console.sync.client import StoreClient, StoreError
from console.sync.retry import RETRY_TRANSIENT, STORE_BACKOFF, Backoff, describe, failure

log = logging.getLogger(__name__)
MAX_BATCH = 500


@dataclass
class Health:
    """What ``adapter_status`` reports (see the brief of issue 16)."""

    connected: bool = False
    last_message_ts: float | None = None  # when the last platform message arrived
    lag_s: float = 0.0  # receive -> acknowledged by the store, for the last batch
    dropped: int = 0  # events the store refused (off air, malformed) or messages refused
    messages: int = 0
    accepted: int = 0
    duplicates: int = 0


class StoreSink:
    """Sends one adapter's events into one session."""

    def __init__(
        self,
        client: StoreClient,
        sid: str,
        source: str,
        *,
        backoff: Backoff = STORE_BACKOFF,
        give_up_after_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.sid = sid
        self.source = source
        self.health = Health()
        self._backoff = backoff
        self._give_up_after_s = give_up_after_s
        self._clock = clock
        self._status_count = 0

    def received(self, recv_ts: float) -> None:
        """A platform message arrived (counted whether or not it maps to any event)."""
        self.health.messages += 1
        self.health.last_message_ts = recv_ts

    def refused(self, reason: str) -> None:
        """A platform message refused before mapping (bad signature, stale): logged, counted."""
        self.health.dropped += 1
        log.warning("%s: message refused: %s", self.source, reason)

    async def send(self, events: Sequence[dict[str, Any]], recv_ts: float | None = None) -> None:
        """Post ``events`` (in batches), retrying while the store is away or busy."""
        for start in range(0, len(events), MAX_BATCH):
            await self._post(events[start : start + MAX_BATCH])
        if recv_ts is not None:
            self.health.lag_s = max(0.0, self._clock() - recv_ts)

    async def _post(self, batch: Sequence[dict[str, Any]]) -> None:
        retrying = self._backoff.retrying(
            RETRY_TRANSIENT,
            give_up_after_s=self._give_up_after_s,
            before_sleep=lambda state: log.info(
                "%s: store not reached (%s), trying again",
                self.source,
                describe(failure(state)),
            ),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    result = await self.client.post_events(self.sid, batch)
        except StoreError as exc:
            # Refused on its merits: trying again would be refused again.
            self.health.dropped += len(batch)
            log.warning("%s: store refused %d events: %s", self.source, len(batch), exc.reason)
            return
        self.health.accepted += int(result["accepted"])
        self.health.duplicates += int(result["duplicates"])

    def status_event(self) -> dict[str, Any]:
        """The health as an ``adapter_status`` event (a fresh id each time)."""
        now = self._clock()
        self._status_count += 1
        h = self.health
        return store_event(
            event_id(self.source, "status", f"{now:.3f}", self._status_count),
            "adapter_status",
            now,
            {
                "source": self.source,
                "connected": h.connected,
                "last_message_ts": h.last_message_ts,
                "lag_s": round(h.lag_s, 3),
                "dropped": h.dropped,
            },
        )

    async def report_status(self) -> None:
        """Send one ``adapter_status`` now; a store that is away is not waited for."""
        try:
            await self.client.post_events(self.sid, [self.status_event()])
        except StoreError as exc:
            log.info("%s: status not stored: %s", self.source, exc.reason)
        except httpx.TransportError as exc:  # the store is away: the next report will tell
            log.info("%s: status not sent: %s", self.source, describe(exc))

    async def report_every(self, every_s: float) -> None:
        """Report the health every ``every_s`` seconds until cancelled."""
        while True:
            await self.report_status()
            await asyncio.sleep(every_s)
