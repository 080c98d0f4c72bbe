"""The live console window (直播中控台): who is in the room and what they are doing."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from console.domain.events import EventType
from console.domain.text import display_text
from console.sync.follower import LinkStatus
from console.ui.live_session import LiveSession
from console.ui.widgets.kpi import KpiTile
from console.ui.widgets.online_trend import OnlineTrendChart
from console.ui.widgets.segment_mix import SegmentMixChart

LINK_TEXT = {
    LinkStatus.CONNECTING: "连接中…",
    LinkStatus.LIVE: "● 已连接",
    LinkStatus.RECONNECTING: "正在重连…",
    LinkStatus.REFUSED: "连接被拒绝",
}


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _panel(title: str, body: QWidget) -> QFrame:
    frame = QFrame()
    frame.setObjectName("panel")
    caption = QLabel(title)
    caption.setObjectName("panelTitle")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(12, 8, 12, 12)
    layout.addWidget(caption)
    layout.addWidget(body, 1)
    return frame


class LiveWindow(QMainWindow):
    """Signals:
    closed: the window was closed (the app shuts the session down).
    """

    closed = Signal()

    def __init__(self, live: LiveSession, font_family: str) -> None:
        super().__init__()
        self.live = live
        self.setWindowTitle("直播中控台")
        self.title_label = QLabel("正在连接直播间…")
        self.title_label.setObjectName("sessionTitle")
        self.elapsed_label = QLabel("")
        self.elapsed_label.setObjectName("elapsed")
        self.link_banner = QLabel()
        self.link_banner.setObjectName("linkBanner")

        self.online = KpiTile("在线观众", primary=True)
        self.peak = KpiTile("峰值在线")
        self.watched = KpiTile("累计观看")
        self.comments = KpiTile("评论")
        self.likes = KpiTile("点赞")
        self.shares = KpiTile("分享")
        self.guests = KpiTile("访客在线")
        self.orders = KpiTile("订单")
        self.gmv = KpiTile("GMV (元)")

        self.mix = SegmentMixChart(font_family)
        self.trend = OnlineTrendChart(font_family)
        self.feed_view = QListView()
        self.feed_view.setObjectName("feed")
        self.feed_view.setModel(live.feed)
        self.feed_view.setUniformItemSizes(True)
        self.feed_view.setWordWrap(False)
        self.feed_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.feed_view.setIconSize(QSize(10, 10))
        self.feed_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self._build_layout()
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._connect_signals()
        self._clock.start()
        self._on_live_link_changed(live.link.value, live.link_detail)
        self.resize(1440, 860)

    def _build_layout(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.elapsed_label)
        header.addSpacing(16)
        header.addWidget(self.link_banner)

        kpis = QWidget()
        grid = QGridLayout(kpis)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.online, 0, 0, 1, 2)
        tiles = (
            self.peak,
            self.watched,
            self.orders,
            self.gmv,
            self.comments,
            self.likes,
            self.shares,
            self.guests,
        )
        for i, tile in enumerate(tiles):
            grid.addWidget(tile, 1 + i // 2, i % 2)
        grid.setRowStretch(5, 1)

        centre = QVBoxLayout()
        centre.addWidget(_panel("分层构成 · 在线", self.mix), 3)
        centre.addWidget(_panel("在线趋势", self.trend), 2)

        body = QHBoxLayout()
        body.addWidget(_panel("直播间", kpis), 2)
        body.addLayout(centre, 5)
        body.addWidget(_panel("互动流", self.feed_view), 3)

        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.addLayout(header)
        layout.addLayout(body, 1)
        self.setCentralWidget(root)

    def _connect_signals(self) -> None:
        self.live.room_changed.connect(self._on_live_room_changed)
        self.live.link_changed.connect(self._on_live_link_changed)
        self.live.session_changed.connect(self._on_live_session_changed)
        self._clock.timeout.connect(self._on_clock_tick)

    # -- slots -------------------------------------------------------------------------

    def _on_live_room_changed(self) -> None:
        state = self.live.state
        self.online.set_value(state.online)
        self.peak.set_value(state.peak_online)
        self.watched.set_value(len(state.watched_members))
        self.comments.set_value(state.totals[EventType.COMMENT])
        self.likes.set_value(state.likes)
        self.shares.set_value(state.totals[EventType.SHARE])
        self.guests.set_value(state.online_guests)
        self.orders.set_value(state.orders)
        self.gmv.set_value(round(state.gmv / 100))
        self.mix.set_counts(state.online_by_segment)
        self.trend.sample(state)

    def _on_live_link_changed(self, status: str, detail: str) -> None:
        link = LinkStatus(status)
        text = LINK_TEXT[link]
        if link is LinkStatus.RECONNECTING and self.live.follower is not None:
            text = f"正在重连… (第{max(1, self.live.follower.reconnects)}次)"
        self.link_banner.setText(text)
        self.link_banner.setToolTip(display_text(detail))
        self.link_banner.setProperty("link", link.value)
        self.link_banner.style().unpolish(self.link_banner)
        self.link_banner.style().polish(self.link_banner)

    def _on_live_session_changed(self, session: dict[str, Any]) -> None:
        self.title_label.setText(display_text(str(session.get("title", "")), 60))
        self.setWindowTitle(f"直播中控台 · {display_text(str(session.get('title', '')), 60)}")
        self._on_clock_tick()

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
            self.elapsed_label.setText(f"已开播 {format_duration(time.time() - started)}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self._clock.stop()
        self.closed.emit()
        super().closeEvent(event)
