"""A titled panel (面板): the dark rounded frame every window lays its parts out in."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget


def panel(title: str, body: QWidget, extra: QWidget | None = None) -> QFrame:
    """``body`` under a caption; ``extra`` (a toggle, a button) at the caption's right."""
    frame = QFrame()
    frame.setObjectName("panel")
    caption = QLabel(title)
    caption.setObjectName("panelTitle")
    head = QHBoxLayout()
    head.addWidget(caption, 1)
    if extra is not None:
        head.addWidget(extra)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(14, 8, 14, 12)
    layout.addLayout(head)
    layout.addWidget(body, 1)
    return frame
