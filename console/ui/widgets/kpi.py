"""A labelled big figure (指标卡)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from console.ui.widgets.figure_label import FigureLabel


class KpiTile(QWidget):
    def __init__(self, label: str, primary: bool = False) -> None:
        super().__init__()
        self.value_label = FigureLabel("0")
        self.value_label.setObjectName("kpiValue")
        self.value_label.setProperty("primary", primary)
        caption = QLabel(label)
        caption.setObjectName("kpiLabel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(0)
        layout.addWidget(caption)
        layout.addWidget(self.value_label)

    def set_value(self, value: int) -> None:
        self.set_text(f"{value:,}")

    def set_text(self, text: str) -> None:
        self.value_label.setText(text)

    def text(self) -> str:
        return self.value_label.text()
