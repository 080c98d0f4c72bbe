"""Progress on the terminal for long command-line jobs (imports)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Prints ``label：42% · 120,000 行 · 85,000 行/秒``: in place on a terminal, else
    one line every few seconds; nothing for jobs that finish in under a second."""

    def __init__(self, label: str, stream: TextIO | None = None, every_s: float = 0.5) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.every_s = every_s if self.stream.isatty() else max(every_s, 5.0)
        self.started = time.perf_counter()
        self._last: float | None = None  # when a line was last written
        self._shown = False

    def __call__(self, rows: int, fraction: float) -> None:
        now = time.perf_counter()
        since = now - (self.started if self._last is None else self._last)
        if since < self.every_s and fraction < 1.0:
            return
        if fraction >= 1.0 and not self._shown and now - self.started < 1.0:
            return
        self._last = now
        rate = rows / max(now - self.started, 1e-9)
        line = f"{self.label}：{fraction:4.0%} · {rows:,} 行 · {rate:,.0f} 行/秒"
        if self.stream.isatty():
            end = "\n" if fraction >= 1.0 else ""
            self.stream.write(f"\r{line}{end}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True
