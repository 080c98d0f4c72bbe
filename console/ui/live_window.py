"""The live console window (直播中控台): the host's screen, plus the floor assistant's controls.

Host view: the room's circles now and its trend, the big figures, the 讲解中 card with its
price ladder (the circles most present highlighted), the next cards, the shout-outs to call
out, and the 接龙 charts. Assistant mode (assistant or operator token) adds a row of commands
with their shortcuts; every command goes through the store, so every console shows it.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent
from PySide6.QtMultimedia import QMediaDevices
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.domain.reservations import caption_from_json
from console.domain.session_clock import parse_clock, session_now
from console.domain.sessions import SessionStatus
from console.domain.text import display_text
from console.sync.follower import LinkStatus
from console.sync.outbox import OutboxStatus
from console.ui.assistant_bar import AssistantBar
from console.ui.command_dialogs import (
    CommandDialog,
)
from console.ui.compact import MINIMUM, apply_compact, wants_compact
from console.ui.live_session import LiveSession
from console.ui.replay_window import ReplayWindow
from console.ui.shoutout_model import ShoutoutModel
from console.ui.voice import VoiceReadout
from console.ui.voice_dialog import VoiceSettingsDialog
from console.ui.voice_settings import (
    VoiceSettings,
    load_muted,
    load_voice_settings,
    mandarin_voices,
    save_muted,
    save_voice_settings,
    voice_variants,
)
from console.ui.widgets.adapter_links import AdapterLinks
from console.ui.widgets.chain_chart import ChainPanel
from console.ui.widgets.elided_label import ElidedLabel
from console.ui.widgets.figure_label import FigureLabel
from console.ui.widgets.kpi import RoomFigures
from console.ui.widgets.online_trend import OnlineTrendChart, TrendLegend
from console.ui.widgets.panel import panel
from console.ui.widgets.point_bars import PointBreakdown, entries_by_point
from console.ui.widgets.product_card import NextCards, PresentingCard, card_focus
from console.ui.widgets.segment_mix import MIX_HEIGHT, SegmentMixChart
from console.ui.widgets.shoutout_view import ShoutoutView
from console.ui.window_settings import load_flag, restore_geometry, save_flag, save_geometry

log = logging.getLogger(__name__)

LINK_TEXT = {
    LinkStatus.CONNECTING: "连接中…",
    LinkStatus.LIVE: "● 已连接",
    LinkStatus.RECONNECTING: "正在重连…",
    LinkStatus.REFUSED: "连接被拒绝",
}
OFFLINE_AFTER_RECONNECTS = 3
SETTINGS_KEY = "live_window"
# Compact (``console.ui.compact``): lower charts, fewer rows.
CHART_HEIGHT = {False: 170, True: 130}
POINT_ROWS = {False: 6, True: 4}
NEXT_CARDS = {False: 4, True: 3}
# A store refusal names the field first ("delta: 库存只有 5 件"): the host reads the reason.
FIELD_PREFIX = re.compile(r"^[a-z_]+: ")
RESERVATION_TIP = "预约：本场预约的会员；已到：其中进过直播间的（预约到场转化 = 已到 / 预约）"
COMMAND_ROLES = frozenset({"assistant", "operator"})
REVIEW_ROLES = frozenset({"operator"})


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class LiveWindow(QMainWindow):
    """Signals:
    closed: the window was closed (the app shuts the session down).
    """

    closed = Signal()

    def __init__(self, live: LiveSession, font_family: str) -> None:
        super().__init__()
        self.live = live
        self.font_family = font_family
        self.assistant_mode = False
        self.read_only = False
        self.setWindowTitle("直播中控台")
        self.setObjectName("liveWindow")
        self.compact: bool | None = None
        self._build_header_widgets()
        self._build_room_widgets(font_family)
        self._build_voice()
        self.toolbar = AssistantBar(
            self, live, self.shoutouts, self._product_name, font_family, self._now
        )
        self.commands = self.toolbar.commands
        self.replays = self.toolbar.replays
        self._build_layout()
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._connect_signals()
        self._clock.start()
        self._on_live_link_changed(live.link.value, live.link_detail)
        self._on_live_role_changed(live.role)
        # An explicit minimum: the layout's own (at full-size type) would forbid compact.
        self.setMinimumSize(MINIMUM)
        self._set_compact(False)
        if not restore_geometry(self, SETTINGS_KEY):
            self.resize(1920, 1080)
        self.points_toggle.setChecked(load_flag(SETTINGS_KEY, "by_point"))

    # -- building ----------------------------------------------------------------------

    def _build_header_widgets(self) -> None:
        self.title_label = ElidedLabel("正在连接直播间…")
        self.title_label.setObjectName("sessionTitle")
        self.notice_label = ElidedLabel("")
        self.notice_label.setObjectName("notice")
        self.notice_label.setVisible(False)
        # Wide enough for "已结束 · 时长 00:00:00" (CJK glyphs are two digits wide).
        self.elapsed_label = FigureLabel(
            "", Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, 22, fixed=True
        )
        self.elapsed_label.setObjectName("elapsed")
        # 预约 230 · 已到 140: reservations and the reserved who came (the store's figure).
        self.reservation_label = QLabel("")
        self.reservation_label.setObjectName("reservations")
        self.reservation_label.setToolTip(RESERVATION_TIP)
        self.reservation_label.setVisible(False)
        self.mode_label = QLabel("主播视图")
        self.mode_label.setObjectName("modeTag")
        self.outbox_label = ElidedLabel("")
        self.outbox_label.setObjectName("outbox")
        self.outbox_label.setVisible(False)
        self.link_banner = QLabel()
        self.link_banner.setObjectName("linkBanner")
        self.adapter_links = AdapterLinks()

    def _build_voice(self) -> None:
        """语音播报: shout-outs read into the host's earpiece; M mutes it, V opens its
        settings (device, voice, rate, kinds), in both views."""
        self.voice = VoiceReadout(self, load_voice_settings())
        self.voice_dialog: VoiceSettingsDialog | None = None
        self.voice_settings_action = QAction("语音播报设置", self)
        self.voice_settings_action.setShortcut(QKeySequence("V"))
        self.voice_settings_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.voice_settings_action.triggered.connect(self.open_voice_settings)
        self.addAction(self.voice_settings_action)
        self.voice_label = QLabel("🔇")
        self.voice_label.setObjectName("voiceMuted")
        self.voice_label.setToolTip("语音播报已静音（按 M 恢复）")
        self.voice_label.setVisible(False)
        self.mute_action = QAction("语音播报静音", self)
        self.mute_action.setCheckable(True)
        self.mute_action.setShortcut(QKeySequence("M"))
        self.mute_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.mute_action.toggled.connect(self.voice.set_muted)
        # Saved on the host's M only: closing the window mutes the read-out too (stop()).
        self.mute_action.triggered.connect(save_muted)
        self.voice.muted_changed.connect(self._on_voice_muted_changed)
        self.addAction(self.mute_action)
        self.mute_action.setChecked(load_muted())

    def open_voice_settings(self) -> VoiceSettingsDialog:
        """V: the voice settings, non-modal (the room keeps updating behind it)."""
        if self.voice_dialog is not None:
            self.voice_dialog.close()
        dialog = VoiceSettingsDialog(
            self.voice.settings,
            QMediaDevices.audioOutputs(),
            mandarin_voices(),
            voice_variants(),
            self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.settings_chosen.connect(self._on_voice_settings_chosen)
        dialog.preview_requested.connect(self.voice.preview)
        dialog.finished.connect(lambda _result: self._on_voice_dialog_finished(dialog))
        self.voice_dialog = dialog
        dialog.open()
        return dialog

    def _on_voice_dialog_finished(self, dialog: VoiceSettingsDialog) -> None:
        if self.voice_dialog is dialog:
            self.voice_dialog = None

    def _on_voice_settings_chosen(self, settings: VoiceSettings) -> None:
        save_voice_settings(settings)
        self.voice.apply(settings)

    def _on_voice_muted_changed(self, muted: bool) -> None:
        self.voice_label.setVisible(muted)
        self.mute_action.setChecked(muted)

    def _build_room_widgets(self, font_family: str) -> None:
        self.figures = RoomFigures()
        f = self.figures
        self.online, self.orders, self.gmv = f.online, f.orders, f.gmv
        self.conversion, self.watched, self.peak = f.conversion, f.watched, f.peak

        self.mix = SegmentMixChart(font_family)
        self.trend = OnlineTrendChart(font_family)
        self.trend_legend = TrendLegend()
        self.card = PresentingCard()
        self.next_cards = NextCards()
        self.shoutout_model = ShoutoutModel()
        self.shoutouts = ShoutoutView(self.shoutout_model, font_family)
        self.chains = ChainPanel(font_family)
        self.points_view = PointBreakdown()
        self.points_view.setVisible(False)
        self.points_toggle = QToolButton()
        self.points_toggle.setObjectName("toggle")
        self.points_toggle.setText("按自提点 (D)")
        self.points_toggle.setCheckable(True)
        self.points_toggle.setShortcut(QKeySequence("D"))
        # , and . step through the 话术 on this console only (nothing is sent to the store).
        self.script_keys: dict[str, QAction] = {}
        for name, key, step in (("script_back", ",", -1), ("script_next", ".", 1)):
            action = QAction(self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _checked=False, s=step: self.card.step_script(s))
            self.addAction(action)
            self.script_keys[name] = action
        self.feed_view = QListView()
        self.feed_view.setObjectName("feed")
        self.feed_view.setModel(self.live.feed)
        self.feed_view.setUniformItemSizes(True)
        self.feed_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.feed_view.setIconSize(QSize(10, 10))
        self.feed_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def _build_layout(self) -> None:
        header = QHBoxLayout()
        # Title and notice share the width (both elide); the rest keeps its own size.
        header.addWidget(self.title_label, 3)
        header.addSpacing(20)
        header.addWidget(self.notice_label, 4)
        header.addSpacing(12)
        # What the outbox holds (waiting offline, refused): in the header, for both to see.
        header.addWidget(self.outbox_label, 4)
        header.addSpacing(12)
        # The live platforms' links (抖音 ● 已连接 · 延迟 0.4s): elides before anything else.
        header.addWidget(self.adapter_links, 2)
        header.addSpacing(12)
        header.addWidget(self.elapsed_label)
        header.addSpacing(12)
        header.addWidget(self.voice_label)
        header.addSpacing(8)
        header.addWidget(self.mode_label)
        header.addSpacing(8)
        header.addWidget(self.link_banner)

        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(16, 10, 16, 14)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.toolbar)
        layout.addLayout(self._build_main(), 3)
        layout.addLayout(self._build_bottom(), 1)
        self.setCentralWidget(root)

    def _build_main(self) -> QHBoxLayout:
        kpis = QWidget()
        grid = QGridLayout(kpis)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.figures.online, 0, 0, 1, 2)
        # 预约 N · 已到 M under the online count (the header has no room left at 1366 px).
        grid.addWidget(self.reservation_label, 1, 0, 1, 2)
        for n, tile in enumerate(self.figures.small):
            grid.addWidget(tile, 2 + n // 2, n % 2)
        grid.setRowStretch(grid.rowCount(), 1)

        card_box = QWidget()
        card_layout = QVBoxLayout(card_box)
        card_layout.setContentsMargins(0, 0, 0, 0)
        card_layout.addWidget(self.card, 1)
        caption = QLabel("接下来")
        caption.setObjectName("panelTitle")
        self.next_caption = caption
        card_layout.addWidget(caption)
        card_layout.addWidget(self.next_cards)

        right = QVBoxLayout()
        right.addWidget(panel("口播提醒", self.shoutouts), 3)
        self.feed_panel = panel("互动流", self.feed_view)
        self.feed_panel.setVisible(False)
        right.addWidget(self.feed_panel, 2)

        main = QHBoxLayout()
        main.addWidget(panel("直播间", kpis), 5)
        main.addWidget(panel("讲解中", card_box), 8)
        main.addLayout(right, 6)
        return main

    def _build_bottom(self) -> QHBoxLayout:
        trend_box = QWidget()
        trend_layout = QHBoxLayout(trend_box)
        trend_layout.setContentsMargins(0, 0, 0, 0)
        trend_layout.addWidget(self.trend, 1)
        trend_layout.addWidget(self.trend_legend)
        chain_box = QWidget()
        chain_layout = QHBoxLayout(chain_box)
        chain_layout.setContentsMargins(0, 0, 0, 0)
        chain_layout.addWidget(self.chains, 1)
        chain_layout.addWidget(self.points_view)
        self.points_view.setFixedWidth(320)

        # The circles under the figures, beside the trend: six rows need the bottom's height.
        bottom = QHBoxLayout()
        bottom.addWidget(panel("分层构成 · 在线", self.mix), 5)
        bottom.addWidget(panel("在线趋势", trend_box), 5)
        bottom.addWidget(panel("接龙进度", chain_box, self.points_toggle), 11)
        return bottom

    def _set_compact(self, compact: bool) -> None:
        if compact == self.compact:
            return
        self.compact = compact
        for part in (self.trend, self.chains):
            part.setMinimumHeight(CHART_HEIGHT[compact])
        self.mix.setMinimumHeight(MIX_HEIGHT[compact])
        self.points_view.set_max_rows(POINT_ROWS[compact])
        self.next_cards.set_shown(NEXT_CARDS[compact])
        self._show_cards()
        apply_compact(self, compact)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        self._set_compact(wants_compact(event.size().height()))
        super().resizeEvent(event)

    def _connect_signals(self) -> None:
        self.live.room_changed.connect(self._on_live_room_changed)
        self.live.cards_changed.connect(self._on_live_room_changed)
        self.live.link_changed.connect(self._on_live_link_changed)
        self.live.session_changed.connect(self._on_live_session_changed)
        self.live.role_changed.connect(self._on_live_role_changed)
        self.live.outbox_changed.connect(self._on_live_outbox_changed)
        self.live.reservations_changed.connect(self._on_live_reservations_changed)
        self.points_toggle.toggled.connect(self._on_points_toggled)
        self._clock.timeout.connect(self._on_clock_tick)

    # -- what is presented -------------------------------------------------------------

    @property
    def dialog(self) -> CommandDialog | None:
        """The command dialog open now, if any."""
        return self.toolbar.dialog

    @property
    def review_button(self) -> QToolButton:
        return self.toolbar.review_button

    def open_replay(self, session_id: str) -> ReplayWindow:
        return self.toolbar.open_replay(session_id)

    # -- slots -------------------------------------------------------------------------

    def _on_live_room_changed(self) -> None:
        state = self.live.state
        self.figures.show(state)
        self.adapter_links.show_links(state.adapters)
        self.mix.set_counts(state.online_by_segment)
        self._show_cards()
        self._show_chains()
        self.shoutout_model.sync(state.shoutouts)
        self.voice.offer(state.shoutouts)
        self._show_notice()

    def _show_cards(self) -> None:
        state = self.live.state
        card = self.live.card(state.presenting)
        focus = card_focus(card, state.online_by_segment)
        self.card.show_card(card, self.live.stock_of(card) if card else None, focus)
        self._show_flash()
        # A 768-pixel screen has no height for both: the line to read now comes first.
        upcoming_shown = not (self.compact and self.card.script_lines)
        self.next_caption.setVisible(upcoming_shown)
        self.next_cards.setVisible(upcoming_shown)
        upcoming = [c for c in self.toolbar.lineup_after_presenting() if c is not card][:4]
        self.next_cards.show_cards(upcoming, [self.live.stock_of(c) for c in upcoming])

    def _show_flash(self) -> None:
        state = self.live.state
        sale = state.flash_sales.get(state.presenting) if state.presenting else None
        self.card.show_flash(sale, self._now())
        self.toolbar.show_running_sales()

    def _show_chains(self) -> None:
        state = self.live.state
        ended = self.live.session.get("status") == SessionStatus.ENDED
        self.chains.show_chains(
            state.chains, self._product_name, self._now(), self.live.point_names, ended
        )
        if self.points_view.isVisibleTo(self):
            self.points_view.show_points(
                entries_by_point(state.chains.values()), self.live.point_names
            )

    def _product_name(self, product_id: str) -> str:
        card = self.live.card(product_id)
        if card is not None:
            return str(card["name"])
        return self.live.state.product_names.get(product_id, product_id)

    def _show_notice(self) -> None:
        notices = self.live.state.notices
        if notices:
            self.notice_label.setText("📢 " + display_text(str(notices[-1]["text"]), 60))
        self.notice_label.setVisible(bool(notices))

    def _on_points_toggled(self, on: bool) -> None:
        """D: the 接龙 entries by pickup point, as a ranked list beside the charts."""
        self.points_view.setVisible(on)
        save_flag(SETTINGS_KEY, "by_point", on)
        self._show_chains()

    def set_read_only(self) -> None:
        """After a crash the screen may be wrong: no more commands (see ``ui.crash``)."""
        self.read_only = True
        self._on_live_role_changed(self.live.role)

    def _on_live_role_changed(self, role: str) -> None:
        self.assistant_mode = role in COMMAND_ROLES
        self.mode_label.setText("场控模式" if self.assistant_mode else "主播视图")
        self.feed_panel.setVisible(self.assistant_mode)
        ended = self.live.session.get("status") == SessionStatus.ENDED
        self.toolbar.set_enabled_for(
            self.assistant_mode, role in REVIEW_ROLES, self.read_only, ended
        )

    def _on_live_outbox_changed(self, status: OutboxStatus) -> None:
        parts = []
        if status.pending:
            parts.append(f"{status.pending} 条指令待发送")
        if status.last_refusal:
            reason = FIELD_PREFIX.sub("", display_text(status.last_refusal, 80))
            parts.append(f"被拒绝：{reason}")
        self.outbox_label.setText("  ·  ".join(parts))
        self.outbox_label.setVisible(bool(parts))
        self.outbox_label.setProperty("pending", bool(status.pending))
        self.outbox_label.setProperty("refused", bool(status.last_refusal) and not status.pending)
        self.outbox_label.style().unpolish(self.outbox_label)
        self.outbox_label.style().polish(self.outbox_label)

    def _on_live_link_changed(self, status: str, detail: str) -> None:
        link = LinkStatus(status)
        text = LINK_TEXT[link]
        shown = link.value
        follower = self.live.follower
        if link is LinkStatus.RECONNECTING and follower is not None:
            if follower.reconnects >= OFFLINE_AFTER_RECONNECTS:
                text, shown = "离线 · 指令将在恢复后发送", "offline"
            else:
                text = f"正在重连… (第{max(1, follower.reconnects)}次)"
        self.link_banner.setText(text)
        self.link_banner.setToolTip(display_text(detail))
        self.link_banner.setProperty("link", shown)
        self.link_banner.style().unpolish(self.link_banner)
        self.link_banner.style().polish(self.link_banner)

    def _on_live_session_changed(self, session: dict[str, Any]) -> None:
        self.title_label.setText(display_text(str(session.get("title", "")), 40))
        self.setWindowTitle(f"直播中控台 · {display_text(str(session.get('title', '')), 60)}")
        self._on_live_role_changed(self.live.role)  # an ended session takes no commands
        self._on_clock_tick()

    def _now(self) -> float:
        """The session's now (``session_clock.session_now``): the wall's, or a rehearsal's
        script time (its newest event), so a rehearsal's countdowns read as on its clock."""
        session = self.live.session
        clock = parse_clock(session.get("clock"))
        started = session.get("started_at")
        return session_now(clock, time.time(), self.live.state.last_ts, started)

    def _on_live_reservations_changed(self, figures: dict[str, Any]) -> None:
        """Shown once anyone reserved: the caption is the domain's (caption_from_json)."""
        reserved = int((figures.get("total") or {}).get("reserved", 0))
        self.reservation_label.setText(caption_from_json(figures))
        self.reservation_label.setVisible(reserved > 0)

    def _on_clock_tick(self) -> None:
        session = self.live.session
        started = session.get("started_at")
        if not started:
            self.elapsed_label.setText("未开播")
        elif session.get("status") == "ended" and session.get("ended_at"):
            self.elapsed_label.setText(
                f"已结束 · 时长 {format_duration(session['ended_at'] - started)}"
            )
        else:
            self.elapsed_label.setText(f"已开播 {format_duration(self._now() - started)}")
        self._show_chains()  # time left
        self._show_flash()  # the 秒杀 countdown
        self.shoutout_model.sync(self.live.state.shoutouts)  # acknowledged ones fade out
        self.voice.offer(self.live.state.shoutouts)  # the next, once the last was said
        self.trend.show_samples(self.live.trend_samples())  # once a second: enough for a trend

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        save_geometry(self, SETTINGS_KEY)
        self._clock.stop()
        self.voice.stop()
        if self.voice_dialog is not None:
            self.voice_dialog.close()
        self.toolbar.close_all()
        self.closed.emit()
        super().closeEvent(event)
