"""The composition root of the console: builds the services and the window, runs qasync."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path

import platformdirs
import pyqtgraph as pg
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from console.sync.cache import LocalCache
from console.sync.client import StoreClient
from console.ui.fonts import install_app_font
from console.ui.live_session import LiveSession
from console.ui.live_window import LiveWindow
from console.ui.theme import PALETTE, stylesheet

APP_NAME = "zhibo-console"
log = logging.getLogger(__name__)


def default_cache_path() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "console-cache.db"


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
    store_url: str, token: str, cache_path: Path | None, font_family: str
) -> tuple[LiveSession, LiveWindow]:
    client = StoreClient(store_url, token)
    cache = LocalCache(cache_path or default_cache_path())
    live = LiveSession(client, cache)
    window = LiveWindow(live, font_family)
    return live, window


def save_screenshot(window: LiveWindow, path: Path) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(path), "PNG")
    if not saved:
        log.error("could not write the screenshot %s", path)
    return saved


def run_console(
    store_url: str,
    token: str,
    session: str | None = None,
    cache_path: Path | None = None,
    screenshot: Path | None = None,
    exit_after: float | None = None,
) -> int:
    """Open the live console on a store; returns the process exit status."""
    app, family = make_application()
    live, window = build_live(store_url, token, cache_path, family)
    status = 0

    async def main() -> None:
        nonlocal status
        closed = asyncio.Event()
        window.closed.connect(closed.set)
        window.show()
        follow = asyncio.ensure_future(live.run(session))

        def finish() -> None:
            nonlocal status
            if screenshot is not None and not save_screenshot(window, screenshot):
                status = 1
            window.close()

        if exit_after is not None:
            QTimer.singleShot(int(exit_after * 1000), finish)
        await closed.wait()
        follow.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follow
        await live.stop()
        if live.cache is not None:
            live.cache.close()

    qasync.run(main())
    del app
    return status
