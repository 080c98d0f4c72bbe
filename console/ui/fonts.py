"""Loads the bundled CJK font so every machine renders the console the same way."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from console.resources import resource_path

FAMILY = "LiveConsole Sans SC"
EMOJI_FAMILY = "LiveConsole Emoji"
FONT_FILES = (
    "fonts/LiveConsoleSansSC-Regular.otf",
    "fonts/LiveConsoleSansSC-Bold.otf",
    "fonts/LiveConsoleEmoji.ttf",  # product emoji (🥗 🍒 🥛) where the system has none
)


def load_bundled_fonts() -> str:
    """Register the bundled faces; returns the family name. RuntimeError if none loads."""
    families: set[str] = set()
    for relative in FONT_FILES:
        font_id = QFontDatabase.addApplicationFont(str(resource_path(relative)))
        if font_id >= 0:
            families.update(QFontDatabase.applicationFontFamilies(font_id))
    for family in (FAMILY, EMOJI_FAMILY):
        if family not in families:
            raise RuntimeError(f"the bundled font {family!r} did not load from resources/fonts")
    return FAMILY


def ui_font(family: str, pixel_size: int | None = None, bold: bool = False) -> QFont:
    """The UI's font with the bundled emoji as fallback, for widgets that paint text."""
    font = QFont()
    font.setFamilies([family, EMOJI_FAMILY])
    if pixel_size is not None:
        font.setPixelSize(pixel_size)
    font.setBold(bold)
    return font


BASE_PIXEL_SIZE = 16  # every text at least this, readable at a metre (tables, tabs, buttons)


def install_app_font(app: QApplication, pixel_size: int = BASE_PIXEL_SIZE) -> QFont:
    family = load_bundled_fonts()
    font = ui_font(family, pixel_size)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    app.setFont(font)
    return font
