"""What one running store holds: its database connections, writer thread, caches."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from starlette.concurrency import run_in_threadpool

from console.store.notifier import LogNotifier
from console.store.replay_index import ReplayIndexes
from console.store.schema import connect, open_store
from console.store.stream import Broadcaster

T = TypeVar("T")


class StoreContext:
    """Database access for the API: one writer thread, per-thread reader connections.

    All writes go through a single worker thread owning the only writing connection, so
    transactions never contend inside the process; reads run in the thread pool, each
    thread with its own connection (WAL lets them proceed during writes).
    """

    def __init__(self, db_path: Path, clock: Callable[[], float] = time.time) -> None:
        self.db_path = db_path
        self.clock = clock
        """The store's wall clock: every decision gets its "now" from here (tests pass theirs)."""
        open_store(db_path).close()
        self.notifier = LogNotifier()
        self.broadcaster = Broadcaster()
        """The open SSE streams: whatever a write appends goes out to them from here."""
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._writer_db: sqlite_utils.Database | None = None
        self._readers = threading.local()
        self._reader_dbs: list[sqlite_utils.Database] = []
        self._reader_lock = threading.Lock()
        self._inline_db = connect(db_path)
        self.indexes = ReplayIndexes()

    # -- running work ------------------------------------------------------------------

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` on the writer thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._call_writer, fn, args)

    def _call_writer(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._writer_db is None:
            self._writer_db = connect(self.db_path)
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
        return fn(self._inline_db, *args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` on a pool thread with its own reader connection."""
        return await run_in_threadpool(self._call_reader, fn, args)

    def _call_reader(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        db = getattr(self._readers, "db", None)
        if db is None:
            db = connect(self.db_path)
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
        self._writer.shutdown(wait=True)
        self._inline_db.close()
        if self._writer_db is not None:
            self._writer_db.close()
        with self._reader_lock:
            for db in self._reader_dbs:
                db.close()
            self._reader_dbs.clear()
