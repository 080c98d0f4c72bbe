"""Qt fixtures: one qasync loop over pytest-qt's QApplication, the app's font and theme."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.ui.app import make_application

T = TypeVar("T")


@pytest.fixture(scope="session")
def font_family(qapp: QApplication) -> str:
    _, family = make_application()
    return family


@pytest.fixture(scope="session")
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """asyncio on top of Qt's loop. Never stopped: that would quit the QApplication."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    executor = qasync.QThreadExecutor(4)  # for asyncio.to_thread; joined at the end
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    yield loop
    executor.shutdown(wait=True)


@pytest.fixture
def run(qloop: qasync.QEventLoop, qtbot: QtBot) -> Callable[..., Any]:
    """Run a coroutine to completion while Qt processes events."""

    def runner(coro: Awaitable[T], timeout: float = 15.0) -> T:
        task = asyncio.ensure_future(coro, loop=qloop)
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    return runner


@pytest.fixture(autouse=True)
def _no_dangling_timers(qapp: QApplication) -> Iterator[None]:
    """A test that leaves an active QTimer behind (a window not closed) fails."""
    yield
    qapp.processEvents()
    leftovers = [t for w in qapp.topLevelWidgets() for t in w.findChildren(QTimer) if t.isActive()]
    for widget in qapp.topLevelWidgets():
        widget.close()
    qapp.processEvents()
    assert not leftovers, f"active timers left behind: {leftovers}"
