"""The operator's replay and review window (回放与复盘).

回放: a scrubber over the whole session showing the room exactly as it was at that moment (the
live reducer, from checkpoints), with charts over time and markers for presentations, 接龙
milestones and notices; a click on a chart or a marker jumps there. 复盘数据: the session's
stats per circle, the KOC leaderboard and new neighbours per 团长. 对比: the same metrics for
several sessions side by side. 导出报告 writes the report files (as ``main.py report``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import httpx
import platformdirs
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
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
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.domain.repurchase import (
    LTV_DEFINITION,
    LTV_HEADERS,
    REPURCHASE_DEFINITION,
    REPURCHASE_HEADERS,
    ltv_rows,
    repurchase_caption,
    repurchase_rows,
)
from console.domain.room import RoomState
from console.domain.segments import ALL_SEGMENTS
from console.domain.text import display_text
from console.domain.timeline import Marker, Sample, Timeline
from console.sync.client import StoreClient, StoreError
from console.ui.compact import MINIMUM, apply_compact, wants_compact
from console.ui.crash import report_failure
from console.ui.report import METRICS, SESSION_WIDE, figure_text, rate_parts_text, write_report
from console.ui.shoutout_model import ShoutoutModel
from console.ui.theme import PALETTE, SEGMENT_COLORS
from console.ui.widgets.chain_chart import ChainPanel
from console.ui.widgets.elided_label import ElidedLabel
from console.ui.widgets.figure_label import FigureLabel
from console.ui.widgets.kpi import RoomFigures
from console.ui.widgets.panel import panel
from console.ui.widgets.product_card import PresentingCard, card_focus
from console.ui.widgets.scrubber import Scrubber
from console.ui.widgets.segment_mix import MIX_HEIGHT, SegmentMixChart
from console.ui.widgets.shoutout_view import ShoutoutView

MOMENTS_KEPT = 32
TIMELINE_HEIGHT = {False: 230, True: 120}  # the whole show's curves, under the room
CHAIN_HEIGHT = {False: 200, True: 130}  # a 接龙 chart tall enough to read its steps
log = logging.getLogger(__name__)


class ReplayController(QObject):
    """Loads a session (timeline, cards, stats) and asks the store for "the room at seq N".

    The store keeps the session's fold as its log grows (its replay index), so loading reads
    a few hundred timeline samples and the stats, never the log; a moment is the store's
    nearest checkpoint plus the events after it, folded by the same reducer as live.

    Signals:
        loaded: the replay is ready.
        failed(str): loading failed; the reason.
        compared(list): stats of the sessions to compare, ``[(session, stats), ...]``.
    """

    loaded = Signal()
    failed = Signal(str)
    compared = Signal(list)

    def __init__(self, client: StoreClient, session_id: str) -> None:
        super().__init__()
        self.client = client
        self.session_id = session_id
        self.session: dict[str, Any] = {}
        self.stats: dict[str, Any] = {}
        self.ltv: dict[str, Any] = {}  # LTV by circle (GET /ltv): {} without an operator's token
        self.cards: list[dict[str, Any]] = []
        self.point_names: dict[str, str] = {}
        self.sessions: list[dict[str, Any]] = []
        self.timeline: Timeline | None = None
        self.samples: list[Sample] = []
        self.markers: list[Marker] = []
        self.timings: dict[str, float] = {}
        self._moments: OrderedDict[int, tuple[RoomState, float | None]] = OrderedDict()

    async def load(self) -> None:
        started = time.perf_counter()
        client, sid = self.client, self.session_id
        try:
            session, timeline, stats, cards, points, sessions = await asyncio.gather(
                client.get_session(sid),
                client.replay(sid),
                client.stats(sid),
                client.cards(sid),
                client.pickup_points(),
                client.list_sessions(),
            )
        except (StoreError, httpx.HTTPError) as exc:
            log.warning("replay of session %s: loading failed: %r", sid, exc)
            self.failed.emit(str(exc) or type(exc).__name__)
            return
        self.session, self.timeline, self.stats, self.cards = session, timeline, stats, cards
        try:
            self.ltv = await client.ltv()
        except (StoreError, httpx.HTTPError) as exc:  # a host's token may not read it (403)
            log.info("replay of session %s: no LTV by circle: %r", sid, exc)
            self.ltv = {}
        self.samples, self.markers = timeline.samples, timeline.markers
        self.point_names = {p["id"]: p["name"] for p in points}
        self.sessions = sessions
        self.timings["load"] = time.perf_counter() - started
        self.loaded.emit()

    @property
    def last_seq(self) -> int:
        return self.timeline.last_seq if self.timeline is not None else 0

    def first_ts(self) -> float:
        first = self.timeline.first_ts if self.timeline is not None else None
        return first or 0.0

    async def moment(
        self, seq: int | None = None, at: float | None = None
    ) -> tuple[RoomState, float | None]:
        """The room after event ``seq`` (or at epoch time ``at``) and that event's time;
        the last few moments are kept, so going back and forth asks the store once."""
        if seq is not None and seq in self._moments:
            self._moments.move_to_end(seq)
            return self._moments[seq]
        state, ts = await self.client.moment(self.session_id, seq=seq, at=at)
        self._moments[state.seq] = (state, ts)
        while len(self._moments) > MOMENTS_KEPT:
            self._moments.popitem(last=False)
        return state, ts

    async def compare(self, session_ids: list[str]) -> None:
        rows = []
        for sid in session_ids:
            info = next((s for s in self.sessions if s["id"] == sid), {"id": sid})
            try:
                rows.append((info, await self.client.stats(sid)))
            except (StoreError, httpx.HTTPError) as exc:
                log.warning("compare: no stats for session %s (left out): %r", sid, exc)
        self.compared.emit(rows)


def _busy_bar() -> QProgressBar:
    """Loading: the store has the fold ready, so there is no count to show, just "busy"."""
    bar = QProgressBar()
    bar.setMaximumWidth(360)
    bar.setRange(0, 0)
    return bar


def _plot(title: str, font_family: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    item = plot.getPlotItem()
    item.showGrid(x=False, y=True, alpha=0.15)
    item.setLimits(xMin=0)  # minutes since the start: never a negative stretch
    axis = item.getAxis("bottom")
    axis.enableAutoSIPrefix(False)
    item.setLabel("bottom", "开播后分钟")
    return plot


class ReplayWindow(QMainWindow):
    """Signals:
    closed: the window was closed.
    shown(int): the moment after this event is on screen.
    """

    closed = Signal()
    shown = Signal(int)

    def __init__(self, controller: ReplayController, font_family: str) -> None:
        super().__init__()
        self.controller = controller
        self.font_family = font_family
        self.setWindowTitle("直播复盘")
        self.seq = 0
        self.state = RoomState()
        # Building the widgets for a moment; asking the store for it and building.
        self.last_render_ms = self.last_jump_ms = 0.0
        self._wanted: tuple[int | None, float | None] | None = None  # the latest request
        self._fetching: asyncio.Future[None] | None = None
        self._comparing: asyncio.Future[None] | None = None
        self.loading: asyncio.Future[None] | None = None  # set by whoever starts the load
        self._build_header_widgets()
        self.figures = RoomFigures(with_peak=False)
        f = self.figures
        self.online, self.orders, self.gmv = f.online, f.orders, f.gmv
        self.conversion, self.watched = f.conversion, f.watched
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
        self.repurchase_table = QTableWidget()
        self.repurchase_label = QLabel("30天复购")
        self.repurchase_label.setObjectName("repurchaseWindow")
        self.repurchase_label.setToolTip(REPURCHASE_DEFINITION)
        self.ltv_table = QTableWidget()
        self.ltv_table.setToolTip(LTV_DEFINITION)
        self.session_list = QListWidget()
        self.compare_table = QTableWidget()
        self.compare_button = QPushButton("对比所选场次")
        self.compare_button.setObjectName("command")
        self.compact: bool | None = None
        self.setObjectName("replayWindow")
        self._build_layout()
        self._connect_signals()
        self.setMinimumSize(MINIMUM)  # the layout's own (at full-size type) forbids compact
        self._set_compact(False)
        self.resize(1920, 1080)

    # -- building ----------------------------------------------------------------------

    def _build_header_widgets(self) -> None:
        self.title_label = ElidedLabel("正在载入…")
        self.title_label.setObjectName("sessionTitle")
        self.moment_label = FigureLabel("", min_chars=20)
        self.moment_label.setObjectName("elapsed")
        self.progress = _busy_bar()
        self.slider = Scrubber()
        self.slider.setObjectName("scrubber")
        self.slider.setEnabled(False)
        self.export_button = QPushButton("导出报告")
        self.export_button.setObjectName("command")
        self.export_button.setEnabled(False)
        self.export_label = ElidedLabel("")
        self.export_label.setObjectName("outbox")

    def _build_layout(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addSpacing(20)
        header.addWidget(self.moment_label, 1)
        header.addWidget(self.progress)
        # Room to say where the files went (it was laid out 1 px wide, never seen).
        self.export_label.setMinimumWidth(320)
        header.addWidget(self.export_label, 1)
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
        grid.addWidget(self.figures.online, 0, 0, 1, 2)
        for n, tile in enumerate(self.figures.small):
            grid.addWidget(tile, 1 + n // 2, n % 2)
        left = QVBoxLayout()
        left.addWidget(panel("那一刻的直播间", kpis), 4)
        left.addWidget(panel("分层构成 · 在线", self.mix), 5)
        centre = QVBoxLayout()
        centre.addWidget(panel("讲解中", self.card), 6)
        centre.addWidget(panel("接龙进度", self.chains), 3)
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
        for view in (self.shoutouts, self.marker_list):
            view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.slider)
        layout.addLayout(room, 5)
        layout.addLayout(charts, 3)
        return tab

    def _set_compact(self, compact: bool) -> None:
        if compact == self.compact:
            return
        self.compact = compact
        for plot in (self.viewers_plot, self.money_plot):
            plot.setMinimumHeight(TIMELINE_HEIGHT[compact])
        self.chains.setMinimumHeight(CHAIN_HEIGHT[compact])
        self.mix.setMinimumHeight(MIX_HEIGHT[compact])
        apply_compact(self, compact)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        self._set_compact(wants_compact(event.size().height()))
        super().resizeEvent(event)

    def _stats_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(panel("分层漏斗与成交", self.stats_table), 3)
        lower = QHBoxLayout()
        lower.addWidget(panel("KOC 排行", self.koc_table), 1)
        lower.addWidget(panel("团长新邻居", self.points_table), 1)
        lower.addWidget(panel("30天复购 · 按分层", self.repurchase_table, self.repurchase_label), 1)
        lower.addWidget(panel("LTV · 按分层", self.ltv_table), 1)
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
        self.controller.loaded.connect(self._on_controller_loaded)
        self.controller.failed.connect(self._on_controller_failed)
        self.controller.compared.connect(self._on_controller_compared)
        self.slider.valueChanged.connect(self._on_slider_moved)
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

    def show_seq(self, seq: int) -> asyncio.Future[None]:
        """Jump to the moment right after event ``seq``; done once it is on screen."""
        self._set_slider(seq)
        return self._request(seq=seq)

    def show_minute(self, minute: float) -> asyncio.Future[None]:
        """Jump to ``minute`` after the first event."""
        return self._request(at=self.controller.first_ts() + minute * 60)

    def _set_slider(self, seq: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(seq)
        self.slider.blockSignals(False)

    def _on_slider_moved(self, value: int) -> None:
        self._request(seq=value)

    def _request(self, seq: int | None = None, at: float | None = None) -> asyncio.Future[None]:
        """Ask for a moment. While one is on its way, only the latest request waits behind
        it, so dragging the scrubber never queues up a backlog of moments."""
        self._wanted = (seq, at)
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.ensure_future(self._fetch_wanted())
            self._fetching.add_done_callback(report_failure)
        return self._fetching

    async def _fetch_wanted(self) -> None:
        while self._wanted is not None:
            seq, at = self._wanted
            self._wanted = None
            started = time.perf_counter()
            try:
                state, ts = await self.controller.moment(seq=seq, at=at)
            except (StoreError, httpx.HTTPError) as exc:
                log.warning("replay: cannot load the moment %s/%s: %r", seq, at, exc)
                self.moment_label.setText(display_text(f"无法载入该时刻：{exc}", 80))
                continue
            if self._wanted is not None:
                continue  # the scrubber moved on while this one came
            self._render(state, ts)
            self.last_jump_ms = (time.perf_counter() - started) * 1000
        self.shown.emit(self.seq)

    def _render(self, state: RoomState, ts: float | None) -> None:
        started = time.perf_counter()
        seq = state.seq
        self.seq = seq
        self._set_slider(seq)
        minute = ((ts or 0.0) - self.controller.first_ts()) / 60 if seq else 0.0
        self.moment_label.setText(
            f"开播后 {int(minute):02d}:{int(minute * 60) % 60:02d} · 事件 #{seq:,} / "
            f"{self.controller.last_seq:,}"
        )
        self.figures.show(state)
        self.mix.set_counts(state.online_by_segment)
        card = next((c for c in self.controller.cards if c["product_id"] == state.presenting), None)
        stock = state.stock_left.get(card["product_id"]) if card else None
        # 话术 for the circles most present then, as the live window chose them.
        self.card.show_card(card, stock, card_focus(card, state.online_by_segment))
        # The 秒杀 as of the scrubbed moment: its countdown is the one the room saw then.
        sale = state.flash_sales.get(state.presenting) if state.presenting else None
        self.card.show_flash(sale, ts if ts is not None else 0.0)
        cards = {c["product_id"]: str(c["name"]) for c in self.controller.cards}
        self.chains.show_chains(
            state.chains,
            lambda pid: cards.get(pid) or state.product_names.get(pid, pid),
            ts or 0.0,
            self.controller.point_names,
        )
        self.shoutout_model.sync(state.shoutouts, fade=False)
        for cursor in self.cursors:
            cursor.blockSignals(True)
            cursor.setValue(minute)
            cursor.blockSignals(False)
        self.state = state
        self.last_render_ms = (time.perf_counter() - started) * 1000

    def _on_cursor_dragged(self, line: pg.InfiniteLine) -> None:
        self.show_minute(float(line.value()))

    def _on_chart_clicked(self, plot: pg.PlotWidget, event: Any) -> None:
        point = plot.getPlotItem().vb.mapSceneToView(event.scenePos())
        self.show_minute(max(0.0, float(point.x())))

    def _on_marker_chosen(self, item: QListWidgetItem) -> None:
        self.show_seq(int(item.data(Qt.ItemDataRole.UserRole)))

    # -- loading -----------------------------------------------------------------------

    def _on_controller_failed(self, reason: str) -> None:
        self.title_label.setText("载入失败")
        self.moment_label.setText(display_text(reason, 80))

    def _on_controller_loaded(self) -> None:
        controller = self.controller
        title = display_text(str(controller.session.get("title", "")), 40)
        self.title_label.setText(f"复盘 · {title}")
        self.setWindowTitle(f"直播复盘 · {title}")
        self.progress.setVisible(False)
        last = controller.last_seq
        self.slider.setRange(0, last)
        self.slider.setEnabled(True)
        self.export_button.setEnabled(True)
        self._draw_timeline()
        self._fill_stats()
        self._fill_sessions()
        self.show_seq(last)  # the end of the broadcast first

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
        # Entries under orders, wider: where every order is a 接龙 entry both lines show.
        money.plot(
            minutes, [s.chain_entries for s in samples], pen=pg.mkPen(PALETTE["ok"], width=5)
        )
        money.plot(minutes, [s.orders for s in samples], pen=pg.mkPen(PALETTE["accent"], width=2))
        for plot, cursor in zip((viewers, money), self.cursors, strict=True):
            for marker in self.controller.markers:
                plot.addItem(
                    pg.InfiniteLine(
                        marker.minute,
                        angle=90,
                        pen=pg.mkPen("#5b6470", style=Qt.PenStyle.DashLine),
                    ),
                    ignoreBounds=True,
                )
            for item in plot.getPlotItem().items:
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            plot.addItem(cursor, ignoreBounds=True)
            # The curves are drawn once: fix the axes to them, so moving the cursor repaints
            # two thin strips instead of re-ranging (and repainting) the whole chart.
            plot.getPlotItem().vb.autoRange(padding=0.02)
            plot.getPlotItem().vb.disableAutoRange()
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
            [[name, *(figure_text(f, k, kind) for k, _, kind in METRICS)] for name, f in columns],
            tips=[["", *(rate_parts_text(f, k) for k, _, _ in METRICS)] for _, f in columns],
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
        repurchase = stats.get("repurchase")
        if repurchase:
            self.repurchase_label.setText(repurchase_caption(repurchase))
            _fill(self.repurchase_table, list(REPURCHASE_HEADERS), repurchase_rows(repurchase))
        ltv = self.controller.ltv
        if ltv:
            _fill(self.ltv_table, list(LTV_HEADERS), ltv_rows(ltv))
        else:
            _fill(self.ltv_table, ["LTV"], [["需运营者令牌"]])

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
        self._comparing.add_done_callback(report_failure)

    def _on_controller_compared(self, rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        metrics = [*METRICS, *SESSION_WIDE]
        _fill(
            self.compare_table,
            ["指标", *(display_text(str(info.get("title", info["id"])), 20) for info, _ in rows)],
            [
                [label, *(figure_text(stats["total"], key, kind) for _, stats in rows)]
                for key, label, kind in metrics
            ],
        )

    def export_report(self, out: Path | None = None) -> list[Path]:
        """Write the report files for this session (default: the user's documents)."""
        controller = self.controller
        folder = out or Path(platformdirs.user_documents_dir()) / "直播复盘" / controller.session_id
        timeline = controller.timeline
        if timeline is None:
            return []
        written = write_report(
            folder, controller.session, controller.stats, timeline, controller.ltv or None
        )
        self.export_label.setText(f"已导出 {len(written)} 个文件到 {folder}")
        self.export_label.setToolTip("\n".join(str(path) for path in written))
        return written

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        for pending in (self._fetching, self._comparing):
            if pending is not None and not pending.done():
                pending.cancel()
        self.closed.emit()
        super().closeEvent(event)


def _fill(
    table: QTableWidget,
    headers: list[str],
    rows: list[list[Any]],
    tips: list[list[str]] | None = None,
) -> None:
    """The table's cells; ``tips``: a tool tip per cell (a rate: what it divides)."""
    table.clear()
    table.setColumnCount(len(headers))
    table.setRowCount(len(rows))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(str(value))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if tips is not None and tips[r][c]:
                item.setToolTip(tips[r][c])
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
