"""Window geometry and the D toggle are remembered per window (QSettings), in the test's own
config directory, never the user's."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize
from pytestqt.qtbot import QtBot

from console.sync.client import StoreClient
from console.ui.live_session import LiveSession
from console.ui.live_window import LiveWindow
from console.ui.window_settings import settings_path


def open_window(font_family: str) -> LiveWindow:
    window = LiveWindow(LiveSession(StoreClient("http://127.0.0.1:9", "lc_none")), font_family)
    window.show()
    return window


def test_geometry_and_the_points_toggle_are_remembered(
    qtbot: QtBot, font_family: str, run: Callable[..., Any]
) -> None:
    assert Path(os.environ["XDG_CONFIG_HOME"]) in settings_path().parents
    first = open_window(font_family)
    assert not first.points_toggle.isChecked()  # nothing saved yet: D off, full HD
    assert first.size() == QSize(1920, 1080)
    first.points_toggle.setChecked(True)
    first.resize(1400, 820)
    qtbot.waitUntil(lambda: first.size() == QSize(1400, 820), timeout=5_000)
    first.close()
    run(first.live.client.aclose())
    assert settings_path().is_file()

    second = open_window(font_family)
    assert second.points_toggle.isChecked()
    assert second.points_view.isVisible()
    assert second.size() == QSize(1400, 820)
    assert second.compact  # a short window lays out compact from the start
    second.close()
    run(second.live.client.aclose())
