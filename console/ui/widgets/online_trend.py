"""Online viewers over the broadcast (在线趋势): total and per circle, from event time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from console.domain.segments import ALL_SEGMENTS
from console.domain.timeline import Sample
from console.ui.fonts import ui_font
from console.ui.theme import PALETTE, SEGMENT_COLORS

SECONDS_UNTIL_MINUTES = 120


class OnlineTrendChart(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """The room over the show, drawn from samples taken by event time (``TimelineSampler``)."""

    def __init__(self, font_family: str) -> None:
        super().__init__()
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.showGrid(x=False, y=True, alpha=0.15)
        for side in ("left", "bottom"):
            plot.getAxis(side).setStyle(tickFont=ui_font(font_family, 16))
            plot.getAxis(side).label.setFont(ui_font(font_family, 16))
        self._bottom = plot.getAxis("bottom")
        self._bottom.enableAutoSIPrefix(False)
        self._in_minutes: bool | None = None
        self._size = 0
        self._minutes = np.zeros(0)
        self._values = np.zeros((len(ALL_SEGMENTS) + 1, 0))
        # Thin per-circle lines without antialiasing (most of a repaint's cost otherwise);
        # long broadcasts are drawn downsampled to the plot's width.
        self._curves = [
            plot.plot(pen=pg.mkPen(SEGMENT_COLORS[s], width=1), antialias=False)
            for s in ALL_SEGMENTS
        ]
        self._curves.append(plot.plot(pen=pg.mkPen(PALETTE["accent"], width=2)))
        plot.setDownsampling(auto=True, mode="peak")
        plot.setLimits(xMin=0)  # time since the start: never a negative stretch
        plot.setClipToView(True)

    @property
    def samples(self) -> int:
        return self._size

    def show_samples(self, samples: Sequence[Sample]) -> None:
        """Draw the room over the show, one point per sample (by event time)."""
        if not samples:
            return
        self._size = len(samples)
        self._minutes = np.fromiter((s.minute for s in samples), float, self._size)
        self._values = np.array(
            [
                [s.online_by_segment.get(seg, 0) for seg in ALL_SEGMENTS] + [s.online]
                for s in samples
            ],
            dtype=float,
        ).T
        # Seconds while the broadcast is young, minutes after that: no "0.05 分钟" ticks.
        in_minutes = bool(self._minutes[-1] >= SECONDS_UNTIL_MINUTES / 60)
        if in_minutes != self._in_minutes:
            self._in_minutes = in_minutes
            self._bottom.setLabel("开播后分钟" if in_minutes else "开播后秒数")
        x = self._minutes * (1 if in_minutes else 60)
        for curve, values in zip(self._curves, self._values, strict=True):
            curve.setData(x, values)


class TrendLegend(QWidget):
    """Which line is which (图例): the total first, then each circle in its colour, in two
    columns beside the chart (low enough for a 768-pixel screen)."""

    def __init__(self) -> None:
        super().__init__()
        layout = QGridLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.setHorizontalSpacing(8)
        layout.setVerticalSpacing(0)
        entries = [("总在线", PALETTE["accent"], "全部在线观众")]
        entries += [(s.value, SEGMENT_COLORS[s], s.label) for s in ALL_SEGMENTS]
        self.labels: list[QLabel] = []
        for n, (text, color, tip) in enumerate(entries):
            label = QLabel(f"━ {text}")
            label.setObjectName("legendEntry")
            label.setStyleSheet(f"color: {color};")
            label.setToolTip(tip)
            layout.addWidget(label, n % 4, n // 4)
            self.labels.append(label)
        layout.setRowStretch(4, 1)
