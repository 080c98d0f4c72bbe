"""The composition root of the console: builds the services and the window, runs qasync."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import platformdirs
import pyqtgraph as pg
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QVBoxLayout, QWidget

from console.logs import log_file
from console.sync.cache import LocalCache
from console.sync.client import StoreClient
from console.sync.outbox import Outbox
from console.ui.crash import CrashBanner, CrashHandler, report_failure
from console.ui.fonts import install_app_font
from console.ui.live_session import LiveSession
from console.ui.live_window import LiveWindow
from console.ui.memory import freeze_long_lived_objects
from console.ui.replay_window import ReplayController, ReplayWindow
from console.ui.segments_controller import SegmentsController
from console.ui.segments_window import SegmentsWindow
from console.ui.theme import PALETTE, stylesheet
from console.ui.window_settings import APP_NAME

log = logging.getLogger(__name__)


def default_cache_path() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "console-cache.db"


def default_outbox_path() -> Path:
    """Unsent commands are data, not cache: they live in the user's data directory."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "console-outbox.db"


def make_application() -> tuple[QApplication, str]:
    """The QApplication with the bundled font, the theme and pyqtgraph's colours."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("直播中控台")
    # The asyncio side shuts down (cache flush, connections) after the window closes.
    app.setQuitOnLastWindowClosed(False)
    family = install_app_font(app).family()
    app.setStyleSheet(stylesheet(family))
    pg.setConfigOptions(antialias=True, background=PALETTE["panel"], foreground=PALETTE["text_dim"])
    return app, family


def build_live(
    store_url: str,
    token: str,
    cache_path: Path | None,
    font_family: str,
    outbox_path: Path | None = None,
) -> tuple[LiveSession, LiveWindow]:
    client = StoreClient(store_url, token)
    cache = LocalCache(cache_path or default_cache_path())
    outbox = Outbox(outbox_path or default_outbox_path())
    live = LiveSession(client, cache, outbox=outbox)
    window = LiveWindow(live, font_family)
    return live, window


def save_screenshot(window: QWidget, path: Path) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(path), "PNG")
    if not saved:
        log.error("could not write the screenshot %s", path)
    return saved


def install_crash_handler(
    window: QMainWindow,
    read_only: Callable[[], None] | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> CrashHandler:
    """Log and show uncaught exceptions (see ``console.ui.crash``): a banner above the
    window's content; ``read_only`` is called on the first failure (it disables commands).
    ``deactivate()`` the handler when the window is done."""
    handler = CrashHandler(window)
    banner = CrashBanner(log_file(), commands_held=read_only is not None)
    content = window.takeCentralWidget()
    frame = QWidget()
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(banner)
    if content is not None:
        layout.addWidget(content, 1)
    window.setCentralWidget(frame)
    handler.crashed.connect(banner.show_failure)
    if read_only is not None:
        handler.crashed.connect(lambda _summary, _count: read_only())
    banner.quit_requested.connect(window.close)
    handler.activate(loop)
    return handler


def run_window(
    window: QMainWindow,
    work: Coroutine[Any, Any, None],
    shutdown: Callable[[], Awaitable[None]],
    screenshot: Path | None = None,
    exit_after: float | None = None,
    read_only: Callable[[], None] | None = None,
) -> int:
    """Show ``window``, run ``work`` beside it until the window closes, then ``shutdown``.

    With ``exit_after`` the window closes by itself, after saving ``screenshot``. An
    uncaught exception is logged and shown in the window (``install_crash_handler``); the
    exit status is then 1.
    """
    status = 0

    async def main() -> None:
        nonlocal status
        crash = install_crash_handler(window, read_only, asyncio.get_running_loop())
        try:
            await show_and_wait()
        finally:
            crash.deactivate()
        if crash.count:
            status = 1

    async def show_and_wait() -> None:
        nonlocal status
        closed = asyncio.Event()
        window.closed.connect(closed.set)  # type: ignore[attr-defined]
        window.show()
        freeze_long_lived_objects()
        task = asyncio.ensure_future(work)
        task.add_done_callback(report_failure)

        def finish() -> None:
            nonlocal status
            if screenshot is not None and not save_screenshot(window, screenshot):
                status = 1
            window.close()

        if exit_after is not None:
            QTimer.singleShot(int(exit_after * 1000), finish)
        await closed.wait()
        task.cancel()
        # A failure of ``work`` was reported (``report_failure``) when it happened.
        await asyncio.gather(task, return_exceptions=True)
        await shutdown()

    qasync.run(main())
    return status


def run_console(
    store_url: str,
    token: str,
    session: str | None = None,
    cache_path: Path | None = None,
    screenshot: Path | None = None,
    exit_after: float | None = None,
    outbox_path: Path | None = None,
) -> int:
    """Open the live console on a store; returns the process exit status."""
    _app, family = make_application()
    live, window = build_live(store_url, token, cache_path, family, outbox_path)

    async def shutdown() -> None:
        await live.stop()
        if live.cache is not None:
            live.cache.close()
        if live.outbox is not None:
            live.outbox.close()

    return run_window(
        window, live.run(session), shutdown, screenshot, exit_after, window.set_read_only
    )


def run_segments(
    store_url: str,
    token: str,
    screenshot: Path | None = None,
    exit_after: float | None = None,
) -> int:
    """Open the operator's segmentation window on a store (operator token)."""
    make_application()
    client = StoreClient(store_url, token)
    controller = SegmentsController(client)
    window = SegmentsWindow(controller)
    return run_window(window, controller.reload(), client.aclose, screenshot, exit_after)


def run_replay(
    store_url: str,
    token: str,
    session: str,
    screenshot: Path | None = None,
    exit_after: float | None = None,
) -> int:
    """Open the operator's replay and review window on one session."""
    _app, family = make_application()
    client = StoreClient(store_url, token)
    controller = ReplayController(client, session)
    window = ReplayWindow(controller, family)
    return run_window(window, controller.load(), client.aclose, screenshot, exit_after)
