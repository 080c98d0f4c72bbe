"""The shout-out list as the host reads it: large text, a colour per urgency, pinned on top."""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from console.ui.fonts import ui_font
from console.ui.shoutout_model import KIND_LABELS, ShoutoutModel
from console.ui.theme import PALETTE

Index = QModelIndex | QPersistentModelIndex
ROW_HEIGHT = 74
URGENCY_COLORS = {1: "#ff5d5d", 2: PALETTE["accent"], 3: "#56b4e9", 4: "#2fbf71"}
CALM_COLOR = "#5b6470"


class ShoutoutDelegate(QStyledItemDelegate):
    def __init__(self, font_family: str) -> None:
        super().__init__()
        self.text_font = ui_font(font_family, 23)
        self.tag_font = ui_font(font_family, 14, bold=True)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return QSize(option.rect.width(), ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        priority = int(index.data(ShoutoutModel.PriorityRole) or 9)
        pinned = bool(index.data(ShoutoutModel.PinnedRole))
        fading = bool(index.data(ShoutoutModel.FadingRole))
        kind = index.data(ShoutoutModel.KindRole)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect: QRect = option.rect.adjusted(2, 3, -2, -3)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setOpacity(0.35 if fading else 1.0)
        background = QColor(PALETTE["panel_border"] if selected else "#202731")
        painter.setPen(QColor(PALETTE["accent"]) if selected else Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 6, 6)
        stripe = QColor(URGENCY_COLORS.get(priority, CALM_COLOR))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(stripe)
        painter.drawRoundedRect(QRect(rect.left(), rect.top(), 6, rect.height()), 3, 3)
        tag = ("置顶 · " if pinned else "") + (KIND_LABELS.get(kind, "") if kind else "")
        painter.setFont(self.tag_font)
        painter.setPen(stripe)
        painter.drawText(
            rect.adjusted(18, 6, -10, 0),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            tag + (" · 已口播" if fading else ""),
        )
        painter.setFont(self.text_font)
        painter.setPen(QColor(PALETTE["text"]))
        text_rect = rect.adjusted(18, 26, -10, -4)
        text = painter.fontMetrics().elidedText(
            str(index.data() or ""), Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
        )
        painter.restore()


class ShoutoutView(QListView):
    def __init__(self, model: ShoutoutModel, font_family: str) -> None:
        super().__init__()
        self.setObjectName("shoutouts")
        self.setModel(model)
        self._delegate = ShoutoutDelegate(font_family)
        self.setItemDelegate(self._delegate)
        self.setUniformItemSizes(True)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(PALETTE["panel"]))
        self.setPalette(palette)

    def selected_id(self) -> str | None:
        indexes = self.selectedIndexes()
        return str(indexes[0].data(ShoutoutModel.IdRole)) if indexes else None

    def step_selection(self, step: int) -> None:
        """Move the selection ``step`` rows among the waiting shout-outs (faded ones are not
        for acting on); with none selected, select the first."""
        model = self.model()
        assert isinstance(model, ShoutoutModel)
        waiting = len(model.waiting())
        if not waiting:
            return
        selected = self.selected_id()
        row = model.row_of(selected) if selected is not None else None
        target = 0 if row is None else min(max(row + step, 0), waiting - 1)
        index = model.index(target)
        self.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.scrollTo(index)
