"""An uncaught exception in the console is logged with its traceback and shown in the window;
the window stays up, read-only (see ``console.ui.crash``)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import qasync
from pytestqt.qtbot import QtBot

from console.domain.events import Event, EventType
from console.logs import QUIET, log_file, reset_logging, setup_logging
from console.sync.client import StoreClient
from console.ui.app import install_crash_handler
from console.ui.crash import CrashBanner, CrashHandler
from console.ui.live_session import LiveSession
from console.ui.live_window import LiveWindow

# pytest-qt's own sys.excepthook would take the exceptions this test hands to the handler.
pytestmark = pytest.mark.qt_no_exception_capture


class Crashable:
    """A live window that never connects (nothing to follow), with the crash handler on."""

    def __init__(self, font_family: str, loop: qasync.QEventLoop) -> None:
        self.live = LiveSession(StoreClient("http://127.0.0.1:9", "lc_none"))
        self.window = LiveWindow(self.live, font_family)
        self.handler: CrashHandler = install_crash_handler(
            self.window, self.window.set_read_only, loop
        )
        self.banner = self.window.findChild(CrashBanner)
        self.live.role = "assistant"
        self.live.role_changed.emit("assistant")
        self.window.show()

    def fail_in_a_slot(self) -> None:
        """The redraw tick meets an event beyond the next ``seq``: it raises ``SequenceGap``
        on purpose (a wrong room is worse than a loud failure)."""
        gap = self.live.state.seq + 5
        self.live._on_follower_events([Event(gap, f"e{gap}", EventType.COMMENT, 1_800_000_000.0)])
        self.live._timer.start()


@pytest.fixture
def crashable(
    qtbot: QtBot, font_family: str, qloop: qasync.QEventLoop, run: Callable[..., Any]
) -> Iterator[Crashable]:
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    setup_logging()
    console = Crashable(font_family, qloop)
    yield console
    console.handler.deactivate()
    run(console.live.stop())
    console.window.close()
    reset_logging()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def banner_text(console: Crashable) -> str:
    assert console.banner is not None
    return console.banner.label.text() if console.banner.isVisible() else ""


def test_an_exception_in_a_slot_is_logged_and_shown_and_commands_stop(
    crashable: Crashable, qtbot: QtBot
) -> None:
    assert crashable.window.commands["acknowledge"].isEnabled()
    assert banner_text(crashable) == ""

    crashable.fail_in_a_slot()
    qtbot.waitUntil(lambda: "程序出错" in banner_text(crashable), timeout=5_000)

    text = banner_text(crashable)
    assert "SequenceGap" in text
    assert "指令已停用" in text
    assert str(log_file()) in text
    logged = log_file().read_text(encoding="utf-8")
    assert "ERROR console.ui.crash: uncaught exception in a Qt slot" in logged
    assert "Traceback (most recent call last)" in logged
    assert "in _on_timer_tick" in logged
    assert "SequenceGap: expected seq 1, got 5" in logged
    # Read-only from now on, even when the role arrives again; the room is still shown.
    assert not any(action.isEnabled() for action in crashable.window.commands.values())
    crashable.live.role_changed.emit("assistant")
    assert not crashable.window.commands["acknowledge"].isEnabled()
    assert crashable.window.isVisible()
    # The message fits: wrapped, never cut.
    label = crashable.banner.label  # type: ignore[union-attr]
    assert label.height() >= label.heightForWidth(label.width())
    assert label.font().pixelSize() >= 16


def test_a_repeating_failure_logs_its_traceback_once_and_counts(
    crashable: Crashable, qtbot: QtBot
) -> None:
    for times in (1, 2, 3):
        crashable.fail_in_a_slot()
        qtbot.waitUntil(lambda times=times: crashable.handler.count == times, timeout=5_000)
    qtbot.waitUntil(lambda: "共 3 次" in banner_text(crashable), timeout=5_000)
    logged = log_file().read_text(encoding="utf-8")
    assert logged.count("Traceback (most recent call last)") == 1
    assert "2 times now: SequenceGap" in logged
    assert "3 times now" not in logged


def test_a_failed_task_and_a_failed_thread_are_shown_too(
    crashable: Crashable, qtbot: QtBot
) -> None:
    async def save_cards() -> None:
        raise OSError("disk full while saving cards")

    crashable.live._spawn(save_cards())
    qtbot.waitUntil(lambda: "disk full" in banner_text(crashable), timeout=5_000)

    def fold() -> None:
        raise RuntimeError("fold failed in a worker")

    worker = threading.Thread(target=fold, name="fold-worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "fold failed" in banner_text(crashable), timeout=5_000)

    logged = log_file().read_text(encoding="utf-8")
    assert "uncaught exception in asyncio (a task of the window failed)" in logged
    assert "OSError: disk full while saving cards" in logged
    assert "uncaught exception in thread fold-worker" in logged
    assert "RuntimeError: fold failed in a worker" in logged


def test_the_quit_button_closes_the_window(crashable: Crashable, qtbot: QtBot) -> None:
    crashable.fail_in_a_slot()
    qtbot.waitUntil(lambda: banner_text(crashable) != "", timeout=5_000)
    with qtbot.waitSignal(crashable.window.closed, timeout=5_000):
        crashable.banner.quit_button.click()  # type: ignore[union-attr]


def test_deactivate_puts_the_previous_hooks_back(
    font_family: str, qloop: qasync.QEventLoop, qtbot: QtBot
) -> None:
    before = (sys.excepthook, threading.excepthook)
    console = Crashable(font_family, qloop)
    try:
        assert sys.excepthook == console.handler._on_uncaught
        assert threading.excepthook == console.handler._on_thread_uncaught
        failure = {"message": "a callback failed", "exception": RuntimeError("callback")}
        qloop.call_exception_handler(failure)
        assert console.handler.count == 1
        console.handler.deactivate()
        assert (sys.excepthook, threading.excepthook) == before
        # qasync's loop cannot tell its previous handler: it gets its default one back.
        qloop.call_exception_handler({"message": "after", "exception": RuntimeError("after")})
        assert console.handler.count == 1
    finally:
        console.handler.deactivate()
        console.window.close()
