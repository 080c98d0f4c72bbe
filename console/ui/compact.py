"""Compact layout for small screens (a 1366x768 laptop): one switch for every window.

Below ``COMPACT_BELOW`` pixels high a window sets its ``compact`` property, and the theme
(``resources/styles``: ``QMainWindow[compact="true"]``) sets smaller type on the card and the
KPIs; the window lowers its charts itself. A window never shrinks below ``MINIMUM``.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QMainWindow, QWidget

COMPACT_BELOW = 940
MINIMUM = QSize(1280, 720)


def wants_compact(height: int) -> bool:
    return height < COMPACT_BELOW


def apply_compact(window: QMainWindow, compact: bool) -> None:
    """Set the property and restyle the window's widgets (a property selector is read only
    when a widget is polished)."""
    window.setProperty("compact", compact)
    style = window.style()
    for widget in (window, *window.findChildren(QWidget)):
        style.unpolish(widget)
        style.polish(widget)
