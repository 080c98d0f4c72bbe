"""The background jobs run in exactly one store process at a time.

The segmentation schedule, 接龙 deadlines, override expiry and the replay-index follower
act on the shared database; two processes running them would end a 接龙 twice or segment
twice. On PostgreSQL the process that holds a session-level advisory lock
(``postgres.JOBS_LOCK``) runs them; the others try again every ``TAKEOVER_S``. The lock
belongs to a connection, so when its process dies (even ``kill -9``) the server drops it
and another process takes over within about that time. On SQLite one process owns the
file and simply runs them. ``job_runner`` records who holds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from console.store.context import StoreContext
from console.store.postgres import JOBS_LOCK
from console.store.target import PostgresUrl

log = logging.getLogger(__name__)

TAKEOVER_S = 1.0  # how often a process without the jobs asks for them
ALIVE_CHECK_S = 1.0  # how often the holder checks its lock's connection

StartJobs = Callable[[], Sequence["asyncio.Future[Any]"]]

_RECORD = """
INSERT INTO job_runner (id, holder, since) VALUES (1, ?, ?)
ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, since = excluded.since
"""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _record(db: Any, holder: str, now: float) -> None:
    db.execute(_RECORD, [holder, now])


async def run_jobs(ctx: StoreContext, start: StartJobs) -> None:
    """Run the jobs ``start`` starts while this process holds them, until cancelled."""
    if not isinstance(ctx.target, PostgresUrl):
        await ctx.write(_record, holder_name(), ctx.clock())
        await _hold(start, None)
        return
    url = ctx.target.url
    asking: list[psycopg.Connection[Any]] = []  # the connection that asks, once a second
    try:
        while True:
            asker, conn = await asyncio.to_thread(_try_lock, url, asking[0] if asking else None)
            asking[:] = [asker] if asker is not None else []
            if conn is None:
                await asyncio.sleep(TAKEOVER_S)
                continue
            log.info("this process (%s) runs the background jobs", holder_name())
            try:
                await ctx.write(_record, holder_name(), ctx.clock())
                await _hold(start, conn)
            except Exception as exc:  # e.g. the writer's connection dropped with the lock's
                log.warning("the background jobs stopped (%s); asking for them again", exc)
                await asyncio.sleep(TAKEOVER_S)
            finally:
                with contextlib.suppress(Exception):
                    conn.close()
            log.warning("lost the background jobs' lock; asking for it again")
    finally:
        for asker in asking:
            with contextlib.suppress(psycopg.Error):
                asker.close()


def _try_lock(
    url: str, asker: psycopg.Connection[Any] | None
) -> tuple[psycopg.Connection[Any] | None, psycopg.Connection[Any] | None]:
    """(the connection to ask with next time, the connection now holding the lock)."""
    try:
        if asker is None or asker.closed:
            asker = psycopg.connect(url, autocommit=True)
        got = asker.execute("SELECT pg_try_advisory_lock(%s)", [JOBS_LOCK]).fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("cannot ask the database for the background jobs: %s", first)
        if asker is not None:
            with contextlib.suppress(psycopg.Error):
                asker.close()
        return None, None
    if got is not None and got[0]:
        return None, asker
    return asker, None


def _alive(conn: psycopg.Connection[Any]) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


async def _hold(start: StartJobs, conn: psycopg.Connection[Any] | None) -> None:
    """Run the jobs until cancelled, or until the lock's connection is lost."""
    tasks = list(start())
    try:
        while True:
            await asyncio.sleep(ALIVE_CHECK_S)
            if conn is not None and not await asyncio.to_thread(_alive, conn):
                return
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
