"""A line of text that changes often (指标数值, 时刻) without re-laying out its window."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class FigureLabel(QWidget):
    """Like a one-line QLabel, but ``setText`` only repaints it.

    A QLabel asks its layout for a new geometry at every ``setText``; in a window full of
    charts that relayout and the repaint it causes cost tens of milliseconds per change. This
    label's size hint depends on its font alone (``min_chars`` digits wide, one line high),
    and text wider than it is elided, never pushing the layout. Styled from QSS by object
    name (font, colour) like any widget.
    """

    def __init__(
        self,
        text: str = "",
        alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        min_chars: int = 4,
        fixed: bool = False,
    ) -> None:
        """``fixed``: exactly ``min_chars`` digits wide (a clock); else it takes the room
        its layout gives it."""
        super().__init__()
        self._text = text
        self._alignment = alignment
        self._min_chars = min_chars
        horizontal = QSizePolicy.Policy.Fixed if fixed else QSizePolicy.Policy.Expanding
        self.setSizePolicy(horizontal, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - the QLabel name, on purpose
        if text != self._text:
            self._text = text
            self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance("0") * self._min_chars, metrics.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return self.sizeHint()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.FontChange:
            self.updateGeometry()  # the one change that does alter the size
        super().changeEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), self._alignment, shown)
