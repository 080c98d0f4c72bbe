"""秒杀 from the assistant's command row: F opens the dialog on the product presented, its
terms go to the store through the outbox, and a refusal shows where every refusal does."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.ui.command_dialogs import FlashDialog
from tests.helpers import StoreProcess
from tests.store.test_commands import command
from tests.ui.test_assistant import caught_up, press
from tests.ui.test_assistant_keys import assistant_on, logged, show
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console", "show"]


def test_f_opens_the_flash_dialog_on_the_presented_product_and_sends_its_terms(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    presented = command(store, show, "present_product", "cmd-flash-ui-p", product_id="xzd-cherry")
    assert presented.status_code == 200, presented.text
    caught_up(assistant, store, show, qtbot)
    press(assistant, qtbot, Qt.Key.Key_F)
    dialog = assistant.window.dialog
    assert isinstance(dialog, FlashDialog)
    assert dialog.windowTitle() == "秒杀"
    assert dialog.product.currentData() == "xzd-cherry"
    [card] = [c for c in assistant.live.cards if c["product_id"] == "xzd-cherry"]
    lowest = min(float(s["price"]) for s in card["ladder"] if s.get("visible"))
    assert dialog.price.value() == lowest  # prefilled, to edit
    dialog.price.setValue(19.9)
    dialog.units.setValue(5)
    dialog.minutes.setValue(2)
    dialog.limit.setValue(2)
    dialog.circles["S1"].setChecked(True)
    qtbot.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(logged(store, show, "flash_sale_started")), timeout=10_000)
    [started] = logged(store, show, "flash_sale_started")
    data = started["data"]
    assert (data["product_id"], data["price"], data["units"]) == ("xzd-cherry", 19.9, 5)
    assert (data["minutes"], data["limit_per_member"], data["circles"]) == (2, 2, ["S1"])
    assert data["by"] != ""

    # More units than the stock: refused by the store, reported like any refusal.
    caught_up(assistant, store, show, qtbot)
    press(assistant, qtbot, Qt.Key.Key_F)
    again = assistant.window.dialog
    assert isinstance(again, FlashDialog)
    stock = assistant.live.stock_of(card)
    again.units.setValue(stock + 1)
    qtbot.mouseClick(again.buttons.buttons()[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "被拒绝" in assistant.window.outbox_label.text(), timeout=10_000)
    assert f"库存只有 {stock} 件" in assistant.window.outbox_label.text()
    assert len(logged(store, show, "flash_sale_started")) == 1


def test_the_flash_dialog_shows_the_sale_running_on_its_product_and_keeps_its_product(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    presented = command(store, show, "present_product", "cmd-flash-run-p", product_id="xzd-cherry")
    assert presented.status_code == 200, presented.text
    started = command(
        store,
        show,
        "start_flash_sale",
        "cmd-flash-run-s",
        product_id="xzd-cherry",
        price=68,
        units=15,
        minutes=4,
        limit_per_member=1,
        circles=[],
    )
    assert started.status_code == 200, started.text
    caught_up(assistant, store, show, qtbot)
    press(assistant, qtbot, Qt.Key.Key_F)
    dialog = assistant.window.dialog
    assert isinstance(dialog, FlashDialog)
    assert dialog.running.isVisibleTo(dialog)
    line = dialog.running.text()
    assert re.fullmatch(r"该商品正在秒杀：¥68 · 剩 15 件 · 0[34]:\d\d", line), line

    # The host moves on while the dialog is open: it stays on the cherries and their sale.
    [other] = [c["product_id"] for c in assistant.live.cards if c["product_id"] != "xzd-cherry"][:1]
    moved = command(store, show, "present_product", "cmd-flash-run-q", product_id=other)
    assert moved.status_code == 200, moved.text
    qtbot.waitUntil(lambda: assistant.live.state.presenting == other, timeout=10_000)
    assert assistant.window.dialog is dialog
    assert dialog.product.currentData() == "xzd-cherry"
    assert dialog.running.text().startswith("该商品正在秒杀：¥68 · 剩 15 件 · ")
    assert "xzd-cherry" in dialog.cards
    sent: list[dict[str, object]] = []
    dialog.submitted.connect(sent.append)
    qtbot.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)
    assert [fields["product_id"] for fields in sent] == ["xzd-cherry"]

    # A product with no sale running: no line.
    press(assistant, qtbot, Qt.Key.Key_F)
    fresh = assistant.window.dialog
    assert isinstance(fresh, FlashDialog)
    assert fresh.product.currentData() == other
    assert not fresh.running.isVisibleTo(fresh)
