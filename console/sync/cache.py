"""The console's local cache (sqlite-utils): the session logs it has already seen.

On start the console shows what it had at once and fetches only what it lacks. The cache
holds events as the store serves them: masked nicks, no phone numbers, no addresses.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from console.domain.events import Event
from console.sync.local_db import open_local_db


class LocalCache:
    """Thread-safe; meant to be used from a worker thread, never the UI thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_local_db(path)
        self._db.table("events").create(
            {"store": str, "session_id": str, "seq": int, "event": str},
            pk=("store", "session_id", "seq"),
            if_not_exists=True,
        )
        self._db.table("sessions").create(
            {"store": str, "session_id": str, "info": str},
            pk=("store", "session_id"),
            if_not_exists=True,
        )
        self._db.table("roles").create(
            {"store": str, "token_id": str, "role": str},
            pk=("store", "token_id"),
            if_not_exists=True,
        )
        self._db.table("cards").create(
            {"store": str, "session_id": str, "cards": str},
            pk=("store", "session_id"),
            if_not_exists=True,
        )

    def load_session(self, store: str, session_id: str) -> dict[str, Any] | None:
        """The session's metadata as last seen (title, status, times), if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT info FROM sessions WHERE store = ? AND session_id = ?", [store, session_id]
            ).fetchone()
        return dict(orjson.loads(row[0])) if row else None

    def save_session(self, store: str, session_id: str, info: Mapping[str, Any]) -> None:
        with self._lock, self._db.conn:
            self._db.conn.execute(
                "INSERT OR REPLACE INTO sessions (store, session_id, info) VALUES (?, ?, ?)",
                [store, session_id, orjson.dumps(dict(info)).decode()],
            )

    def load_role(self, store: str, token_id: str) -> str:
        """The role this token had at the store when last asked ("" if never): a console
        started while the store is down opens in the right mode."""
        with self._lock:
            row = self._db.execute(
                "SELECT role FROM roles WHERE store = ? AND token_id = ?", [store, token_id]
            ).fetchone()
        return str(row[0]) if row else ""

    def save_role(self, store: str, token_id: str, role: str) -> None:
        with self._lock, self._db.conn:
            self._db.conn.execute(
                "INSERT OR REPLACE INTO roles (store, token_id, role) VALUES (?, ?, ?)",
                [store, token_id, role],
            )

    def load_cards(self, store: str, session_id: str) -> list[dict[str, Any]]:
        """The session's cards (lineup, price ladders) as last seen; [] if none."""
        with self._lock:
            row = self._db.execute(
                "SELECT cards FROM cards WHERE store = ? AND session_id = ?", [store, session_id]
            ).fetchone()
        return list(orjson.loads(row[0])) if row else []

    def save_cards(self, store: str, session_id: str, cards: Sequence[Mapping[str, Any]]) -> None:
        with self._lock, self._db.conn:
            self._db.conn.execute(
                "INSERT OR REPLACE INTO cards (store, session_id, cards) VALUES (?, ?, ?)",
                [store, session_id, orjson.dumps(list(cards)).decode()],
            )

    def load(self, store: str, session_id: str) -> list[Event]:
        """The cached events of a session, in order, contiguous from seq 1."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event FROM events WHERE store = ? AND session_id = ? ORDER BY seq",
                [store, session_id],
            ).fetchall()
        events: list[Event] = []
        for seq, raw in rows:
            if seq != len(events) + 1:
                break  # keep the contiguous prefix only; the store fills in the rest
            events.append(Event.from_dict(orjson.loads(raw)))
        return events

    def append(self, store: str, session_id: str, events: Sequence[Event]) -> None:
        # orjson writes the dataclass itself (the shape of Event.to_dict) in C: a busy room's
        # second of events is serialised in a millisecond or two, not tens, while holding the
        # GIL the UI thread needs.
        rows = [(store, session_id, e.seq, orjson.dumps(e).decode()) for e in events]
        with self._lock, self._db.conn:
            self._db.conn.executemany(
                "INSERT OR IGNORE INTO events (store, session_id, seq, event) VALUES (?, ?, ?, ?)",
                rows,
            )

    def forget(self, store: str, session_id: str) -> None:
        with self._lock, self._db.conn:
            for table in ("events", "sessions", "cards"):
                self._db.conn.execute(
                    f"DELETE FROM {table} WHERE store = ? AND session_id = ?", [store, session_id]
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()
