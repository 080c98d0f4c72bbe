"""The console's outbox (发件箱): floor-assistant commands waiting for the store.

Every command is written here first (local SQLite via sqlite-utils), then sent. A command
stays until the store has answered it, so commands made while offline, or while the console
was closed, go out when the store is back. Each carries its ``command_id``: the store applies
a command once however often it is sent, so a retry after a lost answer is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tenacity import RetryCallState, retry_if_exception

from console.sync.client import StoreClient, StoreError
from console.sync.local_db import open_local_db
from console.sync.retry import (
    RETRY_TRANSIENT,
    STORE_BACKOFF,
    Backoff,
    describe,
    failure,
    is_store_busy,
)

log = logging.getLogger(__name__)


def _needs_token(exc: BaseException) -> bool:
    # Not a verdict on the command: it waits for a token the store accepts.
    return isinstance(exc, StoreError) and exc.status == 401


# What a command waits out in the outbox; any other answer settles it (sent or refused).
RETRY_LATER = RETRY_TRANSIENT | retry_if_exception(_needs_token)


@dataclass(frozen=True)
class Pending:
    command_id: str
    session_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class OutboxStatus:
    """What the assistant sees: how many wait, and the latest refusal (if any)."""

    pending: int = 0
    refused: int = 0
    last_refusal: str = ""


class Outbox:
    """Thread-safe; used from worker threads (``asyncio.to_thread``), never the UI thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        # FULL: a command the assistant made must survive a power cut, not just a crash.
        self._db = open_local_db(path, synchronous="FULL")
        self._db.table("outbox").create(
            {
                "id": int,
                "store": str,
                "session_id": str,
                "command_id": str,
                "body": str,
                "created_at": float,
                "state": str,  # pending | sent | refused
                "answer": str,
                "answered_at": float,
            },
            pk="id",
            not_null={"store", "session_id", "command_id", "body", "created_at", "state"},
            defaults={"state": "pending"},
            if_not_exists=True,
        )
        self._db.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS outbox_command ON outbox (store, command_id)"
        )

    def add(self, store: str, session_id: str, body: Mapping[str, Any]) -> str:
        """Queue a command; returns its ``command_id`` (new, unless the body carries one)."""
        command_id = str(body.get("command_id") or f"cmd-{uuid.uuid4().hex}")
        payload = orjson.dumps({**body, "command_id": command_id}).decode()
        with self._lock, self._db.conn:
            self._db.conn.execute(
                "INSERT OR IGNORE INTO outbox (store, session_id, command_id, body, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [store, session_id, command_id, payload, time.time()],
            )
        return command_id

    def pending(self, store: str) -> list[Pending]:
        """Waiting commands for ``store``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT command_id, session_id, body FROM outbox "
                "WHERE store = ? AND state = 'pending' ORDER BY id",
                [store],
            ).fetchall()
        return [Pending(r[0], r[1], orjson.loads(r[2])) for r in rows]

    def settle(self, store: str, command_id: str, state: str, answer: Mapping[str, Any]) -> None:
        """Record the store's answer: ``sent`` (applied, or applied before) or ``refused``."""
        with self._lock, self._db.conn:
            self._db.conn.execute(
                "UPDATE outbox SET state = ?, answer = ?, answered_at = ? "
                "WHERE store = ? AND command_id = ?",
                [state, orjson.dumps(dict(answer)).decode(), time.time(), store, command_id],
            )

    def status(self, store: str, refusals_since: float = 0.0) -> OutboxStatus:
        """Pending commands, and refusals answered after ``refusals_since`` (epoch s)."""
        with self._lock:
            pending, refused = self._db.execute(
                "SELECT count(*) FILTER (WHERE state = 'pending'), "
                "count(*) FILTER (WHERE state = 'refused' AND answered_at > ?) "
                "FROM outbox WHERE store = ?",
                [refusals_since, store],
            ).fetchone()
            last = self._db.execute(
                "SELECT answer FROM outbox WHERE store = ? AND state = 'refused' "
                "AND answered_at > ? ORDER BY answered_at DESC LIMIT 1",
                [store, refusals_since],
            ).fetchone()
        reason = str(orjson.loads(last[0]).get("error", "")) if last else ""
        return OutboxStatus(int(pending), int(refused), reason)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class OutboxSender:
    """Sends the outbox's commands in order whenever woken, retrying while the store is away.

    ``on_settled(command_id, state, answer)`` is called after each answer; a refusal (a 4xx
    other than 401/408/429) is final, a transport error or a 5xx is retried on ``backoff``;
    a ``wake()`` cuts the wait short.
    """

    def __init__(
        self,
        client: StoreClient,
        outbox: Outbox,
        on_settled: Callable[[str, str, dict[str, Any]], None] | None = None,
        backoff: Backoff = STORE_BACKOFF,
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.on_settled = on_settled
        self.backoff = backoff
        self._wake = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            # A new try for each wake-up: the back-off starts from the shortest wait.
            async for attempt in self.backoff.retrying(
                RETRY_LATER, before_sleep=self._on_unavailable, sleep=self._nap
            ):
                with attempt:
                    self._wake.clear()
                    await self._send_pending()
            await self._wake.wait()

    async def _nap(self, seconds: float) -> None:
        """The back-off's wait, cut short by a new command."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _on_unavailable(self, retry_state: RetryCallState) -> None:
        delay = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.info(
            "outbox: store unavailable (%s); retrying in %.1f s",
            describe(failure(retry_state)),
            delay,
        )

    async def _send_pending(self) -> None:
        store = self.client.base_url
        for item in await asyncio.to_thread(self.outbox.pending, store):
            try:
                answer = await self.client.command(item.session_id, item.body)
                state = "sent"
            except StoreError as exc:
                if is_store_busy(exc) or _needs_token(exc):
                    raise
                answer, state = {"error": exc.reason, "status": exc.status}, "refused"
            await asyncio.to_thread(self.outbox.settle, store, item.command_id, state, answer)
            self.sent += state == "sent"
            if self.on_settled is not None:
                self.on_settled(item.command_id, state, answer)
