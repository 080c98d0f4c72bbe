"""The last seq of each session's log, as the routes that append report it (the replay
indexes follow the logs that grew; the SSE streams are fed by ``console.store.stream``)."""

from __future__ import annotations


class LogNotifier:
    """Per-session "log reached seq N", for coroutines on one event loop."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def publish(self, sid: str, last_seq: int) -> None:
        if last_seq > self._last.get(sid, 0):
            self._last[sid] = last_seq

    def published(self) -> dict[str, int]:
        """The last ``seq`` published for each session."""
        return dict(self._last)
