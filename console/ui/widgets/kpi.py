"""A labelled big figure (指标卡)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from console.domain.metrics import Rate, room_chain_conversion
from console.domain.room import RoomState
from console.ui.widgets.figure_label import FigureLabel

CONVERSION_TIP = (
    "接龙转化率 = 下单或接龙 (未取消) 的观众 / 累计观看\n"
    "已取消、已退款的订单不计；本场还没开接龙时显示 —"
)


class KpiTile(QWidget):
    """A caption, a big value and, for a rate, its own figures (82/105) beside the caption."""

    def __init__(
        self, label: str, primary: bool = False, tip: str = "", note: bool = False
    ) -> None:
        super().__init__()
        self.value_label = FigureLabel("0")
        self.value_label.setObjectName("kpiValue")
        self.value_label.setProperty("primary", primary)
        self.caption = QLabel(label)
        self.caption.setObjectName("kpiLabel")
        self.note_label: FigureLabel | None = None
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.caption)
        if note:  # a changing figure that must never re-lay out the window: a FigureLabel
            self.note_label = FigureLabel(
                "", Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, min_chars=7
            )
            self.note_label.setObjectName("kpiNote")
            row.addWidget(self.note_label, 1)
        else:
            row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(0)
        layout.addLayout(row)
        layout.addWidget(self.value_label)
        self.setToolTip(tip)

    def set_value(self, value: int) -> None:
        self.set_text(f"{value:,}")

    def set_text(self, text: str) -> None:
        self.value_label.setText(text)

    def set_rate(self, rate: Rate) -> None:
        """The rate, and its numerator/denominator in the note ("—" for both: nothing to
        divide by)."""
        self.set_text(rate.percent(0))
        if self.note_label is not None:
            self.note_label.setText("" if rate.value is None else rate.fraction())

    def text(self) -> str:
        return self.value_label.text()

    def note(self) -> str:
        return self.note_label.text() if self.note_label is not None else ""


def platform_online(state: RoomState) -> str:
    """The platforms' own online count beside ours ("平台 1,234"; summed over platforms)."""
    counts = state.platform_counts.values()
    return f"平台 {sum(c.online for c in counts):,}" if counts else ""


class RoomFigures:
    """The room's headline figures (直播间指标) as tiles, filled from a ``RoomState``: one
    definition for the live window and the replay window (``console.domain.metrics``)."""

    def __init__(self, with_peak: bool = True) -> None:
        self.online = KpiTile(
            "在线观众",
            primary=True,
            tip="此刻在直播间的观众 (去重)；“平台”是直播平台自己报的在线人数",
            note=True,
        )
        self.orders = KpiTile("订单", tip="本场已接受且未取消的订单")
        self.gmv = KpiTile("GMV (元)", tip="未取消订单的金额合计")
        self.conversion = KpiTile("接龙转化率", tip=CONVERSION_TIP, note=True)
        self.watched = KpiTile(
            "累计观看", tip="进过直播间的全部观众 (去重)，含受邀名单以外的会员和访客"
        )
        self.peak = KpiTile("峰值在线", tip="同时在线观众的最多人数") if with_peak else None

    @property
    def small(self) -> list[KpiTile]:
        """The tiles under the big online figure, in reading order."""
        tiles = [self.orders, self.gmv, self.conversion, self.watched, self.peak]
        return [t for t in tiles if t is not None]

    def show(self, state: RoomState) -> None:
        self.online.set_value(state.online)
        if self.online.note_label is not None:
            self.online.note_label.setText(platform_online(state))
        self.orders.set_value(state.orders)
        self.gmv.set_value(round(state.gmv / 100))
        self.conversion.set_rate(room_chain_conversion(state))
        self.watched.set_value(len(state.watched_members))
        if self.peak is not None:
            self.peak.set_value(state.peak_online)
