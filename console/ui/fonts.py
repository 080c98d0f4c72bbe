"""Loads the bundled CJK font so every machine renders the console the same way."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from console.resources import resource_path

FAMILY = "LiveConsole Sans SC"
FONT_FILES = ("fonts/LiveConsoleSansSC-Regular.otf", "fonts/LiveConsoleSansSC-Bold.otf")


def load_bundled_fonts() -> str:
    """Register the bundled faces; returns the family name. RuntimeError if none loads."""
    families: set[str] = set()
    for relative in FONT_FILES:
        font_id = QFontDatabase.addApplicationFont(str(resource_path(relative)))
        if font_id >= 0:
            families.update(QFontDatabase.applicationFontFamilies(font_id))
    if FAMILY not in families:
        raise RuntimeError(f"the bundled font {FAMILY!r} did not load from resources/fonts")
    return FAMILY


def install_app_font(app: QApplication, point_size: int = 11) -> QFont:
    family = load_bundled_fonts()
    font = QFont(family, point_size)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    app.setFont(font)
    return font
