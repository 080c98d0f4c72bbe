"""The windows' crash handler: an uncaught exception is logged and shown, never silent.

After the idea of qutebrowser's ``misc/crashsignal.py``. Exceptions that escape a Qt slot
(PySide6 hands them to ``sys.excepthook``), an asyncio task or callback (the loop's
exception handler; ``report_failure`` sends a task's failure there as soon as it ends) or a
thread (``threading.excepthook``) are logged at ERROR with their traceback, and the window
shows a red banner naming the log file.

What "not running on in an undefined state" means for a live console: the slot that failed
stopped half way, so from then on the screen may be wrong. Quitting by ourselves would take
the host's screen away in the middle of a broadcast, and nothing needs saving first (the
store holds the log; the cache and the outbox are on disk; a restart resumes by ``seq``).
So the window stays up but read-only: the banner says the figures may be wrong and offers
退出 (quit, then reopen), and the composition root disables the live console's commands,
because acting on a wrong screen (acknowledging the wrong shout-out, presenting the wrong
product) is the harm on air. A failure that repeats (a redraw timer fails on every tick)
logs its traceback once, then one line at its 2nd, 4th, 8th... occurrence.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from console.domain.text import display_text

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def report_failure(task: asyncio.Future[Any]) -> None:
    """A done callback: a task's exception goes to its loop's exception handler now, not
    when (if ever) the task is collected with its result never retrieved."""
    if task.cancelled() or task.exception() is None:
        return
    task.get_loop().call_exception_handler(
        {"message": "a task of the window failed", "exception": task.exception(), "future": task}
    )


class CrashHandler(QObject):
    """Logs uncaught exceptions and tells the window (on the GUI thread).

    Signals:
        crashed(str, int): a short summary of the latest failure and how many there were.
    """

    crashed = Signal(str, int)
    _reported = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.count = 0
        self._seen: Counter[tuple[str, str, int]] = Counter()
        self._previous_hook: Callable[..., Any] | None = None
        self._previous_thread_hook: Callable[..., Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous_loop_handler: Any = None
        # Queued: a thread's failure reaches the widgets on the GUI thread, and a slot's
        # after the slot has unwound.
        self._reported.connect(self._on_reported, Qt.ConnectionType.QueuedConnection)

    def activate(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self._on_uncaught
        threading.excepthook = self._on_thread_uncaught
        if loop is not None:
            self._loop = loop
            self._previous_loop_handler = loop.get_exception_handler()
            loop.set_exception_handler(self._on_loop_exception)

    def deactivate(self) -> None:
        """Put back the hooks that were there before ``activate``."""
        if self._previous_hook is not None:
            sys.excepthook = self._previous_hook
            self._previous_hook = None
        if self._previous_thread_hook is not None:
            threading.excepthook = self._previous_thread_hook
            self._previous_thread_hook = None
        if self._loop is not None:
            self._loop.set_exception_handler(self._previous_loop_handler)
            self._loop = None

    def handle(self, exc_info: ExcInfo, where: str) -> None:
        """Log one uncaught exception and have the window show it."""
        exc_type, exc, tb = exc_info
        last = tb
        while last is not None and last.tb_next is not None:
            last = last.tb_next
        key = (
            exc_type.__qualname__,
            last.tb_frame.f_code.co_filename if last else "",
            last.tb_lineno if last else 0,
        )
        self._seen[key] += 1
        times = self._seen[key]
        if times == 1:
            log.error("uncaught exception %s", where, exc_info=exc_info)
        elif times & (times - 1) == 0:  # 2, 4, 8, ...: a repeating failure cannot fill the disk
            log.error("uncaught exception %s, %d times now: %s: %s", where, times, key[0], exc)
        self.count += 1
        self._reported.emit(display_text(f"{exc_type.__name__}: {exc}", 120))

    def _on_uncaught(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt) and self._previous_hook is not None:
            self._previous_hook(exc_type, exc, tb)
            return
        self.handle((exc_type, exc, tb), "in a Qt slot")

    def _on_thread_uncaught(self, args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "?"
        exc = args.exc_value or args.exc_type.__new__(args.exc_type)  # the value may be None
        self.handle((args.exc_type, exc, args.exc_traceback), f"in thread {name}")

    def _on_loop_exception(self, _loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = context.get("message", "")
        if not isinstance(exc, BaseException):
            # No exception, no undefined state ("Task was destroyed but it is pending!").
            log.warning("asyncio: %s (%s)", message, context)
            return
        self.handle((type(exc), exc, exc.__traceback__), f"in asyncio ({message})")

    def _on_reported(self, summary: str) -> None:
        self.crashed.emit(summary, self.count)


class CrashBanner(QFrame):
    """The red banner a window shows after an uncaught exception (hidden until then).

    Signals:
        quit_requested: the user chose to quit (to reopen the window).
    """

    quit_requested = Signal()

    def __init__(self, log_file: Path, commands_held: bool) -> None:
        super().__init__()
        self.setObjectName("crashBanner")
        self.log_file = log_file
        self.commands_held = commands_held
        self.label = QLabel()
        self.label.setObjectName("crashMessage")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.quit_button = QPushButton("退出")
        self.quit_button.setObjectName("crashQuit")
        self.quit_button.clicked.connect(self.quit_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.quit_button)
        self.setVisible(False)

    def show_failure(self, summary: str, count: int) -> None:
        held = "，指令已停用" if self.commands_held else ""
        times = f"（共 {count} 次）" if count > 1 else ""
        self.label.setText(
            f"程序出错{times}：{summary}。画面可能已不准确{held}。"
            f"请退出后重新打开（已收到的数据不会丢失）。详情已写入日志：{self.log_file}"
        )
        self.setVisible(True)
