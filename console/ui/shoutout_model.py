"""The shout-out board (口播提醒) as a Qt list model: what the host should call out, in order.

Rows come from ``RoomState.shoutouts`` (pinned first, then by priority, oldest first). A
shout-out that leaves the board (acknowledged) stays a moment, drawn faded, so the host
sees it go rather than the list jumping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from console.domain.shoutouts import Shoutout, ShoutoutBoard, ShoutoutKind

Index = QModelIndex | QPersistentModelIndex
FADE_S = 1.5

KIND_LABELS: dict[ShoutoutKind, str] = {
    ShoutoutKind.CHAIN_FORMED: "成团",
    ShoutoutKind.CHAIN_FAILED: "未成团",
    ShoutoutKind.CHAIN_PROGRESS: "接龙",
    ShoutoutKind.VIP_QUESTION: "VIP提问",
    ShoutoutKind.VIP_ORDER: "VIP下单",
    ShoutoutKind.REFERRAL_WIN: "分享战报",
    ShoutoutKind.COMEBACK: "老友回归",
    ShoutoutKind.VIP_ARRIVAL: "VIP进场",
    ShoutoutKind.QUESTION: "提问",
    ShoutoutKind.PLATFORM_OVERSOLD: "平台超卖",
    ShoutoutKind.DRAW_WINNER: "抽奖",
    ShoutoutKind.ONLINE_DROP: "人气下滑",
    ShoutoutKind.CIRCLE_DROP: "圈层流失",
    ShoutoutKind.CHAIN_PACE: "接龙偏慢",
    ShoutoutKind.ENTRIES_DROP: "进房变少",
    ShoutoutKind.CONVERSION_LOW: "转化偏低",
}


@dataclass(frozen=True)
class BoardRow:
    id: str
    kind: ShoutoutKind
    text: str
    priority: int
    pinned: bool
    fading_since: float | None = None  # set once it left the board

    @classmethod
    def of(cls, shoutout: Shoutout) -> BoardRow:
        return cls(shoutout.id, shoutout.kind, shoutout.text, shoutout.priority, shoutout.pinned)


class ShoutoutModel(QAbstractListModel):
    IdRole = Qt.ItemDataRole.UserRole + 1
    KindRole = Qt.ItemDataRole.UserRole + 2
    PriorityRole = Qt.ItemDataRole.UserRole + 3
    PinnedRole = Qt.ItemDataRole.UserRole + 4
    FadingRole = Qt.ItemDataRole.UserRole + 5

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[BoardRow] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{KIND_LABELS.get(row.kind, '口播')} · 优先级 {row.priority}\n{row.text}"
        return {
            self.IdRole: row.id,
            self.KindRole: row.kind,
            self.PriorityRole: row.priority,
            self.PinnedRole: row.pinned,
            self.FadingRole: row.fading_since is not None,
        }.get(role)

    def rows(self) -> list[BoardRow]:
        return list(self._rows)

    def waiting(self) -> list[BoardRow]:
        return [r for r in self._rows if r.fading_since is None]

    def sync(self, board: ShoutoutBoard, now: float | None = None, fade: bool = True) -> bool:
        """Match the board; rows that left it fade for ``FADE_S`` (unless ``fade`` is off, as
        when scrubbing a replay). True if anything changed.

        Rows are removed, inserted, moved and changed by id, never reset, so the view keeps
        its selection and scroll position (the shout-out the assistant chose stays chosen).
        """
        now = time.monotonic() if now is None else now
        fresh = [BoardRow.of(s) for s in board.ordered()]
        ids = {r.id for r in fresh}
        fading = [
            r if r.fading_since is not None else _fade(r, now)
            for r in self._rows
            if fade
            and r.id not in ids
            and (r.fading_since is None or now - r.fading_since < FADE_S)
        ]
        rows = fresh + fading
        if rows == self._rows:
            return False
        self._remove_missing({r.id for r in rows})
        self._place(rows)
        self._refresh(rows)
        return True

    def _remove_missing(self, keep: set[str]) -> None:
        """Remove the rows whose id is not in ``keep``, one contiguous run at a time."""
        row = len(self._rows) - 1
        while row >= 0:
            if self._rows[row].id in keep:
                row -= 1
                continue
            last = row
            while row > 0 and self._rows[row - 1].id not in keep:
                row -= 1
            self.beginRemoveRows(QModelIndex(), row, last)
            del self._rows[row : last + 1]
            self.endRemoveRows()
            row -= 1

    def _place(self, target: list[BoardRow]) -> None:
        """Insert and move rows until the ids are those of ``target``, in its order.

        Every id shown is in ``target`` (``_remove_missing`` ran), so position by position
        the wanted row is either already there, further down (moved up), or new (inserted).
        """
        for position, wanted in enumerate(target):
            if position < len(self._rows) and self._rows[position].id == wanted.id:
                continue
            found = next(
                (n for n in range(position + 1, len(self._rows)) if self._rows[n].id == wanted.id),
                None,
            )
            if found is None:
                self.beginInsertRows(QModelIndex(), position, position)
                self._rows.insert(position, wanted)
                self.endInsertRows()
            else:
                self.beginMoveRows(QModelIndex(), found, found, QModelIndex(), position)
                self._rows.insert(position, self._rows.pop(found))
                self.endMoveRows()

    def _refresh(self, target: list[BoardRow]) -> None:
        """Same ids in the same order: replace the rows whose content changed."""
        for position, wanted in enumerate(target):
            if self._rows[position] != wanted:
                self._rows[position] = wanted
                index = self.index(position)
                self.dataChanged.emit(index, index)

    def row_of(self, shoutout_id: str) -> int | None:
        """The row showing ``shoutout_id``, if any."""
        return next((n for n, r in enumerate(self._rows) if r.id == shoutout_id), None)


def _fade(row: BoardRow, now: float) -> BoardRow:
    return replace(row, fading_since=now)
