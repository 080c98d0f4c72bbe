"""The live session as the window sees it: room state, feed, link status, redraw ticks.

Events from the follower are only queued; a timer folds the queue into ``RoomState`` about
ten times a second and emits ``room_changed`` once, so a burst of events costs one redraw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from console.domain.events import Event
from console.domain.room import RoomState, SequenceGap
from console.sync.cache import LocalCache
from console.sync.client import StoreClient, StoreError
from console.sync.follower import LinkStatus, LogFollower
from console.ui.feed_model import FeedModel

log = logging.getLogger(__name__)

REDRAW_INTERVAL_MS = 100
CACHE_FLUSH_INTERVAL_S = 1.0
SESSION_POLL_S = 2.0


class LiveSession(QObject):
    """One followed session.

    Signals:
        room_changed: the room state or the feed changed (at most once per redraw tick).
        link_changed(str, str): the link status (a ``LinkStatus`` value) and a detail.
        session_changed(dict): the session's metadata (title, status, started_at) arrived.
    """

    room_changed = Signal()
    link_changed = Signal(str, str)
    session_changed = Signal(dict)

    def __init__(
        self,
        client: StoreClient,
        cache: LocalCache | None = None,
        redraw_interval_ms: int = REDRAW_INTERVAL_MS,
    ) -> None:
        super().__init__()
        self.client = client
        self.cache = cache
        self.state = RoomState()
        self.feed = FeedModel()
        self.session: dict[str, Any] = {}
        self.link = LinkStatus.CONNECTING
        self.link_detail = ""
        self.follower: LogFollower | None = None
        self._pending: list[Event] = []
        self._uncached: list[Event] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(redraw_interval_ms)
        self._timer.timeout.connect(self._on_timer_tick)
        self._cache_timer = QTimer(self)
        self._cache_timer.setInterval(int(CACHE_FLUSH_INTERVAL_S * 1000))
        self._cache_timer.timeout.connect(self._on_cache_timer_tick)

    @property
    def session_id(self) -> str | None:
        sid = self.session.get("id")
        return str(sid) if sid else None

    # -- lifecycle ---------------------------------------------------------------------

    async def run(self, session_id: str | None = None) -> None:
        """Show the cached room, resolve the session, then follow the store until cancelled.

        With a known session id the cached room appears at once, before the store answers
        (or while it is down); the follower then fetches only what the cache lacks.
        """
        self._timer.start()
        self._cache_timer.start()
        if session_id is not None:
            await self._show_cached(session_id)
        session = await self._resolve_session(session_id)
        sid = str(session["id"])
        if session_id is None:
            await self._show_cached(sid)
        if self.state.seq > int(session.get("last_seq") or 0):
            # The store no longer has what we cached (it was reset): trust the store.
            await self._forget_cached(sid)
        self._on_session_info(session)
        self.follower = LogFollower(
            self.client, sid, self.state.seq, self._on_follower_events, self._on_follower_status
        )
        follow = asyncio.ensure_future(self.follower.run())
        refresh = asyncio.ensure_future(self._refresh_session_periodically(sid))
        self._tasks |= {follow, refresh}
        try:
            await asyncio.gather(follow, refresh)
        finally:
            for task in (follow, refresh):
                task.cancel()

    async def stop(self) -> None:
        """Stop following, write what is not cached yet, close the connection."""
        self._timer.stop()
        self._cache_timer.stop()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._on_timer_tick()
        await self._flush_cache()
        await self.client.aclose()

    async def _resolve_session(self, session_id: str | None) -> dict[str, Any]:
        while True:
            try:
                if session_id is not None:
                    return await self.client.get_session(session_id)
                sessions = await self.client.list_sessions()
                live = [s for s in sessions if s.get("status") == "live"]
                if live or sessions:
                    return (live or sessions)[0]
                self._on_follower_status(LinkStatus.CONNECTING, "等待直播开始")
            except StoreError as exc:
                status = (
                    LinkStatus.REFUSED
                    if exc.is_auth or exc.status == 404
                    else LinkStatus.RECONNECTING
                )
                self._on_follower_status(status, exc.reason)
            except Exception as exc:
                self._on_follower_status(LinkStatus.RECONNECTING, str(exc) or type(exc).__name__)
            await asyncio.sleep(SESSION_POLL_S)

    async def _refresh_session_periodically(self, sid: str) -> None:
        while True:
            await asyncio.sleep(SESSION_POLL_S * 2)
            with contextlib.suppress(Exception):
                self._on_session_info(await self.client.get_session(sid))

    def _on_session_info(self, info: dict[str, Any]) -> None:
        if info == self.session:
            return
        self.session = info
        self.session_changed.emit(info)
        if self.cache is not None and self.session_id is not None:
            task = asyncio.ensure_future(
                asyncio.to_thread(
                    self.cache.save_session, self.client.base_url, self.session_id, info
                )
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- the cache ---------------------------------------------------------------------

    async def _show_cached(self, sid: str) -> None:
        if self.cache is None:
            return
        info, events = await asyncio.to_thread(self._read_cache, sid)
        if info is not None and not self.session:
            self.session = info
            self.session_changed.emit(info)
        self._on_follower_events(events)
        self._on_timer_tick()
        self._uncached.clear()  # they came from the cache

    def _read_cache(self, sid: str) -> tuple[dict[str, Any] | None, list[Event]]:
        assert self.cache is not None
        base = self.client.base_url
        return self.cache.load_session(base, sid), self.cache.load(base, sid)

    async def _forget_cached(self, sid: str) -> None:
        if self.cache is not None:
            await asyncio.to_thread(self.cache.forget, self.client.base_url, sid)
        self.state = RoomState()
        self.feed.clear()
        self._uncached.clear()
        self.room_changed.emit()

    async def _flush_cache(self) -> None:
        """Write what the cache lacks (on the cache timer, and once more at stop)."""
        if self.cache is None or not self._uncached or self.session_id is None:
            return
        batch, self._uncached = self._uncached, []
        try:
            await asyncio.to_thread(self.cache.append, self.client.base_url, self.session_id, batch)
        except Exception:
            log.exception("could not write the local cache")

    # -- slots -------------------------------------------------------------------------

    def _on_follower_events(self, events: Sequence[Event]) -> None:
        self._pending.extend(events)

    def _on_follower_status(self, status: LinkStatus, detail: str) -> None:
        if (status, detail) != (self.link, self.link_detail):
            self.link, self.link_detail = status, detail
            self.link_changed.emit(status.value, detail)

    def _on_timer_tick(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            self.state.apply_all(batch)
        except SequenceGap:
            # The follower only hands over contiguous events: a gap here is a bug, and
            # failing loudly beats showing a wrong room.
            log.exception("event log out of order")
            raise
        self.feed.add(batch)
        self._uncached.extend(batch)
        self.room_changed.emit()

    def _on_cache_timer_tick(self) -> None:
        if self._uncached:
            task = asyncio.ensure_future(self._flush_cache())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
