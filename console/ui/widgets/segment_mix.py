"""The room's segment mix (分层构成): one horizontal bar per circle, with count and share."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics

from console.domain.segments import ALL_SEGMENTS, Segment
from console.ui.fonts import ui_font
from console.ui.theme import PALETTE, segment_color

BAR_HEIGHT = 0.72
MIX_HEIGHT = {False: 170, True: 150}  # six rows of 16-pixel labels (compact: True)


class SegmentMixChart(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """Bars are created once; ``set_counts`` only moves them (cheap on every redraw)."""

    def __init__(self, font_family: str) -> None:
        super().__init__()
        self._counts: dict[Segment, int] = dict.fromkeys(ALL_SEGMENTS, 0)
        self._width = 0.0
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.showGrid(x=True, y=False, alpha=0.15)
        tick_font = ui_font(font_family, 16)
        left = plot.getAxis("left")
        left.setTicks([[(i, f"{s.value} {s.label}") for i, s in enumerate(ALL_SEGMENTS)]])
        left.setStyle(tickFont=tick_font, tickLength=0)
        left.setTextPen(pg.mkPen(PALETTE["text"]))
        # Each bar carries its count and share: no value axis to re-lay out on every change.
        plot.hideAxis("bottom")
        plot.invertY(True)
        self._bars = pg.BarGraphItem(
            x0=np.zeros(len(ALL_SEGMENTS)),
            y=np.arange(len(ALL_SEGMENTS), dtype=float),
            height=BAR_HEIGHT,
            width=np.zeros(len(ALL_SEGMENTS)),
            brushes=[segment_color(s) for s in ALL_SEGMENTS],
            pens=[pg.mkPen(None)] * len(ALL_SEGMENTS),
        )
        plot.addItem(self._bars)
        label_font = ui_font(font_family, 16, bold=True)
        self._metrics = QFontMetrics(label_font)
        # Room right of the longest bar for the widest label, in pixels (set with the labels).
        self._label_px = self._metrics.horizontalAdvance(" 99 · 100%") + 8
        self._labels: list[pg.TextItem] = []
        for row in range(len(ALL_SEGMENTS)):
            label = pg.TextItem("", color=PALETTE["text"], anchor=(0, 0.5))
            label.setFont(label_font)
            label.setPos(0, row)
            plot.addItem(label)
            self._labels.append(label)
        self._set_range(1)
        plot.getViewBox().sigResized.connect(self._on_view_resized)

    def counts(self) -> dict[Segment, int]:
        return dict(self._counts)

    def label_texts(self) -> list[str]:
        return [label.toPlainText() for label in self._labels]

    def set_counts(self, counts: Mapping[Segment, int]) -> None:
        values = [int(counts.get(s, 0)) for s in ALL_SEGMENTS]
        if values == list(self._counts.values()):
            return
        self._counts = dict(zip(ALL_SEGMENTS, values, strict=True))
        total = sum(values)
        self._bars.setOpts(width=np.array(values, dtype=float))
        for row, (label, value) in enumerate(zip(self._labels, values, strict=True)):
            share = f"{value / total:.0%}" if total else "0%"
            label.setText(f" {value} · {share}")
            label.setPos(value, row)
        self._label_px = 8 + max(self._metrics.horizontalAdvance(t) for t in self.label_texts())
        self._set_range(max(values))

    def _on_view_resized(self) -> None:
        self._set_range(max(self._counts.values()), force=True)

    def _bar_share(self) -> float:
        """The share of the plot's width a bar may take, leaving its label room."""
        width = float(self.getPlotItem().getViewBox().width())
        return min(2 / 3, max(0.2, 1 - self._label_px / max(width, 1)))

    def _set_range(self, largest: int, force: bool = False) -> None:
        """Room for the labels right of the longest bar; the scale moves only in steps (grows
        past the bar's share of the width, shrinks below 1/4) so a busy room does not rescale
        each frame."""
        share = self._bar_share()
        if not force and self._width and self._width / 4 <= largest <= self._width * share:
            return
        self._width = max(largest, 5) / (share * 0.8)
        self.setXRange(0, self._width, padding=0)
        self.setYRange(-0.5, len(ALL_SEGMENTS) - 0.5, padding=0)
