"""The live session as the window sees it: room state, feed, link status, redraw ticks.

Events from the follower are only queued; a timer folds the queue into ``RoomState`` about
ten times a second and emits ``room_changed`` once, so a burst of events costs one redraw.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import httpx
from PySide6.QtCore import QObject, QTimer, Signal

from console.domain.events import Event
from console.domain.room import RoomState, initial_state
from console.domain.sessions import SessionStatus
from console.domain.timeline import Sample, TimelineSampler
from console.sync.cache import LocalCache
from console.sync.client import StoreClient, StoreError
from console.sync.follower import LinkStatus, LogFollower
from console.sync.outbox import Outbox, OutboxSender, OutboxStatus
from console.ui.crash import report_failure
from console.ui.feed_model import FeedModel

log = logging.getLogger(__name__)
T = TypeVar("T")

REDRAW_INTERVAL_MS = 75
TREND_STEP_S = 1.0  # doubles as the show goes on, keeping at most TREND_MAX_SAMPLES points
TREND_MAX_SAMPLES = 1_200


def _trend_sampler() -> TimelineSampler:
    return TimelineSampler(TREND_STEP_S, TREND_MAX_SAMPLES)


CACHE_FLUSH_INTERVAL_S = 1.0
REFUSAL_SHOWN_S = 60.0  # how long a refused command stays reported in the header
SESSION_POLL_S = 2.0


class LiveSession(QObject):
    """One followed session.

    Signals:
        room_changed: the room state or the feed changed (at most once per redraw tick).
        link_changed(str, str): the link status (a ``LinkStatus`` value) and a detail.
        session_changed(dict): the session's metadata (title, status, started_at) arrived.
        cards_changed: the lineup's cards (price ladders) arrived or changed.
        role_changed(str): the token's role is known (host, assistant, operator).
        outbox_changed(object): an ``OutboxStatus`` after a command was queued or answered.
    """

    room_changed = Signal()
    link_changed = Signal(str, str)
    session_changed = Signal(dict)
    cards_changed = Signal()
    role_changed = Signal(str)
    outbox_changed = Signal(object)
    reservations_changed = Signal(dict)

    def __init__(
        self,
        client: StoreClient,
        cache: LocalCache | None = None,
        redraw_interval_ms: int = REDRAW_INTERVAL_MS,
        outbox: Outbox | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.cache = cache
        self.outbox = outbox
        self.outbox_sender = (
            OutboxSender(client, outbox, self._on_command_settled) if outbox is not None else None
        )
        self.outbox_status = OutboxStatus()
        self.role = ""
        self.checked_role = False  # the store confirmed the role (a cached one may be shown)
        self.cards: list[dict[str, Any]] = []
        self.point_names: dict[str, str] = {}
        self.state = RoomState()
        self.trend = _trend_sampler()
        self.feed = FeedModel()
        self.session: dict[str, Any] = {}
        self.reservations: dict[str, Any] = {}  # GET /reservations: 预约 and 已到
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

    def trend_samples(self) -> list[Sample]:
        """在线趋势: the room by event time since the first event, and as it is now."""
        return self.trend.finish(self.state)[0]

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
        if self.cache is not None and not self.role:
            # The mode this token had last time: right even while the store is down.
            cached = await asyncio.to_thread(
                self.cache.load_role, self.client.base_url, self.client.token_id
            )
            if cached:
                self.role = cached
                self.role_changed.emit(cached)
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
        jobs = [
            asyncio.ensure_future(self.follower.run()),
            asyncio.ensure_future(self._refresh_session_periodically(sid)),
        ]
        if self.outbox_sender is not None:
            jobs.append(asyncio.ensure_future(self.outbox_sender.run()))
            self._update_outbox_status()
        self._tasks |= set(jobs)
        try:
            await asyncio.gather(*jobs)
        finally:
            for task in jobs:
                task.cancel()

    async def stop(self) -> None:
        """Stop following, write what is not cached yet, close the connection."""
        self._timer.stop()
        self._cache_timer.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        # Their failures were reported when they happened (``report_failure``, or ``run``).
        await asyncio.gather(*tasks, return_exceptions=True)
        self._on_timer_tick()
        await self._flush_cache()
        await self.client.aclose()

    async def _resolve_session(self, session_id: str | None) -> dict[str, Any]:
        while True:
            try:
                if not self.checked_role:
                    role = str((await self.client.me())["role"])
                    self.checked_role = True
                    if self.cache is not None:
                        await asyncio.to_thread(
                            self.cache.save_role, self.client.base_url, self.client.token_id, role
                        )
                    if role != self.role:
                        self.role = role
                        self.role_changed.emit(role)
                if session_id is not None:
                    return await self.client.get_session(session_id)
                sessions = await self.client.list_sessions()
                live = [s for s in sessions if s.get("status") == SessionStatus.LIVE]
                if live or sessions:
                    return (live or sessions)[0]
                self._on_follower_status(LinkStatus.CONNECTING, "等待直播开始")
            except StoreError as exc:
                status = (
                    LinkStatus.REFUSED
                    if exc.is_auth or exc.status == 404
                    else LinkStatus.RECONNECTING
                )
                log.info("resolving the session: the store refused: %s", exc)
                self._on_follower_status(status, exc.reason)
            except (httpx.HTTPError, ValueError) as exc:  # ValueError: a body that is not JSON
                log.info("store unreachable while resolving the session: %r", exc)
                self._on_follower_status(LinkStatus.RECONNECTING, str(exc) or type(exc).__name__)
            await asyncio.sleep(SESSION_POLL_S)

    async def _refresh_session_periodically(self, sid: str) -> None:
        """Pickup point names, cards and the session's metadata, polled; a failed poll is
        logged and tried again next time (the follower reports the link itself)."""
        points_loaded = False
        while True:
            if not points_loaded:
                points = await self._poll("pickup points", self.client.pickup_points())
                if points is not None:
                    self.point_names = {p["id"]: p["name"] for p in points}
                    points_loaded = True
            cards = await self._poll("cards", self.client.cards(sid))
            if cards is not None:
                self._on_cards(cards)
            figures = await self._poll("reservations", self.client.reservations(sid))
            if figures is not None and figures != self.reservations:
                self.reservations = figures
                self.reservations_changed.emit(figures)
            await asyncio.sleep(SESSION_POLL_S * 2)
            info = await self._poll("session", self.client.get_session(sid))
            if info is not None:
                self._on_session_info(info)

    async def _poll(self, what: str, call: Coroutine[Any, Any, T]) -> T | None:
        """``call``'s answer, or None when the store refused or could not be reached."""
        try:
            return await call
        except StoreError as exc:
            log.warning("refreshing the %s: the store refused: %s", what, exc)
        except (httpx.HTTPError, ValueError) as exc:  # ValueError: a body that is not JSON
            log.info("refreshing the %s failed: %r", what, exc)
        return None

    def _on_cards(self, cards: list[dict[str, Any]]) -> None:
        if cards == self.cards:
            return
        self.cards = cards
        self.cards_changed.emit()
        if self.cache is not None and self.session_id is not None:
            self._spawn(
                asyncio.to_thread(
                    self.cache.save_cards, self.client.base_url, self.session_id, cards
                )
            )

    def card(self, product_id: str | None) -> dict[str, Any] | None:
        return next((c for c in self.cards if c["product_id"] == product_id), None)

    def stock_of(self, card: dict[str, Any]) -> int:
        """Stock as the log last reported it (orders, cancellations, adjustments)."""
        return int(self.state.stock_left.get(card["product_id"], card.get("stock", 0)))

    # -- commands (floor assistant) ----------------------------------------------------

    def send(self, kind: str, **fields: Any) -> None:
        """Queue a command for this session in the outbox; the sender delivers it."""
        if self.outbox is None or self.session_id is None:
            log.warning("no outbox or no session: command %s dropped", kind)
            return
        outbox, store, sid = self.outbox, self.client.base_url, self.session_id

        async def queue() -> None:
            await asyncio.to_thread(outbox.add, store, sid, {"type": kind, **fields})
            if self.outbox_sender is not None:
                self.outbox_sender.wake()
            await self._refresh_outbox_status()

        self._spawn(queue())

    def _on_command_settled(self, _command_id: str, _state: str, _answer: dict[str, Any]) -> None:
        self._update_outbox_status()

    def _update_outbox_status(self) -> None:
        self._spawn(self._refresh_outbox_status())

    async def _refresh_outbox_status(self) -> None:
        if self.outbox is None:
            return
        since = time.time() - REFUSAL_SHOWN_S
        status = await asyncio.to_thread(self.outbox.status, self.client.base_url, since)
        if status != self.outbox_status:
            self.outbox_status = status
            self.outbox_changed.emit(status)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(report_failure)

    def _on_session_info(self, info: dict[str, Any]) -> None:
        if info == self.session:
            return
        self.session = info
        self._take_turn_settings(info)
        self.session_changed.emit(info)
        if self.cache is not None and self.session_id is not None:
            self._spawn(
                asyncio.to_thread(
                    self.cache.save_session, self.client.base_url, self.session_id, info
                )
            )

    def _take_turn_settings(self, info: dict[str, Any]) -> None:
        """The prompts' thresholds the show went live with (``room.initial_state``). They are
        fixed at go-live, before the show's first event, and no prompt can be due within
        its first minutes, so a room folded before they arrived has raised nothing by them."""
        settings = initial_state(info).turn_settings
        if settings != self.state.turn_settings:
            self.state.turn_settings = settings

    # -- the cache ---------------------------------------------------------------------

    async def _show_cached(self, sid: str) -> None:
        if self.cache is None:
            return
        info, events, cards = await asyncio.to_thread(self._read_cache, sid)
        if info is not None and not self.session:
            self.session = info
            self._take_turn_settings(info)
            self.session_changed.emit(info)
        if cards and not self.cards:
            self.cards = cards
            self.cards_changed.emit()
        self._on_follower_events(events)
        self._on_timer_tick()
        self._uncached.clear()  # they came from the cache

    def _read_cache(
        self, sid: str
    ) -> tuple[dict[str, Any] | None, list[Event], list[dict[str, Any]]]:
        assert self.cache is not None
        base = self.client.base_url
        return (
            self.cache.load_session(base, sid),
            self.cache.load(base, sid),
            self.cache.load_cards(base, sid),
        )

    async def _forget_cached(self, sid: str) -> None:
        if self.cache is not None:
            await asyncio.to_thread(self.cache.forget, self.client.base_url, sid)
        self.state = initial_state(self.session)
        self.trend = _trend_sampler()
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
        # Every failed try is news even when it fails the same way: the banner counts them
        # and turns to "offline" after a few.
        if (status, detail) != (self.link, self.link_detail) or status is LinkStatus.RECONNECTING:
            self.link, self.link_detail = status, detail
            self.link_changed.emit(status.value, detail)

    def _on_timer_tick(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        # The follower only hands over contiguous events: a gap (``SequenceGap``) is a bug,
        # and failing loudly (the crash handler logs it and stops the commands) beats
        # showing a wrong room. The trend is sampled by event time as the room is folded,
        # so a console that catches up on a whole show at once still draws its curve.
        state, trend = self.state, self.trend
        for event in batch:
            trend.before(state, event)
            state.apply(event)
            trend.after(state, event)
        self.feed.add(batch)
        self._uncached.extend(batch)
        self.room_changed.emit()

    def _on_cache_timer_tick(self) -> None:
        if self._uncached:
            self._spawn(self._flush_cache())
        if self.outbox_status.last_refusal:
            self._update_outbox_status()  # a refusal leaves the header after a minute
