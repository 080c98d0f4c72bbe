"""The assistant's keys act on what the assistant chose (real store, real key events)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from console.domain.shoutouts import ShoutoutKind
from console.sync.follower import LinkStatus
from console.ui.command_dialogs import CloseChainConfirm, NoticeDialog
from tests.helpers import StoreProcess, event, live_show, post
from tests.ui.test_assistant import caught_up, members, order, press
from tests.ui.test_live_window import Console, open_console, store_state

__all__ = ["open_console"]

OUT = Path(__file__).resolve().parents[2] / "test-output" / "shoutouts"


@pytest.fixture
def show(shared_store: StoreProcess) -> str:
    """A live session of its own with the 鲜直达 lineup, on the shared store."""
    return live_show(shared_store)


def assistant_on(
    store: StoreProcess, sid: str, open_console: Callable[..., Console], qtbot: QtBot
) -> Console:
    assistant = open_console(store, role="assistant")
    assistant.follow(sid)
    qtbot.waitUntil(lambda: assistant.live.link is LinkStatus.LIVE, timeout=10_000)
    qtbot.waitUntil(lambda: bool(assistant.live.cards), timeout=10_000)
    return assistant


def logged(store: StoreProcess, sid: str, kind: str) -> list[dict[str, Any]]:
    with store.client("operator") as client:
        log = client.get(f"/sessions/{sid}/events", params={"after": 0, "limit": 1000}).json()
    return [e for e in log["events"] if e["type"] == kind]


def feed_lines(console: Console) -> list[str]:
    feed = console.live.feed
    return [str(feed.index(n).data()) for n in range(feed.rowCount())]


def waiting_ids(console: Console) -> list[str]:
    return [r.id for r in console.window.shoutout_model.waiting()]


def test_the_chosen_shoutout_stays_chosen_and_space_acknowledges_it(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    view = assistant.window.shoutouts
    vips = members(store, "S1", 4)
    post(store, show, [event("viewer_joined", m) for m in vips[:3]])
    qtbot.waitUntil(lambda: len(waiting_ids(assistant)) == 3, timeout=10_000)
    arrivals = waiting_ids(assistant)
    assert view.selected_id() is None
    press(assistant, qtbot, Qt.Key.Key_Down)  # nothing chosen yet: the first
    assert view.selected_id() == arrivals[0]
    press(assistant, qtbot, Qt.Key.Key_Down)
    press(assistant, qtbot, Qt.Key.Key_Down)
    press(assistant, qtbot, Qt.Key.Key_Up)
    assert view.selected_id() == arrivals[1]
    # A more urgent question arrives on top, and another console calls out the first arrival.
    post(store, show, [event("comment", vips[3], text="冰杯是送的吗？")])
    with store.client("assistant") as client:
        answer = client.post(
            f"/sessions/{show}/commands",
            json={
                "type": "acknowledge_shoutout",
                "command_id": "cmd-other-console-ack",
                "shoutout_id": arrivals[0],
            },
        )
    assert answer.status_code == 200, answer.text

    def board_moved() -> bool:
        rows = assistant.window.shoutout_model.waiting()
        return (
            bool(rows)
            and rows[0].kind is ShoutoutKind.VIP_QUESTION
            and arrivals[0] not in waiting_ids(assistant)
        )

    qtbot.waitUntil(board_moved, timeout=10_000)
    assert view.selected_id() == arrivals[1]  # same shout-out, now on another row
    assistant.window.resize(1366, 768)
    qtbot.waitUntil(lambda: assistant.window.width() == 1366, timeout=10_000)
    assert not view.horizontalScrollBar().isVisible()
    OUT.mkdir(parents=True, exist_ok=True)
    assert assistant.window.grab().save(str(OUT / "assistant-1366-chosen.png"))
    press(assistant, qtbot, Qt.Key.Key_Space)  # 已口播: the chosen one, not the first
    qtbot.waitUntil(lambda: arrivals[1] not in waiting_ids(assistant), timeout=10_000)
    acknowledged = [e["data"]["shoutout_id"] for e in logged(store, show, "shoutout_acknowledged")]
    assert acknowledged == [arrivals[0], arrivals[1]]
    assert assistant.window.shoutout_model.waiting()[0].kind is ShoutoutKind.VIP_QUESTION


def test_t_pins_the_chosen_shoutout(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    post(store, show, [event("viewer_joined", m) for m in members(store, "S1", 3)])
    qtbot.waitUntil(lambda: len(waiting_ids(assistant)) == 3, timeout=10_000)
    last = waiting_ids(assistant)[2]
    for _ in range(5):  # past the end: stays on the last
        press(assistant, qtbot, Qt.Key.Key_Down)
    assert assistant.window.shoutouts.selected_id() == last
    press(assistant, qtbot, Qt.Key.Key_T)  # 置顶: it heads the board, still chosen
    qtbot.waitUntil(lambda: waiting_ids(assistant)[0] == last, timeout=10_000)
    assert assistant.window.shoutout_model.waiting()[0].pinned
    assert assistant.window.shoutouts.selected_id() == last


def open_unformed_chain(
    store: StoreProcess, sid: str, assistant: Console, qtbot: QtBot, threshold: int, entries: int
) -> str:
    with store.client("assistant") as client:
        opened = client.post(
            f"/sessions/{sid}/chains",
            json={
                "command_id": f"cmd-keys-chain-{sid}",
                "product_id": "xzd-avocado",
                "threshold": threshold,
                "cap": threshold * 2,
                "deadline_minutes": 30,
            },
        )
    assert opened.status_code == 201, opened.text
    chain_id = str(opened.json()["chain_id"])
    for buyer in members(store, "S3", entries):
        key = f"keys-{sid}-{buyer}"
        order(store, sid, buyer, "xzd-avocado", chain_id=chain_id, idempotency_key=key)
    caught_up(assistant, store, sid, qtbot)
    return chain_id


def test_k_on_a_chain_that_would_fail_asks_and_esc_keeps_it(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    chain_id = open_unformed_chain(store, show, assistant, qtbot, threshold=5, entries=2)
    press(assistant, qtbot, Qt.Key.Key_K)
    dialog = assistant.window.dialog
    assert isinstance(dialog, CloseChainConfirm)
    qtbot.waitUntil(dialog.isVisible, timeout=10_000)
    assert "接龙还差3单成团，现在结束将失败并退款 2 单。确定结束？" in dialog.message.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: assistant.window.dialog is None, timeout=10_000)
    # A notice sent after it arrives after anything Esc might have sent: the chain stands.
    press(assistant, qtbot, Qt.Key.Key_G)
    notice = assistant.window.dialog
    assert isinstance(notice, NoticeDialog)
    notice.text.setText("牛油果接龙继续")
    qtbot.keyClick(notice.text, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(logged(store, show, "notice_posted")), timeout=10_000)
    assert store_state(store, show)["chains"][chain_id]["status"] == "open"
    assert not logged(store, show, "chain_failed")


def test_k_on_a_chain_that_would_fail_asks_and_enter_ends_it(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    chain_id = open_unformed_chain(store, show, assistant, qtbot, threshold=4, entries=1)
    press(assistant, qtbot, Qt.Key.Key_K)
    dialog = assistant.window.dialog
    assert isinstance(dialog, CloseChainConfirm)
    qtbot.waitUntil(dialog.isVisible, timeout=10_000)
    assert "还差3单成团" in dialog.message.text()
    assert "退款 1 单" in dialog.message.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(logged(store, show, "chain_failed")), timeout=10_000)
    assert store_state(store, show)["chains"][chain_id]["status"] == "failed"
    assert assistant.window.dialog is None
    # The failure leaves a line in the assistant's feed (互动流).
    line = "牛油果 6个装 接龙未成团，已退款 1 单"
    qtbot.waitUntil(lambda: line in feed_lines(assistant), timeout=10_000)


def test_k_on_a_formed_chain_closes_it_without_asking(
    shared_store: StoreProcess, show: str, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    store = shared_store
    assistant = assistant_on(store, show, open_console, qtbot)
    chain_id = open_unformed_chain(store, show, assistant, qtbot, threshold=2, entries=2)
    assert assistant.live.state.chains[chain_id].status.value == "formed"
    press(assistant, qtbot, Qt.Key.Key_K)
    assert assistant.window.dialog is None
    qtbot.waitUntil(lambda: bool(logged(store, show, "chain_closed")), timeout=10_000)
    assert store_state(store, show)["chains"][chain_id]["status"] == "closed"
    line = "牛油果 6个装 接龙成团（满2单）"
    qtbot.waitUntil(lambda: line in feed_lines(assistant), timeout=10_000)
