"""The operator's replay and review window (回放与复盘).

回放: a scrubber over the whole session showing the room exactly as it was at that moment (the
live reducer, from checkpoints), with charts over time and markers for presentations, 接龙
milestones and notices; a click on a chart or a marker jumps there. 复盘数据: the session's
stats per circle, the KOC leaderboard and new neighbours per 团长. 对比: the same metrics for
several sessions side by side. 导出报告 writes the report files (as ``main.py report``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import platformdirs
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain.events import Event
from console.domain.metrics import chain_conversion
from console.domain.replay import CHECKPOINT_EVERY, Replay
from console.domain.room import RoomState
from console.domain.segments import ALL_SEGMENTS
from console.domain.text import display_text
from console.domain.timeline import Marker, Sample
from console.sync.client import StoreClient
from console.ui.memory import freeze_long_lived_objects
from console.ui.report import METRICS, SESSION_WIDE, fmt, write_report
from console.ui.shoutout_model import ShoutoutModel
from console.ui.theme import PALETTE, SEGMENT_COLORS
from console.ui.widgets.chain_chart import ChainPanel
from console.ui.widgets.kpi import KpiTile
from console.ui.widgets.panel import panel
from console.ui.widgets.product_card import PresentingCard
from console.ui.widgets.segment_mix import SegmentMixChart
from console.ui.widgets.shoutout_view import ShoutoutView

TIMELINE_POINTS = 400


class ReplayController(QObject):
    """Loads a session (log, cards, stats) and answers "the room at seq N".

    Signals:
        progress(str, int, int): what is loading, done, of.
        loaded: the replay is ready.
        failed(str): loading failed; the reason.
        compared(list): stats of the sessions to compare, ``[(session, stats), ...]``.
    """

    progress = Signal(str, int, int)
    loaded = Signal()
    failed = Signal(str)
    compared = Signal(list)

    def __init__(self, client: StoreClient, session_id: str) -> None:
        super().__init__()
        self.client = client
        self.session_id = session_id
        self.session: dict[str, Any] = {}
        self.stats: dict[str, Any] = {}
        self.cards: list[dict[str, Any]] = []
        self.point_names: dict[str, str] = {}
        self.sessions: list[dict[str, Any]] = []
        self.events: list[Event] = []
        self.replay: Replay | None = None
        self.samples: list[Sample] = []
        self.markers: list[Marker] = []
        self.timings: dict[str, float] = {}

    async def load(self) -> None:
        started = time.perf_counter()
        try:
            sid = self.session_id
            self.session = await self.client.get_session(sid)
            # The store works out the stats (its own process) while the log comes over.
            stats = asyncio.ensure_future(self.client.stats(sid))
            self.events = await self.client.read_log(
                sid, lambda read, last: self.progress.emit("读取事件", read, last)
            )
            self.timings["fetch"] = time.perf_counter() - started
            self.progress.emit("建立回放", 0, len(self.events))
            folding = time.perf_counter()
            duration = self.events[-1].ts - self.events[0].ts if self.events else 0.0
            step = max(duration / TIMELINE_POINTS, 0.5)
            self.replay = await asyncio.to_thread(Replay, self.events, CHECKPOINT_EVERY, step)
            self.samples, self.markers = self.replay.samples, self.replay.markers
            self.timings["fold"] = time.perf_counter() - folding
            self.cards = await self.client.cards(sid)
            self.point_names = {p["id"]: p["name"] for p in await self.client.pickup_points()}
            self.sessions = await self.client.list_sessions()
            waited = time.perf_counter()
            self.stats = await stats
            self.timings["stats"] = time.perf_counter() - waited
        except Exception as exc:
            self.failed.emit(str(exc) or type(exc).__name__)
            return
        freeze_long_lived_objects()  # the log and the checkpoints stay for the window's life
        self.timings["load"] = time.perf_counter() - started
        self.loaded.emit()

    def state_at(self, seq: int) -> RoomState:
        return self.replay.state_at(seq) if self.replay is not None else RoomState()

    def first_ts(self) -> float:
        return self.events[0].ts if self.events else 0.0

    def ts_of(self, seq: int) -> float:
        if not self.events:
            return 0.0
        return self.events[max(0, min(seq, len(self.events)) - 1)].ts

    async def compare(self, session_ids: list[str]) -> None:
        rows = []
        for sid in session_ids:
            with contextlib.suppress(Exception):
                info = next((s for s in self.sessions if s["id"] == sid), {"id": sid})
                rows.append((info, await self.client.stats(sid)))
        self.compared.emit(rows)


def _plot(title: str, font_family: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    item = plot.getPlotItem()
    item.showGrid(x=False, y=True, alpha=0.15)
    axis = item.getAxis("bottom")
    axis.enableAutoSIPrefix(False)
    item.setLabel("bottom", "开播后分钟")
    return plot


class ReplayWindow(QMainWindow):
    """Signals:
    closed: the window was closed.
    """

    closed = Signal()

    def __init__(self, controller: ReplayController, font_family: str) -> None:
        super().__init__()
        self.controller = controller
        self.font_family = font_family
        self.setWindowTitle("直播复盘")
        self.seq = 0
        self.last_render_ms = 0.0
        self._comparing: asyncio.Future[None] | None = None
        self.loading: asyncio.Future[None] | None = None  # set by whoever starts the load
        self.title_label = QLabel("正在载入…")
        self.title_label.setObjectName("sessionTitle")
        self.moment_label = QLabel("")
        self.moment_label.setObjectName("elapsed")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(360)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrubber")
        self.slider.setEnabled(False)
        self.export_button = QPushButton("导出报告")
        self.export_button.setObjectName("command")
        self.export_button.setEnabled(False)
        self.export_label = QLabel("")
        self.export_label.setObjectName("outbox")

        self.online = KpiTile("在线观众", primary=True)
        self.orders = KpiTile("订单")
        self.gmv = KpiTile("GMV (元)")
        self.conversion = KpiTile("接龙转化率")
        self.watched = KpiTile("累计观看")
        self.mix = SegmentMixChart(font_family)
        self.card = PresentingCard()
        self.shoutout_model = ShoutoutModel()
        self.shoutouts = ShoutoutView(self.shoutout_model, font_family)
        self.chains = ChainPanel(font_family)
        self.viewers_plot = _plot("在线观众 · 分层", font_family)
        self.money_plot = _plot("订单 (橙) · 接龙人数 (绿)", font_family)
        self.cursors = [
            pg.InfiniteLine(0, angle=90, movable=True, pen=pg.mkPen(PALETTE["accent"], width=2))
            for _ in range(2)
        ]
        self.marker_list = QListWidget()
        self.marker_list.setObjectName("feed")
        self.stats_table = QTableWidget()
        self.koc_table = QTableWidget()
        self.points_table = QTableWidget()
        self.session_list = QListWidget()
        self.compare_table = QTableWidget()
        self.compare_button = QPushButton("对比所选场次")
        self.compare_button.setObjectName("command")
        self._build_layout()
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)
        self._connect_signals()
        self.resize(1920, 1080)

    # -- building ----------------------------------------------------------------------

    def _build_layout(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addSpacing(20)
        header.addWidget(self.moment_label, 1)
        header.addWidget(self.progress)
        header.addWidget(self.export_label)
        header.addWidget(self.export_button)

        tabs = QTabWidget()
        tabs.setObjectName("replayTabs")
        tabs.addTab(self._replay_tab(), "回放")
        tabs.addTab(self._stats_tab(), "复盘数据")
        tabs.addTab(self._compare_tab(), "对比")
        self.tabs = tabs

        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(16, 10, 16, 14)
        layout.addLayout(header)
        layout.addWidget(tabs, 1)
        self.setCentralWidget(root)

    def _replay_tab(self) -> QWidget:
        kpis = QWidget()
        grid = QGridLayout(kpis)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.online, 0, 0, 1, 2)
        for n, tile in enumerate((self.orders, self.gmv, self.conversion, self.watched)):
            grid.addWidget(tile, 1 + n // 2, n % 2)
        left = QVBoxLayout()
        left.addWidget(panel("那一刻的直播间", kpis), 4)
        left.addWidget(panel("分层构成 · 在线", self.mix), 5)
        centre = QVBoxLayout()
        centre.addWidget(panel("讲解中", self.card), 5)
        centre.addWidget(panel("接龙进度", self.chains), 4)
        right = QVBoxLayout()
        right.addWidget(panel("口播提醒", self.shoutouts), 3)
        right.addWidget(panel("时间点 (点击跳转)", self.marker_list), 2)
        room = QHBoxLayout()
        room.addLayout(left, 5)
        room.addLayout(centre, 8)
        room.addLayout(right, 6)
        charts = QHBoxLayout()
        charts.addWidget(self.viewers_plot, 1)
        charts.addWidget(self.money_plot, 1)
        for plot in (self.viewers_plot, self.money_plot):
            plot.setMinimumHeight(260)
        for view in (self.shoutouts, self.marker_list):
            view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.slider)
        layout.addLayout(room, 5)
        layout.addLayout(charts, 3)
        return tab

    def _stats_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(panel("分层漏斗与成交", self.stats_table), 3)
        lower = QHBoxLayout()
        lower.addWidget(panel("KOC 排行", self.koc_table), 1)
        lower.addWidget(panel("团长新邻居", self.points_table), 1)
        layout.addLayout(lower, 2)
        return tab

    def _compare_tab(self) -> QWidget:
        tab = QWidget()
        layout = QHBoxLayout(tab)
        picker = QVBoxLayout()
        picker.addWidget(self.session_list, 1)
        picker.addWidget(self.compare_button)
        layout.addLayout(picker, 1)
        layout.addWidget(panel("各场次指标", self.compare_table), 3)
        return tab

    def _connect_signals(self) -> None:
        self.controller.progress.connect(self._on_controller_progress)
        self.controller.loaded.connect(self._on_controller_loaded)
        self.controller.failed.connect(self._on_controller_failed)
        self.controller.compared.connect(self._on_controller_compared)
        self.slider.valueChanged.connect(self._on_slider_moved)
        self._render_timer.timeout.connect(self._render)
        for cursor in self.cursors:
            cursor.sigPositionChangeFinished.connect(self._on_cursor_dragged)
        for plot in (self.viewers_plot, self.money_plot):
            plot.scene().sigMouseClicked.connect(
                lambda event, p=plot: self._on_chart_clicked(p, event)
            )
        self.marker_list.itemActivated.connect(self._on_marker_chosen)
        self.marker_list.itemClicked.connect(self._on_marker_chosen)
        self.export_button.clicked.connect(self.export_report)
        self.compare_button.clicked.connect(self._on_compare_clicked)

    # -- scrubbing ---------------------------------------------------------------------

    def show_seq(self, seq: int) -> None:
        """Jump to the moment right after event ``seq``."""
        self.slider.setValue(seq)
        self._render()

    def show_minute(self, minute: float) -> None:
        ts = self.controller.first_ts() + minute * 60
        replay = self.controller.replay
        if replay is not None:
            self.show_seq(replay.seq_at_time(ts))

    def _on_slider_moved(self, value: int) -> None:
        self.seq = value
        self._render_timer.start()  # one render per event-loop pass, however fast it moves

    def _render(self) -> None:
        started = time.perf_counter()
        seq = self.slider.value()
        self.seq = seq
        state = self.controller.state_at(seq)
        ts = self.controller.ts_of(seq)
        minute = (ts - self.controller.first_ts()) / 60 if seq else 0.0
        self.moment_label.setText(
            f"开播后 {int(minute):02d}:{int(minute * 60) % 60:02d} · 事件 #{seq:,} / "
            f"{self.controller.replay.last_seq if self.controller.replay else 0:,}"
        )
        self.online.set_value(state.online)
        self.orders.set_value(state.orders)
        self.gmv.set_value(round(state.gmv / 100))
        rate = chain_conversion(state)
        self.conversion.set_text("—" if rate is None else f"{rate:.0%}")
        self.watched.set_value(len(state.watched_members))
        self.mix.set_counts(state.online_by_segment)
        card = next((c for c in self.controller.cards if c["product_id"] == state.presenting), None)
        stock = state.stock_left.get(card["product_id"]) if card else None
        self.card.show_card(card, stock, [])
        cards = {c["product_id"]: str(c["name"]) for c in self.controller.cards}
        self.chains.show_chains(
            state.chains,
            lambda pid: cards.get(pid) or state.product_names.get(pid, pid),
            ts,
            self.controller.point_names,
        )
        self.shoutout_model.sync(state.shoutouts, fade=False)
        for cursor in self.cursors:
            cursor.blockSignals(True)
            cursor.setValue(minute)
            cursor.blockSignals(False)
        self.last_render_ms = (time.perf_counter() - started) * 1000

    def _on_cursor_dragged(self, line: pg.InfiniteLine) -> None:
        self.show_minute(float(line.value()))

    def _on_chart_clicked(self, plot: pg.PlotWidget, event: Any) -> None:
        point = plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        self.show_minute(max(0.0, float(point.x())))

    def _on_marker_chosen(self, item: QListWidgetItem) -> None:
        self.show_seq(int(item.data(Qt.ItemDataRole.UserRole)))

    # -- loading -----------------------------------------------------------------------

    def _on_controller_progress(self, what: str, done: int, total: int) -> None:
        self.progress.setFormat(f"{what} %v / %m")
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _on_controller_failed(self, reason: str) -> None:
        self.title_label.setText("载入失败")
        self.moment_label.setText(display_text(reason, 80))

    def _on_controller_loaded(self) -> None:
        controller = self.controller
        title = display_text(str(controller.session.get("title", "")), 40)
        self.title_label.setText(f"复盘 · {title}")
        self.setWindowTitle(f"直播复盘 · {title}")
        self.progress.setVisible(False)
        last = controller.replay.last_seq if controller.replay else 0
        self.slider.setRange(0, last)
        self.slider.setEnabled(True)
        self.export_button.setEnabled(True)
        self._draw_timeline()
        self._fill_stats()
        self._fill_sessions()
        self.show_seq(last)

    def _draw_timeline(self) -> None:
        """The whole session's curves, drawn once: they are cached as pixmaps, so moving the
        cursor repaints a line, not every curve."""
        samples = self.controller.samples
        minutes = [s.minute for s in samples]
        viewers = self.viewers_plot
        for segment in ALL_SEGMENTS:
            viewers.plot(
                minutes,
                [s.online_by_segment[segment] for s in samples],
                pen=pg.mkPen(SEGMENT_COLORS[segment], width=1),
                antialias=False,
            )
        viewers.plot(minutes, [s.online for s in samples], pen=pg.mkPen(PALETTE["accent"], width=2))
        money = self.money_plot
        money.plot(minutes, [s.orders for s in samples], pen=pg.mkPen(PALETTE["accent"], width=2))
        money.plot(
            minutes, [s.chain_entries for s in samples], pen=pg.mkPen(PALETTE["ok"], width=2)
        )
        for plot, cursor in zip((viewers, money), self.cursors, strict=True):
            for marker in self.controller.markers:
                plot.addItem(
                    pg.InfiniteLine(
                        marker.minute,
                        angle=90,
                        pen=pg.mkPen("#5b6470", style=Qt.PenStyle.DashLine),
                    )
                )
            for item in plot.getPlotItem().items:
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.addItem(cursor)
        self.marker_list.clear()
        for marker in self.controller.markers:
            item = QListWidgetItem(
                f"{int(marker.minute):02d}:{int(marker.minute * 60) % 60:02d}  "
                f"{display_text(marker.label, 40)}"
            )
            item.setData(Qt.ItemDataRole.UserRole, marker.seq)
            self.marker_list.addItem(item)

    def _fill_stats(self) -> None:
        stats = self.controller.stats
        if not stats:
            return
        columns = [("合计", stats["total"])] + [
            (f"{s.value} {s.label}", stats["by_segment"][s.value]) for s in ALL_SEGMENTS
        ]
        _fill(
            self.stats_table,
            ["分层", *(label for _, label, _ in METRICS)],
            [[name, *(fmt(f[k], kind) for k, _, kind in METRICS)] for name, f in columns],
        )
        _fill(
            self.koc_table,
            ["KOC", "订单", "GMV (元)", "带来新客"],
            [
                [r["nick"] or r["member_id"], r["orders"], f"{r['gmv']:,.2f}", r["new_customers"]]
                for r in stats["koc_leaderboard"]
            ],
        )
        _fill(
            self.points_table,
            ["自提点", "团长", "新邻居"],
            [
                [
                    self.controller.point_names.get(r["pickup_point"], r["pickup_point"]),
                    r["leader"],
                    r["new_neighbours"],
                ]
                for r in stats["new_neighbours"]
            ],
        )

    def _fill_sessions(self) -> None:
        self.session_list.clear()
        for session in self.controller.sessions:
            item = QListWidgetItem(display_text(str(session.get("title", "")), 40))
            item.setData(Qt.ItemDataRole.UserRole, session["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            current = session["id"] == self.controller.session_id
            item.setCheckState(Qt.CheckState.Checked if current else Qt.CheckState.Unchecked)
            self.session_list.addItem(item)

    def checked_sessions(self) -> list[str]:
        return [
            str(self.session_list.item(n).data(Qt.ItemDataRole.UserRole))
            for n in range(self.session_list.count())
            if self.session_list.item(n).checkState() == Qt.CheckState.Checked
        ]

    def _on_compare_clicked(self) -> None:
        self._comparing = asyncio.ensure_future(self.controller.compare(self.checked_sessions()))

    def _on_controller_compared(self, rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        metrics = [*METRICS, *SESSION_WIDE]
        _fill(
            self.compare_table,
            ["指标", *(display_text(str(info.get("title", info["id"])), 20) for info, _ in rows)],
            [
                [label, *(fmt(stats["total"].get(key), kind) for _, stats in rows)]
                for key, label, kind in metrics
            ],
        )

    def export_report(self, out: Path | None = None) -> list[Path]:
        """Write the report files for this session (default: the user's documents)."""
        controller = self.controller
        folder = out or Path(platformdirs.user_documents_dir()) / "直播复盘" / controller.session_id
        written = write_report(folder, controller.session, controller.stats, controller.events)
        self.export_label.setText(f"已导出到 {folder}")
        return written

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self._render_timer.stop()
        self.closed.emit()
        super().closeEvent(event)


def _fill(table: QTableWidget, headers: list[str], rows: list[list[Any]]) -> None:
    table.clear()
    table.setColumnCount(len(headers))
    table.setRowCount(len(rows))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(str(value))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
