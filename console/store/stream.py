"""The session log as server-sent events, fanned out to every open stream.

Each new event is read and encoded as an SSE frame (``id: seq`` / ``data: json``) once, on
the writer thread right after the transaction that appended it (whatever route appended it:
ingest, orders, commands, 接龙 deadlines); the same bytes then go to every stream of the
session. A live stream never reads the database. A stream that starts behind (a new
console, or one resuming after Last-Event-ID) subscribes first, reads the backlog from the
database until it reaches the live tail, then drops from its queue what it already sent: no
gap, no repeat.

Each stream has a bounded queue. A reader that falls more than ``max_events`` (or
``max_bytes``) behind is cut off: its queue is dropped, it gets an ``event: error`` saying
why, and the stream ends; its console reconnects with Last-Event-ID and catches up from the
database. Nobody else waits for it, and the store's memory does not grow with it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from console.store import repository

log = logging.getLogger(__name__)

CHUNK_EVENTS = 1_000  # a catch-up read
PIECE_EVENTS = 250  # the writer hands out new events in pieces of at most this many
QUEUE_EVENTS = 2_000  # a stream further behind than this is cut off ...
QUEUE_BYTES = 4 * 1024 * 1024  # ... or holding more than this
HEARTBEAT_S = 5.0
TOKEN_RECHECK_S = 1.0  # a revoked token's stream ends within about this (contract: 5 s)
TICK_S = 0.5
CUT_OFF_GRACE_S = 10.0  # a cut-off stream's last words, then its connection is closed
SHUTDOWN_GRACE_S = 1.0  # shorter than uvicorn's graceful shutdown (2 s)

HEARTBEAT = b": alive\n\n"
CUT_OFF = "读取太慢：落后超过 {events} 条事件，已断开；请用 Last-Event-ID 重新连接补齐"

# Set in the request's task when a stream gives up on a client that stopped reading (its
# connection is then closed without finishing the response); ``quiet_abandoned_streams``
# keeps uvicorn from logging that as an application error.
_ABANDONED: contextvars.ContextVar[bool] = contextvars.ContextVar("stream_abandoned", default=False)
_UVICORN_INCOMPLETE = "ASGI callable returned without completing response."


def sse_frame(seq: int, payload: str) -> bytes:
    # SQLite's json_object escapes control characters: the payload is one line.
    return b"id: %d\ndata: %s\n\n" % (seq, payload.encode())


def error_frame(reason: str) -> bytes:
    return b"event: error\ndata: %s\n\n" % reason.encode()


def read_frames(db: Any, sid: str, after: int, limit: int) -> list[tuple[int, bytes]]:
    """``(seq, SSE frame)`` after ``after``: a catch-up read."""
    return [
        (seq, sse_frame(seq, js)) for seq, js in repository.read_events_json(db, sid, after, limit)
    ]


@dataclass(frozen=True, slots=True)
class Piece:
    """Consecutive frames ``first``..``last``, shared by every stream of the session."""

    first: int
    last: int
    frames: tuple[bytes, ...]
    data: bytes = field(repr=False)

    @classmethod
    def of(cls, rows: Sequence[tuple[int, bytes]]) -> Piece:
        frames = tuple(frame for _, frame in rows)
        return cls(rows[0][0], rows[-1][0], frames, b"".join(frames))

    def after(self, seq: int) -> bytes:
        """The frames past ``seq``."""
        if seq < self.first:
            return self.data
        return b"".join(self.frames[seq - self.first + 1 :])


class Subscriber:
    """One open stream: its queue of pieces, and why it ended, if it did."""

    def __init__(self, sid: str, token: str, max_events: int, max_bytes: int) -> None:
        self.sid = sid
        self.token = token
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.queue: deque[Piece] = deque()
        self.queued_events = 0
        self.queued_bytes = 0
        self.peak_events = 0  # the longest its queue ever was (tests check the bound)
        self.live = False  # caught up: an overflow now means a slow reader
        self.drops = 0  # overflows while catching up (the queue was dropped, not the stream)
        self.ended = False
        self.reason: str | None = None  # said to the client as the stream ends
        self.abandoned = False
        self.task: asyncio.Task[Any] | None = None
        self.sent_at = time.monotonic()
        self._waiter: asyncio.Future[None] | None = None
        self._abandon: asyncio.TimerHandle | None = None

    def push(self, pieces: Sequence[Piece]) -> None:
        if self.ended:
            return
        for piece in pieces:
            count = piece.last - piece.first + 1
            if (
                self.queued_events + count > self.max_events
                or self.queued_bytes + len(piece.data) > self.max_bytes
            ):
                self.overflow()
                return
            self.queue.append(piece)
            self.queued_events += count
            self.queued_bytes += len(piece.data)
        self.peak_events = max(self.peak_events, self.queued_events)
        self.wake()

    def overflow(self) -> None:
        """Too far behind: drop the queue; a live stream is cut off, one still catching up
        just reads on from the database."""
        self._clear()
        if self.live:
            log.info("stream of session %s cut off: reader too slow", self.sid)
            self.end(CUT_OFF.format(events=self.max_events), grace_s=CUT_OFF_GRACE_S)
        else:
            self.drops += 1

    def _clear(self) -> None:
        self.queue.clear()
        self.queued_events = self.queued_bytes = 0

    def take(self, after: int) -> tuple[bytes, int] | None:
        """Everything queued past ``after``, as one chunk, and the last seq in it; ``None``
        if the queue does not continue from ``after`` (it lost events: catch up again)."""
        chunks = []
        last = after
        while self.queue:
            piece = self.queue.popleft()
            self.queued_events -= piece.last - piece.first + 1
            self.queued_bytes -= len(piece.data)
            if piece.last <= last:
                continue
            if piece.first > last + 1:
                self._clear()
                return None
            chunks.append(piece.after(last))
            last = piece.last
        return b"".join(chunks), last

    def end(self, reason: str | None = None, grace_s: float = CUT_OFF_GRACE_S) -> None:
        """End the stream (with ``reason`` said to the client); one that cannot even write
        its last words within ``grace_s`` is abandoned (its connection is closed)."""
        loop = asyncio.get_running_loop()
        if self.ended:  # already ending: only ever hurried (the store shutting down)
            if self._abandon is not None and loop.time() + grace_s < self._abandon.when():
                self._abandon.cancel()
                self._abandon = loop.call_later(grace_s, self._give_up)
            return
        self.ended = True
        self.reason = reason
        self._clear()
        self.wake()
        if self.task is not None:
            self._abandon = loop.call_later(grace_s, self._give_up)

    def _give_up(self) -> None:
        if self.task is not None and not self.task.done():
            self.abandoned = True
            self.task.cancel()

    def finished(self) -> None:
        if self._abandon is not None:
            self._abandon.cancel()

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Until something is queued, the stream ends, or the next tick."""
        if self.queue or self.ended:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class Channel:
    """The open streams of one session; ``tail``: the last seq handed to them."""

    def __init__(self, sid: str, tail: int) -> None:
        self.sid = sid
        self.tail = tail
        self.subscribers: set[Subscriber] = set()

    def deliver(self, pieces: Sequence[Piece]) -> None:
        for subscriber in self.subscribers:
            subscriber.push(pieces)

    def overrun(self) -> None:
        """More arrived at once than any queue may hold."""
        for subscriber in self.subscribers:
            subscriber.overflow()


class Broadcaster:
    """Per-session channels; fed by the writer thread (``after_write``), read on the loop.

    ``token_valid`` (on the loop) says whether a stream's token still stands: every
    ``TOKEN_RECHECK_S`` each distinct token is asked once, and the streams of a revoked one
    end."""

    def __init__(self, max_events: int = QUEUE_EVENTS, max_bytes: int = QUEUE_BYTES) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # the channels, between the loop and the writer
        self._channels: dict[str, Channel] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._token_valid: Callable[[str], bool] = lambda _token: True
        self._tick: asyncio.TimerHandle | None = None
        self._checked_at = 0.0

    # -- on the event loop ---------------------------------------------------------------

    def start(self, token_valid: Callable[[str], bool]) -> None:
        self._loop = asyncio.get_running_loop()
        self._token_valid = token_valid
        self._checked_at = time.monotonic()
        self._tick = self._loop.call_later(TICK_S, self._on_tick)

    def stop(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def subscribe(self, sid: str, tail: int, token: str) -> Subscriber:
        """A new stream of ``sid``; ``tail``: the log's last seq as of now (a fresh channel
        is handed what the writer appends after it)."""
        subscriber = Subscriber(sid, token, self.max_events, self.max_bytes)
        with self._lock:
            channel = self._channels.get(sid)
            if channel is None:
                channel = self._channels[sid] = Channel(sid, tail)
            channel.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscriber.finished()
        with self._lock:
            channel = self._channels.get(subscriber.sid)
            if channel is None:
                return
            channel.subscribers.discard(subscriber)
            if not channel.subscribers:
                del self._channels[subscriber.sid]

    def subscribers(self) -> list[Subscriber]:
        with self._lock:
            return [s for c in self._channels.values() for s in c.subscribers]

    def end_all(self) -> None:
        """The store is shutting down: end every stream now (their consoles reconnect)."""
        for subscriber in self.subscribers():
            subscriber.end(grace_s=SHUTDOWN_GRACE_S)

    def _on_tick(self) -> None:
        assert self._loop is not None
        self._tick = self._loop.call_later(TICK_S, self._on_tick)
        now = time.monotonic()
        subscribers = self.subscribers()
        if now - self._checked_at >= TOKEN_RECHECK_S:
            self._checked_at = now
            verdicts: dict[str, bool] = {}
            for subscriber in subscribers:
                token = subscriber.token
                if token not in verdicts:
                    verdicts[token] = self._token_valid(token)
                if not verdicts[token]:
                    subscriber.end()
        for subscriber in subscribers:
            if now - subscriber.sent_at >= HEARTBEAT_S:
                subscriber.wake()

    # -- on the writer thread ------------------------------------------------------------

    def after_write(self, db: Any) -> None:
        """Hand what the last write appended to the streams of its session (called on the
        writer thread after every write; reads only sessions someone is streaming)."""
        self.hand_out(db)

    def hand_out(self, db: Any, tails: Mapping[str, int] | None = None) -> None:
        """Read what was appended to the streamed sessions and hand it to their streams.

        ``tails`` (session -> last seq, from PostgreSQL's notifications) limits the reads
        to the sessions it names and spares asking their last seq; without it every
        streamed session is looked at. Never raises: the write itself succeeded, and the
        streams get what is missing with the next call."""
        if self._loop is None:
            return
        try:
            self._hand_out(self._loop, db, tails)
        except Exception:
            log.exception("handing new events to the streams failed")

    def _hand_out(
        self, loop: asyncio.AbstractEventLoop, db: Any, tails: Mapping[str, int] | None
    ) -> None:
        with self._lock:
            if tails is None:
                watched = [(channel, channel.tail) for channel in self._channels.values()]
            else:
                watched = [
                    (channel, channel.tail)
                    for sid in tails
                    if (channel := self._channels.get(sid)) is not None
                ]
        for channel, tail in watched:
            if tails is not None:
                last = tails[channel.sid]
            else:
                try:
                    last = repository.last_seq(db, channel.sid)
                except repository.NotFound:
                    continue
            if last <= tail:
                continue
            overrun = last - tail > self.max_events
            rows = [] if overrun else read_frames(db, channel.sid, tail, last - tail)
            if rows:
                last = rows[-1][0]  # a notice may run ahead of what this reader sees
            elif not overrun:
                continue
            with self._lock:
                if channel.tail != tail:
                    continue
                channel.tail = last
            if overrun:
                loop.call_soon_threadsafe(channel.overrun)
                continue
            pieces = [
                Piece.of(rows[n : n + PIECE_EVENTS]) for n in range(0, len(rows), PIECE_EVENTS)
            ]
            loop.call_soon_threadsafe(channel.deliver, pieces)


# -- the response ------------------------------------------------------------------------


class LogStream(Response):
    """``GET /sessions/{sid}/stream``: the catch-up from the database, then the broadcast.

    A plain ASGI response writing pre-encoded frames (not ``EventSourceResponse``, whose
    task group logs a traceback when a client hangs up mid-send, and which re-encodes
    every event for every client)."""

    media_type = "text/event-stream"

    def __init__(
        self,
        broadcaster: Broadcaster,
        read: Callable[[int], Any],
        subscriber: Subscriber,
        after: int,
    ) -> None:
        super().__init__(headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.broadcaster = broadcaster
        self.read = read  # after -> awaitable list of (seq, frame), one chunk
        self.subscriber = subscriber
        self.after = after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscriber = self.subscriber
        subscriber.task = asyncio.current_task()
        hang_up = asyncio.ensure_future(self._watch_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._stream(send)
            if subscriber.reason is not None and not hang_up.done():
                await send(_body(error_frame(subscriber.reason)))
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not subscriber.abandoned or task is None or task.uncancel() > 0:
                raise
            # A client that stopped reading: leave the response unfinished and uvicorn
            # closes the connection.
            _ABANDONED.set(True)
        finally:
            hang_up.cancel()
            self.broadcaster.unsubscribe(subscriber)

    async def _watch_disconnect(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.subscriber.end()

    async def _stream(self, send: Send) -> None:
        subscriber = self.subscriber
        seq = self.after
        while not subscriber.ended:
            seq = await self._catch_up(send, seq)
            subscriber.live = True
            while not subscriber.ended:
                taken = subscriber.take(seq)
                if taken is None:  # lost its place (not expected): read the database again
                    subscriber.live = False
                    break
                chunk, seq = taken
                if chunk:
                    await send(_body(chunk))
                    subscriber.sent_at = time.monotonic()
                elif time.monotonic() - subscriber.sent_at >= HEARTBEAT_S:
                    await send(_body(HEARTBEAT))
                    subscriber.sent_at = time.monotonic()
                else:
                    await subscriber.wait()

    async def _catch_up(self, send: Send, seq: int) -> int:
        """Read from the database until the live queue continues where the reads end."""
        subscriber = self.subscriber
        while not subscriber.ended:
            drops = subscriber.drops
            rows = await self.read(seq)
            if rows:
                await send(_body(b"".join(frame for _, frame in rows)))
                subscriber.sent_at = time.monotonic()
                seq = rows[-1][0]
            if len(rows) < CHUNK_EVENTS and subscriber.drops == drops:
                break
        return seq


def _body(data: bytes) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": True}


class QuietAbandonedStreams(logging.Filter):
    """Drops uvicorn's error line for a stream this module abandoned on purpose (it logged
    why itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_ABANDONED.get() and record.getMessage() == _UVICORN_INCOMPLETE)
