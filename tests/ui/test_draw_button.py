"""抽奖 from the assistant's command row: L opens the dialog, the store draws, the board
thanks the winner by masked nick."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.domain.shoutouts import ShoutoutKind
from console.ui.command_dialogs import DrawDialog
from tests.helpers import StoreProcess, event, post
from tests.ui.test_assistant import caught_up, members, press
from tests.ui.test_assistant_keys import assistant_on, logged, show
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console", "show"]


def test_l_opens_the_draw_dialog_and_the_winner_is_thanked_masked(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    vip = members(store, "S1", 1)[0]
    post(store, show, [event("viewer_joined", vip)])
    caught_up(assistant, store, show, qtbot)
    press(assistant, qtbot, Qt.Key.Key_L)
    dialog = assistant.window.dialog
    assert isinstance(dialog, DrawDialog)
    dialog.prize.setText("定制冰杯")
    dialog.count.setValue(1)
    dialog.circles["S1"].setChecked(True)
    qtbot.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(logged(store, show, "draw_drawn")), timeout=10_000)
    [drawn] = logged(store, show, "draw_drawn")
    assert [w["member_id"] for w in drawn["data"]["winners"]] == [vip]
    assert drawn["data"]["circles"] == ["S1"]
    assert drawn["data"]["in_room_now"] is True

    def thanked() -> bool:
        rows = assistant.window.shoutout_model.waiting()
        return any(r.kind is ShoutoutKind.DRAW_WINNER for r in rows)

    qtbot.waitUntil(thanked, timeout=10_000)
    [row] = [
        r for r in assistant.window.shoutout_model.waiting() if r.kind is ShoutoutKind.DRAW_WINNER
    ]
    assert row.text.startswith("恭喜 ")
    assert row.text.endswith(" 抽中 定制冰杯")
    assert "*" in row.text
