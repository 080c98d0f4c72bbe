"""What one running store holds: its database connections, writer thread, caches.

On SQLite the writer thread hands what each write appended to the open streams. On
PostgreSQL several store processes may serve one database: each append notifies every
process (``LISTEN/NOTIFY``, carrying only the session and its last seq), and each
process's listener reads the new events once for its own streams (``fanout``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from console.store.fanout import NotifyListener
from console.store.notifier import LogNotifier
from console.store.postgres import PgDatabase, pg_configure
from console.store.replay_index import ReplayIndexes
from console.store.schema import Database, connect, open_store
from console.store.stream import Broadcaster
from console.store.target import PostgresUrl, StoreTarget, parse_target

T = TypeVar("T")


def _lost(db: Database) -> bool:
    """A PostgreSQL connection the server closed (it restarted, or dropped us)."""
    return isinstance(db, PgDatabase) and db.raw.closed


READER_POOL_MAX = 40  # starlette's thread pool runs at most 40 reads at once


class StoreContext:
    """Database access for the API: one writer thread, per-thread reader connections.

    All writes go through a single worker thread owning the only writing connection, so
    transactions never contend inside the process; reads run in the thread pool, each
    thread with its own connection (WAL lets them proceed during writes).
    """

    def __init__(
        self, target: StoreTarget | Path | str, clock: Callable[[], float] = time.time
    ) -> None:
        self.target = parse_target(target)
        self.clock = clock
        """The store's wall clock: every decision gets its "now" from here (tests pass theirs)."""
        open_store(self.target).close()
        self.notifier = LogNotifier()
        self.broadcaster = Broadcaster()
        """The open SSE streams: whatever a write appends goes out to them from here."""
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._writer_db: Database | None = None
        self._readers = threading.local()
        self._reader_dbs: list[sqlite_utils.Database] = []
        self._reader_lock = threading.Lock()
        self._inline_db = connect(self.target)
        self.indexes = ReplayIndexes()
        self._pool: ConnectionPool[Any] | None = None
        self.listener: NotifyListener | None = None
        self._pg_url = ""
        if isinstance(self.target, PostgresUrl):
            self._pg_url = self.target.url
            # Readers share a pool; the writer, the inline reads and the listener each
            # keep a connection of their own.
            self._pool = ConnectionPool(
                self.target.url,
                min_size=2,
                max_size=READER_POOL_MAX,
                kwargs={"autocommit": True},
                configure=pg_configure,
                open=True,
                name="store-readers",
            )
            self.listener = NotifyListener(self.target.url, self.broadcaster)

    @property
    def is_postgres(self) -> bool:
        return self._pool is not None

    # -- running work ------------------------------------------------------------------

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._call_writer, fn, args)

    def _call_writer(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._writer_db is None or _lost(self._writer_db):
            self._writer_db = connect(self.target)
        if self._pool is not None:  # the listener hands out what was appended
            return fn(self._writer_db, *args)
        try:
            return fn(self._writer_db, *args)
        finally:
            # Every append goes through here, whichever route made it: committed events
            # reach the open streams without any of them reading the database.
            self.broadcaster.after_write(self._writer_db)

    def read_inline(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` right here, on the event loop thread.

        Only for single indexed-row reads (a token, a session's existence): tens of
        microseconds, cheaper than a thread hop, and WAL readers never wait for writers.
        """
        if _lost(self._inline_db):  # the server restarted: a new connection, once
            self._inline_db = connect(self.target)
        return fn(self._inline_db, *args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` on a pool thread with its own reader connection."""
        return await run_in_threadpool(self._call_reader, fn, args)

    def _call_reader(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._pool is not None:
            with self._pool.connection() as conn:
                return fn(PgDatabase(conn, self._pg_url), *args)
        db = getattr(self._readers, "db", None)
        if db is None:
            db = connect(self.target)
            self._readers.db = db
            with self._reader_lock:
                self._reader_dbs.append(db)
        return fn(db, *args)

    # -- derived state -----------------------------------------------------------------

    def room_state(self, db: sqlite_utils.Database, sid: str) -> dict[str, Any]:
        """The reduced room, folding only what arrived since the last call."""
        return self.indexes.room(db, sid)

    def waiting_shoutouts(self, db: Any, sid: str) -> set[str]:
        """Ids of the shout-outs on the session's board as of the end of its log."""
        return self.indexes.waiting_shoutouts(db, sid)

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self._writer.shutdown(wait=True)
        if self._pool is not None:
            self._pool.close()
        self._inline_db.close()
        if self._writer_db is not None:
            self._writer_db.close()
        with self._reader_lock:
            for db in self._reader_dbs:
                db.close()
            self._reader_dbs.clear()
