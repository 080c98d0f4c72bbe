"""Qt table models for the operator's segmentation view: members, and who moved where."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from console.domain.segments import ALL_SEGMENTS, Segment, parse_segment
from console.domain.text import display_text
from console.ui.theme import PALETTE, segment_color

Index = QModelIndex | QPersistentModelIndex
CHINA = timezone(timedelta(hours=8))
NO_INDEX = QModelIndex()


def segment_text(value: object) -> str:
    segment = parse_segment(value)
    return f"{segment.value} {segment.label}" if segment else "—"


def override_text(override: dict[str, Any] | None) -> str:
    if not override:
        return ""
    text = f"→ {override['segment']} · {display_text(str(override.get('reason', '')), 40)}"
    expires = override.get("expires_at")
    if expires:
        text += f" (至 {last_moment_text(float(expires))})"
    return text


def last_moment_text(expires_at: float) -> str:
    """The last day an override is in force: one given as a day ends at the following
    midnight (China time), which is shown as that day itself, as the dialog chose it; one
    ending at another time shows the time too."""
    end = datetime.fromtimestamp(expires_at, CHINA)
    if (end.hour, end.minute, end.second, end.microsecond) == (0, 0, 0, 0):
        return f"{end - timedelta(days=1):%Y-%m-%d}"
    return f"{end:%Y-%m-%d %H:%M}"


def explanation_head(explanation: str) -> str:
    """The rule part of an explanation, for the list's narrow 依据 column: ``规则『最近购买且
    常买』命中`` (the circle has its own column; thresholds and values are in the tooltip)."""
    if not explanation:
        return "—"
    head = explanation.split(" · ", 1)[0]
    _circle, found, reason = head.partition("：")
    return display_text(reason if found else head, 24)


class MemberTableModel(QAbstractTableModel):
    """One page of members as the store lists them (masked names only)."""

    COLUMNS = ("会员", "会员号", "分层", "依据", "KOC", "手动调整", "城市", "个性化")

    def __init__(self) -> None:
        super().__init__()
        self._members: list[dict[str, Any]] = []

    def set_members(self, members: Sequence[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._members = list(members)
        self.endResetModel()

    def member_at(self, row: int) -> dict[str, Any] | None:
        return self._members[row] if 0 <= row < len(self._members) else None

    def rowCount(self, parent: Index = NO_INDEX) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._members)

    def columnCount(self, parent: Index = NO_INDEX) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section] if 0 <= section < len(self.COLUMNS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        member = self.member_at(index.row()) if index.isValid() else None
        if member is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(member, column)
        if role == Qt.ItemDataRole.DecorationRole and column == 2:
            return segment_color(parse_segment(member.get("segment")))
        if role == Qt.ItemDataRole.ToolTipRole:
            facts = member.get("facts") or {}
            if not facts:
                return "尚未参与分层计算"
            recency = facts.get("recency_days")
            last = "窗口内无购买" if recency is None else f"最近购买 {recency:.0f} 天前"
            return (
                f"{member.get('explanation', '')}\n{last} · 购买 {facts['frequency']} 次 · "
                f"净消费 ¥{facts['monetary']:,.0f} · 裂变 {facts['expansion']:g}"
            )
        return None

    @staticmethod
    def _text(member: dict[str, Any], column: int) -> str:
        match column:
            case 0:
                return display_text(str(member.get("nick") or "—"), 16)
            case 1:
                return str(member["id"])
            case 2:
                return segment_text(member.get("segment"))
            case 3:
                return explanation_head(str(member.get("explanation") or ""))
            case 4:
                return "★" if member.get("koc") else ""
            case 5:
                return override_text(member.get("override"))
            case 6:
                return display_text(str(member.get("city") or ""), 12)
            case 7:
                # Opted out of personalisation: keeps a circle for the counts, gets the
                # standard offer.
                return "已退出" if member.get("opted_out") else ""
        return ""


class TransitionModel(QAbstractTableModel):
    """Members by circle last run (rows, with new members first) and this run (columns)."""

    ROWS: tuple[str, ...] = ("", *(s.value for s in ALL_SEGMENTS))

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[tuple[str, str], int] = {}

    def set_transitions(self, transitions: Sequence[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._counts = {(t["from"], t["to"]): int(t["members"]) for t in transitions}
        self.endResetModel()

    def count(self, source: str, target: str) -> int:
        return self._counts.get((source, target), 0)

    def rowCount(self, parent: Index = NO_INDEX) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.ROWS)

    def columnCount(self, parent: Index = NO_INDEX) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(ALL_SEGMENTS) + 1

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return ALL_SEGMENTS[section].value if section < len(ALL_SEGMENTS) else "合计"
        if 0 <= section < len(self.ROWS):
            return "新会员" if not self.ROWS[section] else f"上次 {self.ROWS[section]}"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        source = self.ROWS[index.row()]
        if index.column() == len(ALL_SEGMENTS):
            value = sum(n for (f, _), n in self._counts.items() if f == source)
            target = None
        else:
            target = ALL_SEGMENTS[index.column()].value
            value = self.count(source, target)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{value:,}" if value else "·"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            stayed = target is not None and source == target
            return QColor(PALETTE["text_dim"] if stayed or not value else PALETTE["text"])
        if role == Qt.ItemDataRole.ToolTipRole and target is not None and value:
            origin = "新会员" if not source else Segment(source).label
            return f"{origin} → {Segment(target).label}: {value:,} 人"
        return None
