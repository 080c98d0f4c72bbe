"""Per-window settings (窗口设置) kept between runs: geometry and view toggles, in QSettings.

The file lives in the user's config directory, resolved each time a window opens (so a test
that points ``XDG_CONFIG_HOME`` elsewhere never touches the user's real settings).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QWidget

APP_NAME = "zhibo-console"
FILE_NAME = "windows.ini"


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / FILE_NAME


def window_settings() -> QSettings:
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


def restore_geometry(window: QWidget, key: str) -> bool:
    """The window's size and place as last closed; False when there is none."""
    saved = window_settings().value(f"{key}/geometry")
    return isinstance(saved, QByteArray) and bool(window.restoreGeometry(saved))


def save_geometry(window: QWidget, key: str) -> None:
    window_settings().setValue(f"{key}/geometry", window.saveGeometry())


def load_flag(key: str, name: str, default: bool = False) -> bool:
    value = window_settings().value(f"{key}/{name}", default)
    return value in (True, "true", "1", 1)


def save_flag(key: str, name: str, value: bool) -> None:
    window_settings().setValue(f"{key}/{name}", value)
