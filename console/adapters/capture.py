"""Capture files: every raw platform message as one JSON line with its receive time.

``{"recv_ts": 1717171717.123, "source": "tiktok", "kind": "WebcastChatMessage",
"payload": {...}}``; ``python main.py ingest-file`` replays one (``console.adapters.replay``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import orjson

from console.adapters.base import RawMessage


class CaptureError(Exception):
    """A line of a capture file is not a message; names the line."""


class CaptureWriter:
    """Appends messages to a JSON Lines file, each flushed at once (a crash loses none)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab")
        self._lock = threading.Lock()

    def write(self, message: RawMessage) -> None:
        with self._lock:
            self._file.write(message.to_line() + b"\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_capture(path: Path) -> Iterator[RawMessage]:
    """The messages of a capture file in order; blank lines are skipped."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield RawMessage.from_json(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise CaptureError(f"{path.name} 第 {number} 行不是消息：{exc}") from exc
