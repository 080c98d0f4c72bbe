"""Once the show the console follows has ended, the assistant's commands are off (the store
would refuse each one); they are back when the console follows a live show."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.ui.assistant_bar import ASSISTANT_ACTIONS
from console.ui.command_dialogs import FlashDialog
from tests.helpers import StoreProcess, live_show
from tests.ui.test_assistant import press
from tests.ui.test_assistant_keys import assistant_on, show
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console", "show"]


def buttons_enabled(console: Console) -> dict[str, bool]:
    return {name: action.isEnabled() for name, action in console.window.commands.items()}


def test_an_ended_show_disables_the_commands_and_their_keys_until_a_live_one(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    window = assistant.window
    assert all(buttons_enabled(assistant).values())
    assert window.commands["start_flash_sale"].toolTip() == "秒杀"
    press(assistant, qtbot, Qt.Key.Key_F)
    assert isinstance(window.dialog, FlashDialog)

    with store.client() as client:
        client.patch(f"/sessions/{show}", json={"status": "ended"}).raise_for_status()
    qtbot.waitUntil(lambda: not any(buttons_enabled(assistant).values()), timeout=30_000)
    assert len(buttons_enabled(assistant)) == len(ASSISTANT_ACTIONS)
    assert {a.toolTip() for a in window.commands.values()} == {"本场已结束"}
    qtbot.waitUntil(lambda: window.dialog is None, timeout=10_000)  # its OK would be refused
    press(assistant, qtbot, Qt.Key.Key_F)
    press(assistant, qtbot, Qt.Key.Key_N)
    assert window.dialog is None  # the keys are off too
    assert window.toolbar.isVisible()  # still the assistant's screen, only idle

    # The same console follows another show, live: the commands come back.
    other = live_show(store, "鲜直达《第二场》")
    assert assistant.task is not None
    assistant.task.cancel()
    assistant.follow(other)
    qtbot.waitUntil(lambda: assistant.live.session_id == other, timeout=10_000)
    qtbot.waitUntil(lambda: all(buttons_enabled(assistant).values()), timeout=10_000)
    assert window.commands["start_flash_sale"].toolTip() == "秒杀"
    press(assistant, qtbot, Qt.Key.Key_F)
    assert isinstance(window.dialog, FlashDialog)
