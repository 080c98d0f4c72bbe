"""The replay and review window on a real simulated broadcast (real store, real window)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget
from pytestqt.qtbot import QtBot

from console.domain.draws import winner_nicks
from console.domain.events import Event, EventType
from console.domain.flash import flash_line
from console.domain.repurchase import ltv_rows, repurchase_rows
from console.domain.room import fold, initial_state
from console.domain.shoutouts import ShoutoutKind
from console.sync.client import StoreClient
from console.ui.command_dialogs import SessionPicker
from console.ui.replay_window import ReplayController, ReplayWindow
from tests.e2e.scenarios import rehearse
from tests.helpers import StoreProcess
from tests.ui.layout import check_label
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console"]


@pytest.fixture(scope="module")
def broadcast(shared_store: StoreProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The 鲜直达 scenario played into a new session (as fast as it goes)."""
    return rehearse(shared_store, "xianzhida-summer-light", tmp_path_factory.mktemp("broadcast"))[0]


@pytest.fixture
def replay(
    shared_store: StoreProcess,
    broadcast: str,
    font_family: str,
    run: Callable[..., Any],
    qtbot: QtBot,
) -> Iterator[ReplayWindow]:
    client = StoreClient(shared_store.url, shared_store.token("operator"))
    window = ReplayWindow(ReplayController(client, broadcast), font_family)
    window.show()
    with qtbot.waitSignal(window.shown, timeout=60_000):  # the end of the broadcast
        run(window.controller.load(), timeout=60)
    yield window
    window.close()
    run(client.aclose())


@pytest.fixture(scope="module")
def log(shared_store: StoreProcess, broadcast: str) -> list[Event]:
    """The broadcast's whole log, read page by page from the store."""
    headers = {"Authorization": f"Bearer {shared_store.token('operator')}"}
    events: list[Event] = []
    with httpx.Client(base_url=f"{shared_store.url}/api/v1", headers=headers) as http:
        while True:
            page = http.get(
                f"/sessions/{broadcast}/events", params={"after": len(events), "limit": 5_000}
            ).json()
            events.extend(Event.from_dict(raw) for raw in page["events"])
            if len(events) >= page["last_seq"]:
                return events


def test_scrubbing_shows_the_room_as_it_was(
    replay: ReplayWindow, log: list[Event], run: Callable[..., Any]
) -> None:
    """What each moment shows; how fast it draws is ``tests/bench/bench_replay.py``'s."""
    events = log
    assert replay.slider.maximum() == len(events)
    assert replay.orders.text() == f"{fold(events).orders:,}"  # the end of the broadcast
    # The show went live with the brand's prompt thresholds (the shared store has ended shows).
    start = initial_state(replay.controller.session)
    for seq in (1, len(events) // 3, len(events) // 2, len(events) - 1):
        run(replay.show_seq(seq))
        room = fold(events[:seq], start)
        assert replay.state == room  # the whole reducer state, exactly
        assert replay.slider.value() == seq
        assert replay.online.text() == f"{room.online:,}"
        assert replay.orders.text() == f"{room.orders:,}"
        assert replay.mix.counts() == room.online_by_segment
        assert [r.id for r in replay.shoutout_model.rows()] == [
            s.id for s in room.shoutouts.ordered()
        ]


def test_dragging_the_scrubber_asks_only_for_the_latest_moment(
    replay: ReplayWindow, log: list[Event], qtbot: QtBot
) -> None:
    asked: list[int | None] = []
    moment = replay.controller.moment

    async def counting(seq: int | None = None, at: float | None = None) -> Any:
        asked.append(seq)
        return await moment(seq=seq, at=at)

    replay.controller.moment = counting  # type: ignore[method-assign]
    with qtbot.waitSignal(replay.shown, timeout=10_000):
        for seq in range(10, 60):  # one event-loop pass: fifty slider moves
            replay.slider.setValue(seq)
    qtbot.waitUntil(lambda: replay.seq == 59, timeout=10_000)
    assert asked == [59]  # the moves before the fetch started were superseded, not queued
    assert replay.orders.text() == f"{fold(log[:59]).orders:,}"


def test_a_chart_click_shows_the_moment_at_that_minute(
    replay: ReplayWindow, log: list[Event], run: Callable[..., Any]
) -> None:
    first, middle = log[0].ts, log[len(log) // 2].ts  # at --speed 0 the log spans seconds
    minute = (middle - first) / 60
    run(replay.show_minute(minute))
    expected = max(e.seq for e in log if e.ts <= first + minute * 60)
    assert replay.seq == expected
    assert replay.slider.value() == expected
    clock = f"{int(minute):02d}:{int(minute * 60) % 60:02d}"
    assert replay.moment_label.text().startswith(f"开播后 {clock} · 事件 #")


def test_markers_jump_to_the_moment(replay: ReplayWindow, log: list[Event], qtbot: QtBot) -> None:
    labels = [replay.marker_list.item(n).text() for n in range(replay.marker_list.count())]
    opened = next(n for n, label in enumerate(labels) if "开接龙" in label)
    qtbot.mouseClick(
        replay.marker_list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=replay.marker_list.visualItemRect(replay.marker_list.item(opened)).center(),
    )
    qtbot.waitUntil(lambda: log[replay.seq - 1].type is EventType.CHAIN_OPENED, timeout=10_000)
    assert replay.slider.value() == replay.seq
    assert replay.chains.captions()[0].startswith("夏日轻食能量包 · 0/50单 · 还差50单成团")
    assert replay.card.name.text() == "夏日轻食能量包"  # presented since minute 40


def test_review_tabs_compare_and_export(replay: ReplayWindow, qtbot: QtBot, tmp_path: Path) -> None:
    table = replay.stats_table
    assert table.item(0, 0).text() == "合计"
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    reached = headers.index("触达")
    assert table.item(0, reached).text() == "120"
    assert table.item(0, headers.index("观看转化率")).text() == "87.5%"
    aov = replay.controller.stats["total"]["aov"]
    assert table.item(0, headers.index("客单价 (元)")).text() == f"{aov:,.2f}"
    # One row per pickup point that got new neighbours (none if earlier tests' broadcasts in
    # this store already made these members customers).
    assert replay.points_table.rowCount() == len(replay.controller.stats["new_neighbours"])
    assert replay.controller.session_id in replay.checked_sessions()
    with qtbot.waitSignal(replay.controller.compared, timeout=10_000):
        replay.compare_button.click()
    assert replay.compare_table.item(0, 0).text() == "触达"
    assert replay.compare_table.item(0, 1).text() == "120"
    written = replay.export_report(tmp_path / "export")
    assert {p.name for p in written} >= {"stats.json", "report.html", "viewers.png"}
    # The operator is told where the files went, readably (it was a 1 px label).
    label = replay.export_label
    assert label.isVisible()
    assert str(tmp_path / "export") in label.text()
    assert label.width() >= 300


def test_review_shows_repurchase_and_ltv_by_circle(
    replay: ReplayWindow, shared_store: StoreProcess, qtbot: QtBot, tmp_path: Path
) -> None:
    """30-day repurchase (as /stats and /repurchase have it) and LTV by circle in the review,
    with the window said (the broadcast is minutes old: not complete), readable."""
    tabs = replay.findChild(QTabWidget, "replayTabs")
    tabs.setCurrentIndex(1)  # 复盘数据
    sid = replay.controller.session_id
    with shared_store.client("operator") as client:
        repurchase = client.get(f"/sessions/{sid}/repurchase").json()
        ltv = client.get("/ltv").json()
    stats = replay.controller.stats
    assert stats["repurchase"]["total"] == repurchase["total"]
    label = replay.repurchase_label
    assert label.text() == "30天复购 · " + repurchase["label"]
    assert "未满30天" in label.text()
    qtbot.waitUntil(label.isVisible, timeout=5_000)
    assert label.width() > 0
    assert check_label(label) == []
    table = replay.repurchase_table
    assert [table.item(0, c).text() for c in range(table.columnCount())] == (
        repurchase_rows(repurchase)[0]
    )
    assert table.item(0, 1).text() == f"{stats['total']['buyers']:,}"  # the same buyers
    ltv_table = replay.ltv_table
    assert [ltv_table.item(0, c).text() for c in range(ltv_table.columnCount())] == (
        ltv_rows(ltv)[0]
    )
    written = replay.export_report(tmp_path / "export")
    assert {p.name for p in written} >= {"repurchase.csv", "ltv.csv", "report.html"}
    page = (tmp_path / "export" / "report.html").read_text(encoding="utf-8")
    assert "30天复购" in page
    assert "LTV · 按分层" in page


def test_the_operator_opens_a_replay_from_the_live_console(
    shared_store: StoreProcess,
    broadcast: str,
    open_console: Callable[..., Console],
    qtbot: QtBot,
) -> None:
    console = open_console(shared_store, role="operator")
    console.follow(broadcast)
    qtbot.waitUntil(lambda: console.live.role == "operator", timeout=10_000)
    window = console.window
    assert window.review_button.isVisible()
    with qtbot.waitActive(window, timeout=10_000):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_R)  # 复盘
    qtbot.waitUntil(lambda: isinstance(window.dialog, SessionPicker), timeout=10_000)
    picker = window.dialog
    assert isinstance(picker, SessionPicker)
    ids = [
        picker.sessions.item(n).data(Qt.ItemDataRole.UserRole)
        for n in range(picker.sessions.count())
    ]
    picker.sessions.setCurrentRow(ids.index(broadcast))
    qtbot.keyClick(picker.sessions, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.replays) == 1, timeout=10_000)
    replay = window.replays[0]
    qtbot.waitUntil(replay.slider.isEnabled, timeout=30_000)
    assert replay.title_label.text() == "复盘 · 鲜直达《夏日轻食计划》"
    ended = replay.controller.stats["total"]["orders"]
    qtbot.waitUntil(lambda: replay.orders.text() == f"{ended:,}", timeout=10_000)  # the end
    window.close()  # closes the replay with it
    assert not window.replays


def test_the_replay_shows_the_scripts_flash_sale_draw_and_prompts(
    replay: ReplayWindow, log: list[Event], run: Callable[..., Any]
) -> None:
    """The scenario's host aids at their moments, as the live screens showed them: the
    cherries' 话术 and 秒杀 countdown, the draw's winners on the board, a turn prompt."""
    by_type = {e.type: e for e in reversed(log)}  # the first of each type
    started = by_type[EventType.FLASH_SALE_STARTED]
    first_order = next(
        e for e in log if e.type is EventType.ORDER_PLACED and e.data.get("flash_sale_id")
    )
    run(replay.show_seq(first_order.seq))
    room = fold(log[: first_order.seq])
    assert replay.card.name.text() == "车厘子 2斤"
    assert replay.card.script_text().startswith("当季车厘子")
    sale = room.flash_sales["xzd-cherry"]
    assert replay.card.flash_text() == flash_line(sale, first_order.ts)
    assert replay.card.flash_text().startswith("秒杀 ¥68 · 剩 ")
    ended = by_type[EventType.FLASH_SALE_ENDED]
    assert ended.data["sale_id"] == started.data["sale_id"]
    run(replay.show_seq(ended.seq))
    assert replay.card.flash_text() == ""
    drawn = by_type[EventType.DRAW_DRAWN]
    run(replay.show_seq(drawn.seq))
    rows = {r.kind: r.text for r in replay.shoutout_model.rows()}
    assert rows[ShoutoutKind.DRAW_WINNER].startswith("恭喜 " + "、".join(winner_nicks(drawn.data)))
    assert replay.controller.timeline is not None
    prompts = replay.controller.timeline.aids.prompts
    assert prompts, "the scenario raises at least one prompt when the room turns"
    run(replay.show_seq(prompts[0].seq))
    assert (prompts[0].kind, prompts[0].text) in {
        (r.kind, r.text) for r in replay.shoutout_model.rows()
    }
    labels = [replay.marker_list.item(n).text() for n in range(replay.marker_list.count())]
    assert any("秒杀 车厘子 2斤" in label for label in labels)
    assert any("抽奖 《7天轻食食谱》签名版" in label for label in labels)
