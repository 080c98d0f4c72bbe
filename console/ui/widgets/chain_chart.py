"""接龙 progress (接龙进度): one chart per chain, entries over time against the threshold.

Each chart's caption reads as the host would say it: "还差3单成团 · 剩余 04:12". The split
by pickup point (自提点) is shown on demand, below the chart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from console.domain.chains import ChainProgress, ChainStatus
from console.domain.text import display_text
from console.ui.fonts import ui_font
from console.ui.theme import PALETTE
from console.ui.widgets.elided_label import ElidedLabel

STATUS_TEXT = {
    ChainStatus.OPEN: "进行中",
    ChainStatus.FORMED: "已成团",
    ChainStatus.CLOSED: "已结束",
    ChainStatus.FAILED: "未成团",
}
POINTS_SHOWN = 6


def time_left(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def caption(chain: ChainProgress, product: str, now: float, ended: bool = False) -> str:
    """What the chart's title says; once the show has ended nothing counts down any more
    (no order can join: the chain waits for its deadline to close or fail)."""
    head = f"{product} · {chain.entries}/{chain.threshold}单"
    if ended and chain.status.active:
        return f"{head} · 直播已结束，不再接单"
    if chain.status is ChainStatus.OPEN:
        return f"{head} · 还差{chain.missing}单成团 · 剩余 {time_left(chain.deadline - now)}"
    if chain.status is ChainStatus.FORMED:
        left = time_left(chain.deadline - now)
        return f"{head} · 成团啦！还可接 {chain.cap - chain.entries} 单 · 剩余 {left}"
    return f"{head} · {STATUS_TEXT[chain.status]}"


class ChainCard(QFrame):
    def __init__(self, chain_id: str, font_family: str) -> None:
        super().__init__()
        self.chain_id = chain_id
        self.setObjectName("chainCard")
        self.title = ElidedLabel("")
        self.title.setObjectName("chainTitle")
        self.points = ElidedLabel("")
        self.points.setObjectName("chainPoints")
        self.points.setWordWrap(True)
        self.points.setVisible(False)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        item.showGrid(x=False, y=True, alpha=0.15)
        item.setLimits(xMin=0)  # time since the chain opened: never a negative stretch
        for side in ("left", "bottom"):
            item.getAxis(side).setStyle(tickFont=ui_font(font_family, 16))
        self._bottom = item.getAxis("bottom")
        self._bottom.enableAutoSIPrefix(False)
        self._in_minutes: bool | None = None
        self._curve = item.plot(pen=pg.mkPen(PALETTE["accent"], width=3), stepMode="right")
        self._threshold = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(PALETTE["ok"], width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        )
        item.addItem(self._threshold)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.points)

    def show_chain(
        self,
        chain: ChainProgress,
        product: str,
        now: float,
        points: Mapping[str, str],
        ended: bool = False,
    ) -> None:
        self.title.setText(caption(chain, product, now, ended))
        self.title.setProperty("status", chain.status.value)
        self.title.style().unpolish(self.title)
        self.title.style().polish(self.title)
        elapsed = [ts - chain.opened_ts for ts in chain.entry_ts]
        end = max(now - chain.opened_ts, elapsed[-1] if elapsed else 0.0)
        # Seconds while the chain is young, minutes after that (no "x0.001" ticks).
        in_minutes = end >= 120
        if in_minutes != self._in_minutes:
            self._in_minutes = in_minutes
            self._bottom.setLabel("开团后分钟" if in_minutes else "开团后秒数")
        unit = 60.0 if in_minutes else 1.0
        x = np.array([0.0, *elapsed, end]) / unit
        # One step per entry; cancelled entries lower the count: the end shows the true total.
        y = np.array([*range(len(elapsed) + 1), chain.entries], dtype=float)
        self._curve.setData(x, y)
        self._threshold.setValue(chain.threshold)
        self.plot.setYRange(0, max(chain.threshold, chain.entries) * 1.15, padding=0)
        top = sorted(chain.by_point.items(), key=lambda kv: -kv[1])[:POINTS_SHOWN]
        self.points.setText(
            "  ".join(f"{display_text(points.get(p, p), 12)} {n}" for p, n in top if n) or "暂无"
        )


class ChainPanel(QWidget):
    """Cards for the chains still taking entries (open or formed), newest first."""

    def __init__(self, font_family: str) -> None:
        super().__init__()
        self.font_family = font_family
        self.cards: dict[str, ChainCard] = {}
        self.empty = QLabel("暂无进行中的接龙")
        self.empty.setObjectName("emptyHint")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.empty)
        self.by_point = False

    def show_chains(
        self,
        chains: Mapping[str, ChainProgress],
        product_name: Callable[[str], str],
        now: float,
        points: Mapping[str, str],
        ended: bool = False,
    ) -> None:
        live = [c for c in chains.values() if c.status.active]
        live.sort(key=lambda c: -c.opened_ts)
        wanted = {c.id for c in live[:3]}
        for chain_id in list(self.cards):
            if chain_id not in wanted:
                card = self.cards.pop(chain_id)
                self._layout.removeWidget(card)
                card.hide()
                card.setParent(None)
        for chain in live[:3]:
            shown = self.cards.get(chain.id)
            if shown is None:
                shown = ChainCard(chain.id, self.font_family)
                self.cards[chain.id] = shown
                self._layout.addWidget(shown, 1)
            shown.points.setVisible(self.by_point)
            shown.show_chain(chain, product_name(chain.product_id), now, points, ended)
        self.empty.setVisible(not self.cards)

    def captions(self) -> list[str]:
        return [card.title.text() for card in self.cards.values()]
