"""接龙 entries by pickup point (按自提点): a short ranked list, one bar per point.

Shown beside the 接龙 charts when the host presses D. A list of labels and bars rather than a
line of text: each point's name, its entries as a bar against the busiest point, the count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from console.domain.chains import ChainProgress, ChainStatus
from console.domain.text import display_text
from console.ui.theme import PALETTE
from console.ui.widgets.elided_label import ElidedLabel

ROWS = 6
NAME_CHARS = 20


class Bar(QWidget):
    """A horizontal bar filled to ``share`` (0..1) of its width."""

    def __init__(self) -> None:
        super().__init__()
        self.share = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(14)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(60, 14)

    def set_share(self, share: float) -> None:
        if share != self.share:
            self.share = share
            self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(PALETTE["panel_border"]))
        painter.drawRoundedRect(QRectF(self.rect()), 4, 4)
        if self.share > 0:
            painter.setBrush(QColor(PALETTE["accent"]))
            filled = QRectF(0, 0, max(4.0, self.width() * self.share), self.height())
            painter.drawRoundedRect(filled, 4, 4)


def entries_by_point(chains: Iterable[ChainProgress]) -> Counter[str]:
    """Entries per pickup point over the chains still taking entries."""
    total: Counter[str] = Counter()
    for chain in chains:
        if chain.status in (ChainStatus.OPEN, ChainStatus.FORMED):
            total.update({p: n for p, n in chain.by_point.items() if n > 0})
    return total


class PointBreakdown(QWidget):
    """The busiest pickup points of the open 接龙, ranked, with the rest summed up."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("pointBreakdown")
        self.max_rows = ROWS  # fewer on a short screen (``set_max_rows``)
        self._shown: tuple[dict[str, int], dict[str, str]] = ({}, {})
        self.title = QLabel("按自提点")
        self.title.setObjectName("pointTitle")
        self.empty = QLabel("暂无接龙订单")
        self.empty.setObjectName("emptyHint")
        self.names: list[ElidedLabel] = []
        self.bars: list[Bar] = []
        self.counts: list[QLabel] = []
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        for row in range(ROWS):
            name, bar, count = ElidedLabel(""), Bar(), QLabel("")
            name.setObjectName("pointName")
            count.setObjectName("pointCount")
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(count, row, 2)
            self.names.append(name)
            self.bars.append(bar)
            self.counts.append(count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.empty)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.show_points(Counter(), {})

    def set_max_rows(self, rows: int) -> None:
        self.max_rows = max(2, min(rows, ROWS))
        self.show_points(*self._shown)

    def show_points(self, entries: Mapping[str, int], names: Mapping[str, str]) -> None:
        self._shown = (dict(entries), dict(names))
        most = self.max_rows
        ranked = sorted(entries.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ranked[:most]
        rest_row = -1
        if len(ranked) > most:  # the last row sums up the rest: every entry is counted
            shown = ranked[: most - 1]
            rest = sum(n for _p, n in ranked[most - 1 :])
            shown.append((f"其他 {len(ranked) - most + 1} 个自提点", rest))
            rest_row = most - 1
        # Bars compare points with each other: the sum of the rest gets a count, no bar.
        top = max((n for row, (_p, n) in enumerate(shown) if row != rest_row), default=0)
        self.title.setText(f"按自提点 · 共 {sum(entries.values())} 单")
        self.empty.setVisible(not shown)
        for row, (name, bar, count) in enumerate(
            zip(self.names, self.bars, self.counts, strict=True)
        ):
            visible = row < len(shown)
            for widget in (name, bar, count):
                widget.setVisible(visible)
            bar.setVisible(visible and row != rest_row)
            if visible:
                point, n = shown[row]
                name.setText(display_text(names.get(point, point), NAME_CHARS))
                bar.set_share(n / top if top and row != rest_row else 0.0)
                count.setText(f"{n}")

    def rows(self) -> list[tuple[str, int]]:
        return [
            (name.text(), int(count.text()))
            for name, count in zip(self.names, self.counts, strict=True)
            if not name.isHidden()
        ]
