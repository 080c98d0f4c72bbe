"""The operator's segmentation window (分层运营): sizes, movements, members, overrides."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.domain.repurchase import LTV_DEFINITION, ltv_text
from console.domain.segments import ALL_SEGMENTS, Segment
from console.domain.text import display_text
from console.ui.crash import report_failure
from console.ui.override_dialog import OverrideDialog
from console.ui.segment_models import CHINA, MemberTableModel, TransitionModel, segment_text
from console.ui.segments_controller import PAGE_SIZE, SegmentsController
from console.ui.theme import SEGMENT_COLORS

SEARCH_DELAY_MS = 300
DATE_FORMAT = "yyyy-MM-dd"
MAX_WINDOW_DAYS = 36_500  # as the store's bound (console.domain.segment_run)


def _today_in_china() -> QDate:
    today = datetime.now(CHINA).date()
    return QDate(today.year, today.month, today.day)


def _run_fields() -> tuple[QDateEdit, QSpinBox]:
    """The day to score as of and the window: an old export needs its own newest day."""
    as_of = QDateEdit(_today_in_china())
    as_of.setDisplayFormat(DATE_FORMAT)
    as_of.setCalendarPopup(True)
    as_of.setToolTip("按这一天计算 (最近购买天数从这一天算起)")
    window_days = QSpinBox()
    window_days.setRange(1, MAX_WINDOW_DAYS)
    window_days.setValue(365)
    window_days.setSuffix(" 天")
    window_days.setToolTip("只看截至日期之前这么多天内的订单和分享")
    return as_of, window_days


class SegmentCard(QFrame):
    """One circle's size, share and change since the previous run."""

    def __init__(self, segment: Segment) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.segment = segment
        title = QLabel(f"{segment.value} {segment.label}")
        title.setObjectName("panelTitle")
        title.setStyleSheet(f"color: {SEGMENT_COLORS[segment]};")
        self.count = QLabel("—")
        self.count.setObjectName("kpiValue")
        self.detail = QLabel("")
        self.detail.setObjectName("kpiLabel")
        self.ltv = QLabel("LTV …")
        self.ltv.setObjectName("kpiLabel")
        self.ltv.setToolTip(LTV_DEFINITION)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(title)
        layout.addWidget(self.count)
        layout.addWidget(self.detail)
        layout.addWidget(self.ltv)

    def show_counts(self, count: int, total: int, previous: int | None) -> None:
        self.count.setText(f"{count:,}")
        share = f"{count / total:.1%}" if total else "—"
        change = "" if previous is None else f" · 较上次 {count - previous:+,}"
        self.detail.setText(share + change)

    def show_ltv(self, figures: dict[str, Any]) -> None:
        self.ltv.setText(ltv_text(figures))


class SegmentsWindow(QMainWindow):
    """Signals:
    closed: the window was closed.
    """

    closed = Signal()

    def __init__(self, controller: SegmentsController) -> None:
        super().__init__()
        self.controller = controller
        self.setWindowTitle("直播中控台 · 分层运营")
        self.members = MemberTableModel()
        self.transitions = TransitionModel()
        self._tasks: set[asyncio.Task[Any]] = set()

        self.run_label = QLabel("正在读取分层…")
        self.run_label.setObjectName("elapsed")
        self.as_of, self.window_days = _run_fields()
        self._window_from_rules = True
        self.run_button = QPushButton("立即重新计算")
        self.status = QLabel("")
        self.status.setObjectName("kpiLabel")
        self.cards = {segment: SegmentCard(segment) for segment in ALL_SEGMENTS}

        self.transition_view = QTableView()
        self.transition_view.setModel(self.transitions)
        self.transition_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.transition_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)

        self.search = QLineEdit()
        self.search.setPlaceholderText("搜索 会员号 / 姓名 / 标签 / 城市  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.segment_filter = QComboBox()
        self.segment_filter.addItem("全部分层", "")
        for segment in ALL_SEGMENTS:
            self.segment_filter.addItem(segment_text(segment.value), segment.value)
        self.member_view = QTableView()
        self.member_view.setModel(self.members)
        self.member_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.member_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.member_view.setWordWrap(False)
        self.member_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.member_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.member_view.verticalHeader().setVisible(False)
        self.override_button = QPushButton("手动调整… (Ctrl+E)")
        self.revoke_button = QPushButton("撤销调整")
        self.page_label = QLabel("")
        self.previous_page = QPushButton("上一页")
        self.next_page = QPushButton("下一页")

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._build_layout()
        self._connect_signals()
        self._on_member_selection_changed()
        self.resize(1440, 860)

    def _build_layout(self) -> None:
        header = QHBoxLayout()
        title = QLabel("分层运营")
        title.setObjectName("sessionTitle")
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.run_label)
        header.addSpacing(12)
        for widget in (QLabel("截至"), self.as_of, QLabel("窗口"), self.window_days):
            header.addWidget(widget)
        header.addWidget(self.run_button)

        cards = QGridLayout()
        for column, card in enumerate(self.cards.values()):
            cards.addWidget(card, 0, column)

        matrix = QFrame()
        matrix.setObjectName("panel")
        matrix_layout = QVBoxLayout(matrix)
        caption = QLabel("分层迁移 · 较上次计算 (行: 上次所在分层, 列: 本次)")
        caption.setObjectName("panelTitle")
        matrix_layout.addWidget(caption)
        matrix_layout.addWidget(self.transition_view)

        members = QFrame()
        members.setObjectName("panel")
        member_layout = QVBoxLayout(members)
        caption = QLabel("会员名单 (姓名已脱敏)")
        caption.setObjectName("panelTitle")
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.segment_filter)
        actions = QHBoxLayout()
        actions.addWidget(self.override_button)
        actions.addWidget(self.revoke_button)
        actions.addStretch(1)
        actions.addWidget(self.page_label)
        actions.addWidget(self.previous_page)
        actions.addWidget(self.next_page)
        member_layout.addWidget(caption)
        member_layout.addLayout(filters)
        member_layout.addWidget(self.member_view, 1)
        member_layout.addLayout(actions)

        body = QHBoxLayout()
        body.addWidget(matrix, 2)
        body.addWidget(members, 3)

        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.addLayout(header)
        layout.addLayout(cards)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        self.setCentralWidget(root)

    def _connect_signals(self) -> None:
        self.controller.overview_changed.connect(self._on_controller_overview_changed)
        self.controller.ltv_changed.connect(self._on_controller_ltv_changed)
        self.controller.members_changed.connect(self._on_controller_members_changed)
        self.controller.failed.connect(self._on_controller_failed)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self.segment_filter.currentIndexChanged.connect(self._on_segment_filter_changed)
        self.member_view.selectionModel().selectionChanged.connect(
            self._on_member_selection_changed
        )
        self.members.modelReset.connect(self._on_member_selection_changed)
        self.override_button.clicked.connect(self._on_override_clicked)
        self.revoke_button.clicked.connect(self._on_revoke_clicked)
        self.run_button.clicked.connect(self._on_run_clicked)
        self.window_days.valueChanged.connect(self._on_window_days_changed)
        self.previous_page.clicked.connect(
            lambda: self._spawn(
                self.controller.load_members(offset=self.controller.offset - PAGE_SIZE)
            )
        )
        self.next_page.clicked.connect(
            lambda: self._spawn(
                self.controller.load_members(offset=self.controller.offset + PAGE_SIZE)
            )
        )
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)
        QShortcut(QKeySequence("Ctrl+E"), self, self._on_override_clicked)

    def _spawn(self, coro: Any) -> None:
        """Run a controller call without blocking the UI; keep a reference until it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(report_failure)

    def selected_member(self) -> dict[str, Any] | None:
        rows = self.member_view.selectionModel().selectedRows()
        return self.members.member_at(rows[0].row()) if rows else None

    # -- slots -------------------------------------------------------------------------

    def _on_controller_overview_changed(self, overview: dict[str, Any]) -> None:
        self.status.setText("")
        if self._window_from_rules and overview.get("window_days"):
            self.window_days.blockSignals(True)
            self.window_days.setValue(int(overview["window_days"]))
            self.window_days.blockSignals(False)
        latest = overview.get("latest")
        if not latest:
            self.run_label.setText(f"尚未计算分层 · 规则 {overview.get('rules_version', '')}")
            return
        finished = datetime.fromtimestamp(latest["finished_at"], CHINA)
        due = " · 本周应重新计算" if overview.get("due") else ""
        self.run_label.setText(
            f"最近计算 {finished:%Y-%m-%d %H:%M} (截至 {latest['as_of']}, "
            f"{latest['window_days']} 天) · "
            f"规则 {latest['rules_version']}{due}"
        )
        runs = overview.get("runs", [])
        previous = runs[1]["counts"] if len(runs) > 1 else None
        for segment, card in self.cards.items():
            card.show_counts(
                latest["counts"].get(segment.value, 0),
                latest["members"],
                None if previous is None else previous.get(segment.value, 0),
            )
        self.transitions.set_transitions(latest.get("transitions", []))

    def _on_controller_ltv_changed(self, ltv: dict[str, Any]) -> None:
        for segment, card in self.cards.items():
            card.show_ltv(ltv["by_segment"][segment.value])

    def _on_controller_members_changed(self, page: dict[str, Any]) -> None:
        self.members.set_members(page["members"])
        total, offset = page["total"], page["offset"]
        shown = len(page["members"])
        self.page_label.setText(
            f"第 {offset + 1:,}-{offset + shown:,} 位 · 共 {total:,} 位"
            if shown
            else "没有符合的会员"
        )
        self.previous_page.setEnabled(offset > 0)
        self.next_page.setEnabled(offset + shown < total)

    def _on_controller_failed(self, message: str) -> None:
        self.status.setText(display_text(message, 160))

    def _on_search_timer_timeout(self) -> None:
        self._spawn(self.controller.load_members(query=self.search.text().strip(), offset=0))

    def _on_segment_filter_changed(self, _index: int) -> None:
        segment = str(self.segment_filter.currentData() or "")
        self._spawn(self.controller.load_members(segment=segment, offset=0))

    def _on_member_selection_changed(self, *_args: object) -> None:
        member = self.selected_member()
        self.override_button.setEnabled(member is not None)
        self.revoke_button.setEnabled(bool(member and member.get("override")))

    def _on_override_clicked(self) -> None:
        member = self.selected_member()
        if member is None:
            return
        dialog = OverrideDialog(member, self)
        dialog.override_chosen.connect(
            lambda member_id, segment, reason, expiry: self._spawn(
                self.controller.set_override(member_id, segment, reason, expiry)
            )
        )
        dialog.open()  # not exec(): the asyncio loop keeps running

    def _on_revoke_clicked(self) -> None:
        member = self.selected_member()
        if member is not None and member.get("override"):
            self._spawn(self.controller.revoke_override(str(member["id"])))

    def _on_window_days_changed(self, _value: int) -> None:
        self._window_from_rules = False  # the operator's choice stays

    def _on_run_clicked(self) -> None:
        self.status.setText("正在重新计算分层…")
        self._spawn(
            self.controller.run_now(
                as_of=self.as_of.date().toString(DATE_FORMAT),
                window_days=self.window_days.value(),
            )
        )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        for task in self._tasks:
            task.cancel()
        self.closed.emit()
        super().closeEvent(event)
