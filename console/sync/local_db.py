"""The console's own SQLite files (cache, outbox): one way to open them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils


def open_local_db(path: Path, synchronous: str = "NORMAL") -> sqlite_utils.Database:
    """A WAL database at ``path`` (its folder made), usable from worker threads.

    ``synchronous``: NORMAL survives a crash of the console; FULL also a power cut.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(
        sqlite3.connect(path, check_same_thread=False), execute_plugins=False
    )
    db.conn.execute(f"PRAGMA synchronous = {synchronous}")
    db.enable_wal()
    return db
