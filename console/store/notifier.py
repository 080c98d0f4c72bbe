"""Wakes the SSE streams of a session when its log grows."""

from __future__ import annotations

import asyncio


class LogNotifier:
    """Per-session "log reached seq N" broadcasts for coroutines on one event loop."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self._changed: dict[str, asyncio.Event] = {}

    def publish(self, sid: str, last_seq: int) -> None:
        if last_seq <= self._last.get(sid, 0):
            return
        self._last[sid] = last_seq
        changed = self._changed.pop(sid, None)
        if changed is not None:
            changed.set()

    def published(self) -> dict[str, int]:
        """The last ``seq`` published for each session."""
        return dict(self._last)

    async def wait_beyond(self, sid: str, seq: int, timeout: float) -> bool:
        """Wait until the log is known to be past ``seq``; False on timeout."""
        if self._last.get(sid, 0) > seq:
            return True
        changed = self._changed.setdefault(sid, asyncio.Event())
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            return False
        return True
