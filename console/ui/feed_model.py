"""The live feed of recent room events (互动流) as a Qt list model, newest first."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPixmap

from console.domain.events import Event
from console.domain.feed import FeedReader
from console.domain.segments import Segment
from console.ui.theme import segment_color

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class FeedRow:
    seq: int
    text: str
    segment: Segment | None


class FeedModel(QAbstractListModel):
    """Keeps the newest ``capacity`` feed-worthy events."""

    SeqRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, capacity: int = 200) -> None:
        super().__init__()
        self.capacity = capacity
        self._rows: list[FeedRow] = []
        self._reader = FeedReader()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return row.text
        if role == Qt.ItemDataRole.DecorationRole:
            return _swatch(row.segment)
        if role == self.SeqRole:
            return row.seq
        return None

    def add(self, events: Sequence[Event]) -> None:
        """Put the feed-worthy ones of ``events`` (in log order) on top."""
        lines = self._reader.lines(events)
        fresh = [FeedRow(e.seq, text, e.segment) for e, text in lines[-self.capacity :]]
        if not fresh:
            return
        fresh.reverse()
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._rows[:0] = fresh
        self.endInsertRows()
        if len(self._rows) > self.capacity:
            self.beginRemoveRows(QModelIndex(), self.capacity, len(self._rows) - 1)
            del self._rows[self.capacity :]
            self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._reader = FeedReader()
        self.endResetModel()


@functools.cache
def _swatch(segment: Segment | None) -> QPixmap:
    """The circle's colour square, made once (a QColor would be rendered on every paint)."""
    pixmap = QPixmap(10, 10)
    pixmap.fill(segment_color(segment))
    return pixmap
