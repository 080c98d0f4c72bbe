"""Live fan-out across store processes on PostgreSQL (``LISTEN/NOTIFY``).

Every append notifies channel ``store_events`` with only ``last_seq:session`` (in the
appending transaction, so it is delivered at commit). Each store process listens on one
connection of its own; for the sessions it has open streams of, it reads the new events
once and hands the same frames to all of them (``Broadcaster.hand_out``), exactly as the
writer thread does on SQLite. A lost connection is re-opened, and the streams are then
topped up from the log, so a gap in notifications never becomes a gap in a stream.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from console.store.postgres import NOTIFY_CHANNEL, PgDatabase, parse_notification, pg_configure
from console.store.stream import Broadcaster

log = logging.getLogger(__name__)

WAIT_S = 0.5  # how often the listener looks up from waiting (to see it was stopped)
RECONNECT_S = 1.0


class NotifyListener:
    """A thread listening for appends and feeding the process's streams."""

    def __init__(
        self,
        url: str,
        broadcaster: Broadcaster,
        connect: Callable[[str], psycopg.Connection[Any]] | None = None,
    ) -> None:
        self.url = url
        self.broadcaster = broadcaster
        self._connect = connect or (lambda u: psycopg.connect(u, autocommit=True))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        """Set while LISTEN is in place (tests wait for it before appending elsewhere)."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="store-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.OperationalError as exc:  # the server restarted, or dropped us
                self.listening.clear()
                if self._stop.is_set():
                    return
                log.warning(
                    "lost the database while listening for appends (%s); reconnecting",
                    str(exc).strip().splitlines()[0] if str(exc).strip() else exc,
                )
                self._stop.wait(RECONNECT_S)
            except Exception:
                self.listening.clear()
                if self._stop.is_set():
                    return
                log.exception("listening for appends failed; reconnecting")
                self._stop.wait(RECONNECT_S)

    def _listen(self) -> None:
        with self._connect(self.url) as conn:
            pg_configure(conn)
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            db = PgDatabase(conn, self.url)
            self.listening.set()
            # Whatever was appended before LISTEN took hold (or while reconnecting).
            self.broadcaster.hand_out(db)
            while not self._stop.is_set():
                tails: dict[str, int] = {}
                for notice in conn.notifies(timeout=WAIT_S, stop_after=1):
                    _take(tails, notice.payload)
                if not tails:
                    continue
                # Drain what else is queued, so a burst costs one read per session.
                for notice in conn.notifies(timeout=0.001):
                    _take(tails, notice.payload)
                self.broadcaster.hand_out(db, tails)


def _take(tails: dict[str, int], payload: str) -> None:
    parsed = parse_notification(payload)
    if parsed is None:
        log.warning("ignoring a garbled notification: %r", payload[:80])
        return
    sid, seq = parsed
    if seq > tails.get(sid, -1):
        tails[sid] = seq
