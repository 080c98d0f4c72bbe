"""Per-window settings (窗口设置) kept between runs: geometry and view toggles, in QSettings.

The file lives in the user's config directory, resolved each time a window opens (so a test
that points ``XDG_CONFIG_HOME`` elsewhere never touches the user's real settings).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import QPoint, QSettings, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

APP_NAME = "zhibo-console"
FILE_NAME = "windows.ini"


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / FILE_NAME


def window_settings() -> QSettings:
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def restore_geometry(window: QWidget, key: str) -> bool:
    """The window's size (and place, when that is on a screen now) as last closed; False
    when none was saved. Size and place rather than ``saveGeometry``: that one fits the
    window to the screen it was saved on, and a headless screen is small."""
    settings = window_settings()
    size = settings.value(f"{key}/size")
    if not isinstance(size, QSize) or size.isEmpty():
        return False
    window.resize(size)
    place = settings.value(f"{key}/pos")
    if isinstance(place, QPoint) and QGuiApplication.screenAt(place) is not None:
        window.move(place)
    return True


def save_geometry(window: QWidget, key: str) -> None:
    settings = window_settings()
    settings.setValue(f"{key}/size", window.size())
    settings.setValue(f"{key}/pos", window.pos())


def load_flag(key: str, name: str, default: bool = False) -> bool:
    value = window_settings().value(f"{key}/{name}", default)
    return value in (True, "true", "1", 1)


def save_flag(key: str, name: str, value: bool) -> None:
    window_settings().setValue(f"{key}/{name}", value)
