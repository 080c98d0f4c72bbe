"""A labelled big figure (指标卡)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from console.domain.metrics import chain_conversion
from console.domain.room import RoomState
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


class RoomFigures:
    """The room's headline figures (直播间指标) as tiles, filled from a ``RoomState``: one
    definition for the live window and the replay window."""

    def __init__(self, with_peak: bool = True) -> None:
        self.online = KpiTile("在线观众", primary=True)
        self.orders = KpiTile("订单")
        self.gmv = KpiTile("GMV (元)")
        self.conversion = KpiTile("接龙转化率")
        self.watched = KpiTile("累计观看")
        self.peak = KpiTile("峰值在线") if with_peak else None

    @property
    def small(self) -> list[KpiTile]:
        """The tiles under the big online figure, in reading order."""
        tiles = [self.orders, self.gmv, self.conversion, self.watched, self.peak]
        return [t for t in tiles if t is not None]

    def show(self, state: RoomState) -> None:
        self.online.set_value(state.online)
        self.orders.set_value(state.orders)
        self.gmv.set_value(round(state.gmv / 100))
        rate = chain_conversion(state)
        self.conversion.set_text("—" if rate is None else f"{rate:.0%}")
        self.watched.set_value(len(state.watched_members))
        if self.peak is not None:
            self.peak.set_value(state.peak_online)
