"""TikTok LIVE through the ``TikTokLive`` library: its client, our handlers, the store.

The library's handlers only queue each message (and write it to the capture); one pump maps
the queue into the store in batches, so a slow store never blocks the room's websocket. When
the connection drops before the live has ended, the client connects again with back-off;
the messages TikTok sends again then have the ids already stored and are not doubled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from TikTokLive import TikTokLiveClient
from TikTokLive.client.errors import UserOfflineError
from TikTokLive.events import ConnectEvent, DisconnectEvent
from TikTokLive.events.proto_events import ProtoEvent

from console.adapters.base import RawMessage
from console.adapters.capture import CaptureWriter
from console.adapters.sink import StoreSink
from console.adapters.tiktok_mapping import EVENT_CLASSES, SOURCE, TikTokMapper, encode, kind_of
from console.sync.retry import Backoff, describe

log = logging.getLogger(__name__)
RECONNECT = Backoff(first_s=2.0, most_s=60.0, jitter_s=1.0)


class TikTokAdapter:
    """One TikTok LIVE room into one session."""

    def __init__(
        self,
        sink: StoreSink,
        *,
        capture: CaptureWriter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sink = sink
        self.capture = capture
        self.mapper = TikTokMapper()
        self.ended = asyncio.Event()
        self._queue: asyncio.Queue[RawMessage] = asyncio.Queue()
        self._clock = clock

    def attach(self, client: TikTokLiveClient) -> None:
        """Register the handlers on ``client`` (one per webcast message class it parses; not
        the library's derived FollowEvent/ShareEvent/LiveEndEvent, which repeat them)."""
        for cls in EVENT_CLASSES.values():
            client.add_listener(cls, self.on_message)
        client.add_listener(ConnectEvent, self._on_connect)
        client.add_listener(DisconnectEvent, self._on_disconnect)

    async def on_message(self, event: ProtoEvent) -> None:
        message = RawMessage(SOURCE, kind_of(event), encode(event), self._clock())
        if self.capture is not None:
            self.capture.write(message)
        self.sink.received(message.recv_ts)
        await self._queue.put(message)

    async def _on_connect(self, _event: ConnectEvent) -> None:
        self.sink.health.connected = True
        log.info("tiktok: connected")

    async def _on_disconnect(self, _event: DisconnectEvent) -> None:
        self.sink.health.connected = False
        log.info("tiktok: disconnected")

    async def pump(self) -> None:
        """Map queued messages into the store, in batches, until cancelled."""
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            events: list[dict[str, Any]] = []
            for message in batch:
                mapped = self.mapper.map(message)
                events.extend(mapped)
                if any(e["type"] == "live_ended" for e in mapped):
                    self.ended.set()
            await self.sink.send(events, recv_ts=batch[0].recv_ts)
            for _ in batch:
                self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued message is in the store."""
        await self._queue.join()

    async def run(
        self,
        unique_id: str,
        *,
        status_every_s: float = 10.0,
        client_factory: Callable[[str], TikTokLiveClient] = TikTokLiveClient,
    ) -> None:
        """Follow ``@unique_id``'s live until it ends (reconnecting with back-off)."""
        pump = asyncio.ensure_future(self.pump())
        status = asyncio.ensure_future(self.sink.report_every(status_every_s))
        try:
            attempt = 0
            while not self.ended.is_set():
                client = client_factory(unique_id)
                self.attach(client)
                try:
                    task = await client.start()
                    attempt = 0
                    await task
                except UserOfflineError:
                    log.info("tiktok: @%s is not live (yet)", unique_id)
                except Exception as exc:  # the library raises many kinds; all mean "try later"
                    log.warning("tiktok: connection failed: %s", describe(exc))
                finally:
                    self.sink.health.connected = False
                    await close_client(client)
                if not self.ended.is_set():
                    attempt += 1
                    await asyncio.sleep(min(RECONNECT.most_s, RECONNECT.first_s * 2**attempt))
            await self.drain()
        finally:
            await self.sink.report_status()
            for task in (pump, status):
                task.cancel()


async def close_client(client: TikTokLiveClient) -> None:
    """Disconnect and drop the client's HTTP session. Not the library's ``close()``: that
    one calls ``run_until_complete`` on the loop it runs in, which raises inside a loop."""
    await client.disconnect()
    await client._web.close()
