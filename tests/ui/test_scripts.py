"""话术 on the 讲解中 card: the lines of the circles most present, stepped with , and ."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from pytestqt.qtbot import QtBot

from console.sync.follower import LinkStatus
from tests.helpers import StoreProcess, event, live_show, post
from tests.ui.test_assistant import caught_up, members, press
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console"]

OUT = Path(__file__).resolve().parents[2] / "test-output" / "scripts"
PACK_S1 = [
    "老朋友们，定制冰杯只给咱们钻石会员，今晚还能优先发货。",
    "上次买过组合的姐妹说鸡胸很嫩，这次我们换了更大的规格，同样的价。",
]
PACK_GENERAL_FIRST = "七天轻食组合一次配齐：鸡胸、牛油果、樱桃，冷链直送到你家楼下的自提点。"


@pytest.fixture
def show(shared_store: StoreProcess) -> str:
    return live_show(shared_store)


def on(store: StoreProcess, sid: str, console: Console, qtbot: QtBot) -> Console:
    console.follow(sid)
    qtbot.waitUntil(lambda: console.live.link is LinkStatus.LIVE, timeout=10_000)
    qtbot.waitUntil(lambda: bool(console.live.cards), timeout=10_000)
    return console


def shown_line(console: Console) -> str:
    card = console.window.card
    return card.script_line.text() if card.script_box.isVisible() else ""


def test_presenting_shows_the_dominant_circles_lines_else_the_general_ones_and_keys_step(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = on(store, show, open_console(store, role="assistant"), qtbot)
    host = on(store, show, open_console(store), qtbot)
    card = host.window.card
    assert not card.script_box.isVisible()  # nothing presented: no 话术
    # The room is mostly S2 (no lines of its own for the pack): the general lines.
    s2 = members(store, "S2", 3)
    post(store, show, [event("viewer_joined", m) for m in s2])
    assistant.live.send("present_product", product_id="xzd-pack")
    qtbot.waitUntil(lambda: shown_line(host) == PACK_GENERAL_FIRST, timeout=10_000)
    assert card.script_circles == []
    assert "通用" in card.script_title.text()
    assert QFontInfo(card.script_line.font()).pixelSize() >= 16
    # S1 comes to dominate the room: the host reads S1's own lines.
    s1 = members(store, "S1", 5)
    post(store, show, [event("viewer_joined", m) for m in s1])
    qtbot.waitUntil(lambda: shown_line(host) == PACK_S1[0], timeout=10_000)
    assert card.script_lines == PACK_S1  # S2, the other circle in focus, has none
    assert card.script_title.text().startswith("话术 1/2 · S1")
    # The keys step through them, on each console by itself; the ends hold.
    caught_up(assistant, store, show, qtbot)
    assistant_card = assistant.window.card
    assert assistant_card.script_text() == PACK_S1[0]
    press(assistant, qtbot, Qt.Key.Key_Period)
    assert assistant_card.script_text() == PACK_S1[1]
    assert assistant_card.script_title.text().startswith("话术 2/2")
    press(assistant, qtbot, Qt.Key.Key_Period)
    assert assistant_card.script_text() == PACK_S1[1]
    press(assistant, qtbot, Qt.Key.Key_Comma)
    press(assistant, qtbot, Qt.Key.Key_Comma)
    assert assistant_card.script_text() == PACK_S1[0]
    press(assistant, qtbot, Qt.Key.Key_Period)
    assert host.window.card.script_text() == PACK_S1[0]  # local: the host's place is its own
    # A room refresh keeps the place; a product without 话术 hides the area.
    post(store, show, [event("like", s1[0])])
    caught_up(assistant, store, show, qtbot)
    assert assistant_card.script_text() == PACK_S1[1]
    OUT.mkdir(parents=True, exist_ok=True)
    assert assistant.window.grab().save(str(OUT / "assistant-s1-line-2.png"))
    assistant.live.send("present_product", product_id="xzd-chicken")
    qtbot.waitUntil(lambda: host.live.state.presenting == "xzd-chicken", timeout=10_000)
    qtbot.waitUntil(lambda: assistant.live.state.presenting == "xzd-chicken", timeout=10_000)
    assert not card.script_box.isVisible()
    assert assistant_card.script_text() == ""
    # Back on the pack, its lines start at the first again.
    assistant.live.send("present_product", product_id="xzd-pack")
    qtbot.waitUntil(lambda: assistant_card.script_text() == PACK_S1[0], timeout=10_000)
