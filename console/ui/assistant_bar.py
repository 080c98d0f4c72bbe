"""The floor assistant's command row (场控): buttons with shortcuts, the dialogs they open,
and the operator's 复盘 button. Every command goes through the console's outbox to the store,
so every console shows it; which 接龙 K ends is the domain's (``newest_active_chain``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QToolButton, QWidget

from console.domain.chains import ChainStatus, ended_status, newest_active_chain
from console.domain.shoutouts import ShoutoutKind
from console.sync.client import StoreError
from console.ui.command_dialogs import (
    ChainDialog,
    CloseChainConfirm,
    CommandDialog,
    DrawDialog,
    FlashDialog,
    NoticeDialog,
    ProductPicker,
    SessionPicker,
    StockDialog,
)
from console.ui.crash import report_failure
from console.ui.live_session import LiveSession
from console.ui.replay_window import ReplayController, ReplayWindow
from console.ui.widgets.shoutout_view import ShoutoutView

log = logging.getLogger(__name__)

# (name, button text, shortcut): the assistant's commands in toolbar order.
ASSISTANT_ACTIONS = (
    ("present_next", "下一个商品", "N"),
    ("present_pick", "选择商品", "P"),
    ("present_none", "停止讲解", "X"),
    ("open_chain", "开接龙", "J"),
    ("close_chain", "结束接龙", "K"),
    ("adjust_stock", "调库存", "S"),
    ("post_notice", "发公告", "G"),
    ("start_draw", "抽奖", "L"),
    ("start_flash_sale", "秒杀", "F"),
    ("acknowledge", "已口播", "Space"),
    ("pin", "置顶", "T"),
    ("pick_question", "选VIP问题", "Q"),
)
ENDED_TIP = "本场已结束"


class AssistantBar(QWidget):
    """The command row; its actions live on ``window`` (shortcuts work from anywhere in it).

    ``commands``: the assistant's actions by name; ``selection_keys``: Up/Down; ``dialog``:
    the one dialog open (a new one closes it); ``replays``: the replay windows opened.
    """

    def __init__(
        self,
        window: QMainWindow,
        live: LiveSession,
        shoutouts: ShoutoutView,
        product_name: Callable[[str], str],
        font_family: str,
        now: Callable[[], float],
    ) -> None:
        super().__init__()
        self.window_ = window
        self.live = live
        self.shoutouts = shoutouts
        self.product_name = product_name
        self.now = now  # the session's (a rehearsal's script time): the 秒杀 countdown
        self.font_family = font_family
        self.commands: dict[str, QAction] = {}
        self.selection_keys: dict[str, QAction] = {}
        self.dialog: CommandDialog | None = None
        self.replays: list[ReplayWindow] = []
        self._review_task: asyncio.Future[None] | None = None
        self._build()

    def set_enabled_for(
        self, assistant: bool, reviewer: bool, read_only: bool, ended: bool = False
    ) -> None:
        """Commands for an assistant (not after a crash, nor once the session followed has
        ended: the store would refuse them), 复盘 for an operator."""
        self.setVisible(assistant)
        for action in self.commands.values():
            action.setEnabled(assistant and not read_only and not ended)
            # "" restores the default tooltip (the action's text).
            action.setToolTip(ENDED_TIP if ended else "")
        for action in self.selection_keys.values():
            action.setEnabled(assistant)
        self.review_action.setEnabled(reviewer)
        self.review_button.setVisible(reviewer)
        if self.dialog is not None and (
            read_only or (ended and not isinstance(self.dialog, SessionPicker))
        ):
            self.dialog.close()

    def close_all(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
        for replay in list(self.replays):
            replay.close()

    def _build(self) -> None:
        self.setObjectName("assistantBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        handlers = {
            "present_next": self.present_next,
            "present_pick": self.present_pick,
            "present_none": self.present_none,
            "open_chain": self.open_chain_dialog,
            "close_chain": self.close_chain,
            "adjust_stock": self.stock_dialog,
            "post_notice": self.notice_dialog,
            "start_draw": self.draw_dialog,
            "start_flash_sale": self.flash_dialog,
            "acknowledge": self.acknowledge,
            "pin": self.toggle_pin,
            "pick_question": self.pick_question,
        }
        # Up/Down choose the shout-out Space and T act on, wherever the focus is.
        for name, key, step in (("select_up", "Up", -1), ("select_down", "Down", 1)):
            action = QAction(self.window_)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setEnabled(False)
            action.triggered.connect(lambda _checked=False, s=step: self.select_shoutout(s))
            self.window_.addAction(action)
            self.selection_keys[name] = action
        for name, text, key in ASSISTANT_ACTIONS:
            action = QAction(text, self.window_)
            action.setIconText(f"{text}  {'空格' if key == 'Space' else key}")
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setEnabled(False)
            action.triggered.connect(handlers[name])
            self.window_.addAction(action)
            self.commands[name] = action
            button = QToolButton()
            button.setObjectName("command")
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            layout.addWidget(button)
        layout.addStretch(1)
        review = QAction("复盘", self.window_)
        review.setIconText("复盘  R")
        review.setShortcut(QKeySequence("R"))
        review.setEnabled(False)
        review.triggered.connect(self.open_review)
        self.window_.addAction(review)
        self.review_action = review
        self.review_button = QToolButton()
        self.review_button.setObjectName("command")
        self.review_button.setDefaultAction(review)
        self.review_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.review_button.setVisible(False)
        layout.addWidget(self.review_button)
        self.setVisible(False)

    # -- what is presented -------------------------------------------------------------

    def presenting_id(self) -> str | None:
        return self.live.state.presenting

    def lineup_after_presenting(self) -> list[dict[str, Any]]:
        cards = self.live.cards
        ids = [c["product_id"] for c in cards]
        current = self.presenting_id()
        start = ids.index(current) + 1 if current in ids else 0
        return cards[start:] + cards[:start]

    # -- the commands ------------------------------------------------------------------

    def present_next(self) -> None:
        upcoming = [
            c for c in self.lineup_after_presenting() if c["product_id"] != self.presenting_id()
        ]
        if upcoming:
            self.live.send("present_product", product_id=upcoming[0]["product_id"])

    def present_pick(self) -> None:
        """Present any product of the lineup, picked from a list."""
        if self.live.cards:
            picker = ProductPicker(self.live.cards, self.presenting_id(), self.window_)
            self._open_dialog(picker, "present_product")

    def present_none(self) -> None:
        if self.presenting_id() is not None:
            self.live.send("present_product", product_id=None)

    def open_chain_dialog(self) -> None:
        self._open_dialog(
            ChainDialog(self.live.cards, self.presenting_id(), self.window_), "open_chain"
        )

    def stock_dialog(self) -> None:
        self._open_dialog(
            StockDialog(self.live.cards, self.presenting_id(), self.window_), "adjust_stock"
        )

    def notice_dialog(self) -> None:
        self._open_dialog(NoticeDialog(self.window_), "post_notice")

    def draw_dialog(self) -> None:
        self._open_dialog(DrawDialog(self.window_), "start_draw")

    def flash_dialog(self) -> None:
        cards = self.live.cards
        stock = {str(c["product_id"]): self.live.stock_of(c) for c in cards}
        dialog = FlashDialog(
            cards,
            self.presenting_id(),
            stock,
            self.window_,
            self.live.state.flash_sales,
            self.now(),
        )
        self._open_dialog(dialog, "start_flash_sale")

    def show_running_sales(self) -> None:
        """The 秒杀 dialog's line on its product's running sale, as the room changes."""
        if isinstance(self.dialog, FlashDialog):
            self.dialog.show_running(self.live.state.flash_sales, self.now())

    def _open_dialog(self, dialog: CommandDialog, kind: str) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.submitted.connect(lambda fields: self.live.send(kind, **fields))
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        dialog.open()

    def _forget_dialog(self, dialog: CommandDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def close_chain(self) -> None:
        """End the newest chain still taking entries: a formed one closes at once; one that
        would fail (and refund its entries) asks first."""
        newest = newest_active_chain(self.live.state.chains.values())
        if newest is None:
            return
        if ended_status(newest.status) is ChainStatus.FAILED:
            confirm = CloseChainConfirm(newest, self.product_name(newest.product_id), self)
            self._open_dialog(confirm, "close_chain")
        else:
            self.live.send("close_chain", chain_id=newest.id)

    def select_shoutout(self, step: int) -> None:
        """Up/Down: move the selection of the shout-out Space and T act on."""
        self.shoutouts.step_selection(step)

    def _target_shoutout(self) -> str | None:
        """The selected shout-out still waiting, else the first on the board."""
        return self.shoutouts.target_id()

    def acknowledge(self) -> None:
        target = self._target_shoutout()
        if target is not None:
            self.live.send("acknowledge_shoutout", shoutout_id=target)

    def toggle_pin(self) -> None:
        target = self._target_shoutout()
        row = next((r for r in self.shoutouts.shoutout_model().waiting() if r.id == target), None)
        if row is not None:
            self.live.send("pin_shoutout", shoutout_id=row.id, pinned=not row.pinned)

    def pick_question(self) -> None:
        """选给主播: pin the oldest waiting VIP question so it heads the host's list."""
        questions = [
            r
            for r in self.shoutouts.shoutout_model().waiting()
            if r.kind is ShoutoutKind.VIP_QUESTION and not r.pinned
        ]
        if questions:
            self.live.send("pin_shoutout", shoutout_id=questions[0].id, pinned=True)

    # -- review (operator) -------------------------------------------------------------

    def open_review(self) -> None:
        """复盘: pick a session of the store and open its replay beside the live window."""
        self._review_task = asyncio.ensure_future(self._pick_session())
        self._review_task.add_done_callback(report_failure)

    async def _pick_session(self) -> None:
        try:
            sessions = await self.live.client.list_sessions()
        except (StoreError, httpx.HTTPError) as exc:
            # The link banner shows an unreachable store; a refusal is the token's role.
            log.warning("review: cannot list the sessions: %s", exc)
            return
        picker = SessionPicker(sessions, self.window_)
        picker.submitted.connect(lambda fields: self.open_replay(str(fields["session_id"])))
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = picker
        picker.finished.connect(lambda _result: self._forget_dialog(picker))
        picker.open()

    def open_replay(self, session_id: str) -> ReplayWindow:
        replay = ReplayWindow(ReplayController(self.live.client, session_id), self.font_family)
        replay.closed.connect(lambda: self.replays.remove(replay))
        self.replays.append(replay)
        replay.show()
        replay.loading = asyncio.ensure_future(replay.controller.load())
        replay.loading.add_done_callback(report_failure)
        return replay
