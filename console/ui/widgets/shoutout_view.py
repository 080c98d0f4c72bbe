"""The shout-out list as the host reads it: large text, a colour per urgency, pinned on top.

Each line wraps to two lines; the shout-out Space and T act on (the selected one, else the
first waiting) is shown whole, however long, and every row's tooltip holds its full text.
Nothing scrolls sideways.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from console.domain.shoutouts import ShoutoutKind
from console.ui.fonts import ui_font
from console.ui.shoutout_model import KIND_LABELS, ShoutoutModel
from console.ui.theme import PALETTE, SHOUTOUT_KIND_COLORS

Index = QModelIndex | QPersistentModelIndex
_KINDS = frozenset(k.value for k in ShoutoutKind)
URGENCY_COLORS = {1: "#ff5d5d", 2: PALETTE["accent"], 3: "#56b4e9", 4: "#2fbf71"}
CALM_COLOR = "#5b6470"
LINES_SHOWN = 2  # a row's text at rest; the one to act on is shown whole
MARGIN = QSize(2, 3)  # around each row's rounded box
TEXT_LEFT, TEXT_RIGHT, TEXT_TOP, TEXT_BOTTOM = 18, 10, 28, 8  # inside the box
MIN_TEXT_WIDTH = 80
_CACHE_LIMIT = 512


def kind_color(kind: object, priority: int) -> str:
    """A row's stripe and tag colour: its kind's own (the turn prompts), else its urgency's."""
    own = SHOUTOUT_KIND_COLORS.get(ShoutoutKind(kind)) if kind in _KINDS else None
    return own or URGENCY_COLORS.get(priority, CALM_COLOR)


def wrap(text: str, font: QFont, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (at word boundaries, or anywhere
    in a run with none, such as a long number or CJK text)."""
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    lines: list[str] = []
    layout.beginLayout()
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        lines.append(text[line.textStart() : line.textStart() + line.textLength()].rstrip())
    layout.endLayout()
    return lines or [""]


class ShoutoutDelegate(QStyledItemDelegate):
    def __init__(self, font_family: str, view: ShoutoutView) -> None:
        super().__init__(view)
        self.text_font = ui_font(font_family, 23)
        self.tag_font = ui_font(font_family, 16, bold=True)  # readable at a metre too
        self._metrics = QFontMetrics(self.text_font)
        self._view = view
        self._wrapped: dict[tuple[str, int], list[str]] = {}

    def text_width(self) -> int:
        box = self._view.viewport().width() - 2 * MARGIN.width()
        return max(MIN_TEXT_WIDTH, box - TEXT_LEFT - TEXT_RIGHT)

    def shown_lines(self, index: Index) -> list[str]:
        """The lines a row draws: all of them for the one to act on, else at most
        ``LINES_SHOWN``, the last of those elided."""
        text = str(index.data() or "")
        width = self.text_width()
        key = (text, width)
        lines = self._wrapped.get(key)
        if lines is None:
            if len(self._wrapped) > _CACHE_LIMIT:
                self._wrapped.clear()
            lines = self._wrapped[key] = wrap(text, self.text_font, width)
        if len(lines) <= LINES_SHOWN or self._view.is_expanded(index):
            return lines
        rest = "".join(lines[LINES_SHOWN - 1 :])
        last = self._metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width)
        return [*lines[: LINES_SHOWN - 1], last]

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        lines = len(self.shown_lines(index))
        height = TEXT_TOP + lines * self._metrics.lineSpacing() + TEXT_BOTTOM
        # Width 1: the list gives every row the viewport's width; a wider hint would only
        # make it scroll sideways.
        return QSize(1, height + 2 * MARGIN.height())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        priority = int(index.data(ShoutoutModel.PriorityRole) or 9)
        pinned = bool(index.data(ShoutoutModel.PinnedRole))
        fading = bool(index.data(ShoutoutModel.FadingRole))
        kind = index.data(ShoutoutModel.KindRole)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect: QRect = option.rect.adjusted(
            MARGIN.width(), MARGIN.height(), -MARGIN.width(), -MARGIN.height()
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setOpacity(0.35 if fading else 1.0)
        background = QColor(PALETTE["panel_border"] if selected else "#202731")
        painter.setPen(QColor(PALETTE["accent"]) if selected else Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 6, 6)
        stripe = QColor(kind_color(kind, priority))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(stripe)
        painter.drawRoundedRect(QRect(rect.left(), rect.top(), 6, rect.height()), 3, 3)
        tag = ("置顶 · " if pinned else "") + (KIND_LABELS.get(kind, "") if kind else "")
        painter.setFont(self.tag_font)
        painter.setPen(stripe)
        painter.drawText(
            rect.adjusted(TEXT_LEFT, 6, -TEXT_RIGHT, 0),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            tag + (" · 已口播" if fading else ""),
        )
        painter.setFont(self.text_font)
        painter.setPen(QColor(PALETTE["text"]))
        spacing = self._metrics.lineSpacing()
        origin = QPoint(rect.left() + TEXT_LEFT, rect.top() + TEXT_TOP + self._metrics.ascent())
        for n, line in enumerate(self.shown_lines(index)):
            painter.drawText(origin + QPoint(0, n * spacing), line)
        painter.restore()


class ShoutoutView(QListView):
    """The board; keys reach it through the window (Up/Down, Space, T), never focus."""

    def __init__(self, model: ShoutoutModel, font_family: str) -> None:
        super().__init__()
        self.setObjectName("shoutouts")
        self.setModel(model)
        self._delegate = ShoutoutDelegate(font_family, self)
        self.setItemDelegate(self._delegate)
        self.setUniformItemSizes(False)  # rows are one or more lines tall
        self.setResizeMode(QListView.ResizeMode.Adjust)  # re-wrap when the width changes
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(PALETTE["panel"]))
        self.setPalette(palette)
        # Which row is shown whole depends on the selection and the board: lay out again.
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)
        model.dataChanged.connect(self._on_model_changed)
        model.rowsInserted.connect(self._on_model_changed)
        model.rowsRemoved.connect(self._on_model_changed)
        model.rowsMoved.connect(self._on_model_changed)

    @property
    def delegate(self) -> ShoutoutDelegate:
        return self._delegate

    def shoutout_model(self) -> ShoutoutModel:
        model = self.model()
        assert isinstance(model, ShoutoutModel)
        return model

    def selected_id(self) -> str | None:
        indexes = self.selectedIndexes()
        return str(indexes[0].data(ShoutoutModel.IdRole)) if indexes else None

    def target_id(self) -> str | None:
        """The shout-out Space and T act on: the selected one still waiting, else the first."""
        waiting = self.shoutout_model().waiting()
        selected = self.selected_id()
        if selected is not None and any(r.id == selected for r in waiting):
            return selected
        return waiting[0].id if waiting else None

    def is_expanded(self, index: Index) -> bool:
        """Whether ``index``'s row is shown whole (it is the one to act on)."""
        target = self.target_id()
        return target is not None and index.data(ShoutoutModel.IdRole) == target

    def step_selection(self, step: int) -> None:
        """Move the selection ``step`` rows among the waiting shout-outs (faded ones are not
        for acting on); with none selected, select the first."""
        model = self.shoutout_model()
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

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.scheduleDelayedItemsLayout()

    def _on_model_changed(self, *_args: object) -> None:
        self.scheduleDelayedItemsLayout()
