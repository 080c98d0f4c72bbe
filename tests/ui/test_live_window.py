"""The live console against a real store: what the window shows, and across a restart."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFontInfo
from pytestqt.qtbot import QtBot

from console.domain.segments import ALL_SEGMENTS
from console.sync.client import StoreClient
from console.sync.follower import LinkStatus
from console.ui.app import build_live, save_screenshot
from console.ui.fonts import FAMILY
from console.ui.live_session import LiveSession
from console.ui.live_window import LiveWindow
from tests.helpers import StoreProcess, event, post, run_async


class Console:
    """A live window with its session task, closed at the end of the test."""

    def __init__(
        self,
        store: StoreProcess,
        cache: Path,
        family: str,
        qtbot: QtBot,
        role: str = "host",
        outbox: Path | None = None,
    ) -> None:
        # Not qtbot.addWidget: pytest-qt would delete the window before this closes it.
        self.live, self.window = build_live(
            store.url, store.token(role), cache, family, outbox or cache.with_suffix(".outbox")
        )
        self.window.show()
        self.task: asyncio.Future[None] | None = None

    def follow(self, sid: str) -> None:
        self.task = asyncio.ensure_future(self.live.run(sid))

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.live.stop()
        self.window.close()
        if self.live.cache is not None:
            self.live.cache.close()
        if self.live.outbox is not None:
            self.live.outbox.close()


@pytest.fixture
def open_console(
    qtbot: QtBot, font_family: str, tmp_path: Path, run: Callable[..., Any], qloop: Any
) -> Iterator[Callable[[StoreProcess], Console]]:
    opened: list[Console] = []

    def opener(
        store: StoreProcess,
        cache: Path | None = None,
        role: str = "host",
        outbox: Path | None = None,
    ) -> Console:
        cache = cache or tmp_path / f"cache-{len(opened)}.db"
        console = Console(store, cache, font_family, qtbot, role, outbox)
        opened.append(console)
        return console

    yield opener
    for console in opened:
        run(console.close())


def store_state(store: StoreProcess, sid: str) -> dict[str, Any]:
    """The store's /state, read through the console's own client."""

    async def read() -> dict[str, Any]:
        client = StoreClient(store.url, store.token("host"))
        try:
            return await client.state(sid)
        finally:
            await client.aclose()

    return run_async(read())


def shown(window: LiveWindow) -> dict[str, Any]:
    live = window.live
    return {
        "seq": live.state.seq,
        "online": int(window.online.text().replace(",", "")),
        "online_by_segment": {s.value: n for s, n in window.mix.counts().items()},
    }


def test_window_shows_the_store_state(
    shared_store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    sid = shared_store.new_session("鲜直达《夏日轻食计划》")
    post(shared_store, sid, [event("viewer_joined", f"m{n:05d}") for n in range(1, 41)])
    console = open_console(shared_store)
    console.follow(sid)
    qtbot.waitUntil(lambda: console.live.state.seq == 40, timeout=10_000)
    post(
        shared_store,
        sid,
        [event("viewer_left", f"m{n:05d}") for n in range(1, 6)]
        + [event("comment", "m00007", text="鸡胸肉是冷链配送吗？")],
    )
    expected = store_state(shared_store, sid)
    qtbot.waitUntil(lambda: shown(console.window)["seq"] == expected["seq"], timeout=10_000)
    qtbot.waitUntil(lambda: console.window.online.text() == "35", timeout=10_000)
    assert shown(console.window) == {k: expected[k] for k in ("seq", "online", "online_by_segment")}
    assert console.window.title_label.text() == "鲜直达《夏日轻食计划》"
    assert console.window.link_banner.text() == "● 已连接"
    top = console.live.feed.index(0).data()
    assert top.endswith("：鸡胸肉是冷链配送吗？")
    assert "*" in top  # masked name
    labels = console.window.mix.label_texts()
    total = sum(expected["online_by_segment"].values())
    for segment, label in zip(ALL_SEGMENTS, labels, strict=True):
        count = expected["online_by_segment"][segment.value]
        assert label.strip().startswith(f"{count} · ")
        assert label.strip().endswith(f"{count / total:.0%}")


def test_redraws_are_coalesced_on_a_timer(
    shared_store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    sid = shared_store.new_session()
    console = open_console(shared_store)
    redraws: list[int] = []  # the seq shown by each redraw
    ticks: list[int] = []  # how many redraws there had been at each tick of the redraw timer
    console.live.room_changed.connect(lambda: redraws.append(console.live.state.seq))
    console.follow(sid)
    qtbot.waitUntil(lambda: console.live.link is LinkStatus.LIVE, timeout=10_000)
    redraws.clear()
    console.live._timer.timeout.connect(lambda: ticks.append(len(redraws)))  # after the redraw
    post(shared_store, sid, [event("like", f"m{n:05d}") for n in range(1, 501)])
    qtbot.waitUntil(lambda: console.live.state.seq == 500, timeout=10_000)
    # Not a count in a time (a loaded machine spreads the 500 events over more ticks): at
    # most one redraw a tick, none after the last, and a redraw shows all that came since.
    per_tick = [b - a for a, b in zip([0, *ticks], [*ticks, len(redraws)], strict=True)]
    assert max(per_tick) <= 1
    assert per_tick[-1] == 0
    assert max(b - a for a, b in itertools.pairwise([0, *redraws])) > 1  # several in one


def test_console_reconnects_after_a_store_restart_without_double_counting(
    store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot, run: Callable[..., Any]
) -> None:
    sid = store.new_session()
    post(store, sid, [event("viewer_joined", f"m{n:05d}") for n in range(1, 21)])
    console = open_console(store)
    console.follow(sid)
    qtbot.waitUntil(lambda: console.live.state.seq == 20, timeout=10_000)
    store.stop()
    qtbot.waitUntil(
        lambda: console.window.link_banner.text().startswith("正在重连"), timeout=10_000
    )
    assert console.window.link_banner.property("link") == "reconnecting"
    store.start()
    post(store, sid, [event("viewer_joined", f"m{n:05d}") for n in range(15, 31)])
    qtbot.waitUntil(lambda: console.live.state.seq == 36, timeout=15_000)
    qtbot.waitUntil(lambda: console.window.link_banner.text() == "● 已连接", timeout=10_000)
    expected = store_state(store, sid)
    assert expected["online"] == 30
    assert shown(console.window) == {k: expected[k] for k in ("seq", "online", "online_by_segment")}


@pytest.mark.parametrize(("role", "mode"), [("host", "主播视图"), ("assistant", "场控模式")])
def test_a_restarted_console_shows_its_cached_room_while_the_store_is_down(
    store: StoreProcess,
    open_console: Callable[..., Console],
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
    role: str,
    mode: str,
) -> None:
    """Its room, title and mode (an assistant kept its command bar only once /me answered)."""
    sid = store.new_session("源牧《春日鲜奶节》")
    post(store, sid, [event("viewer_joined", f"m{n:05d}") for n in range(1, 13)])
    cache = tmp_path / "restart-cache.db"
    first = open_console(store, cache, role=role)
    first.follow(sid)
    qtbot.waitUntil(lambda: first.window.online.text() == "12", timeout=10_000)
    qtbot.waitUntil(lambda: first.window.mode_label.text() == mode, timeout=10_000)
    run(first.close())
    store.stop()

    second = open_console(store, cache, role=role)
    second.follow(sid)
    qtbot.waitUntil(lambda: second.window.online.text() == "12", timeout=10_000)
    assert second.window.title_label.text() == "源牧《春日鲜奶节》"
    assert second.window.link_banner.text() != "● 已连接"
    assert second.window.mode_label.text() == mode  # the token's own mode, from the cache

    store.start()
    post(store, sid, [event("viewer_left", "m00001")])
    qtbot.waitUntil(lambda: second.window.online.text() == "11", timeout=15_000)
    assert second.live.state.seq == 13
    assert second.window.link_banner.text() == "● 已连接"


def test_screenshot_renders_chinese(
    shared_store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot, tmp_path: Path
) -> None:
    sid = shared_store.new_session("夏日冰饮季")
    post(shared_store, sid, [event("viewer_joined", f"m{n:05d}") for n in range(1, 9)])
    console = open_console(shared_store)
    console.follow(sid)
    qtbot.waitUntil(lambda: console.window.online.text() == "8", timeout=10_000)
    target = tmp_path / "shot.png"
    assert save_screenshot(console.window, target)
    assert target.stat().st_size > 20_000
    title_font = QFontInfo(console.window.title_label.font())
    assert title_font.family() == FAMILY
    metrics = console.window.title_label.fontMetrics()
    assert all(metrics.inFontUcs4(ord(c)) for c in "夏日冰饮季 钻石核心 沉睡新客")


def test_unknown_token_shows_refused(
    shared_store: StoreProcess,
    qtbot: QtBot,
    font_family: str,
    tmp_path: Path,
    run: Callable[..., Any],
) -> None:
    live = LiveSession(StoreClient(shared_store.url, "lc_wrong"))
    window = LiveWindow(live, font_family)
    task = asyncio.ensure_future(live.run("s_whatever"))
    qtbot.waitUntil(lambda: window.link_banner.text() == "连接被拒绝", timeout=10_000)
    try:
        assert "令牌无效" in window.link_banner.toolTip()  # the store's own reason
    finally:
        task.cancel()
        run(live.stop())
        window.close()


def test_orders_and_gmv_tiles_follow_the_store(
    store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    with store.client("operator") as client:
        client.put(
            "/products",
            json={
                "products": [
                    {"id": "p-pack", "name": "夏日轻食能量包", "base_price": 298, "stock": 10}
                ]
            },
        )
        client.put(
            "/pickup-points",
            json={"points": [{"id": "pt-1", "name": "西湖店", "lat": 30.24, "lon": 120.15}]},
        )
        sid = store.new_session("下单测试")
        client.put(f"/sessions/{sid}/catalog", json={"lineup": ["p-pack"], "offers": []})
        client.patch(f"/sessions/{sid}", json={"status": "live"})
    console = open_console(store)
    console.follow(sid)
    qtbot.waitUntil(lambda: console.live.link is LinkStatus.LIVE, timeout=10_000)
    with store.client("ingest") as client:
        for member in ("m00001", "m00002"):
            placed = client.post(
                f"/sessions/{sid}/orders",
                json={
                    "member_id": member,
                    "product_id": "p-pack",
                    "quantity": 1,
                    "pickup_point": "pt-1",
                    "idempotency_key": f"ui-{member}",
                },
            )
            assert placed.status_code == 201, placed.text
    qtbot.waitUntil(lambda: console.window.orders.text() == "2", timeout=10_000)
    expected = store_state(store, sid)
    assert console.window.gmv.text() == f"{round(expected['gmv']):,}"
    assert expected["orders"] == 2


def test_a_console_opened_after_the_show_draws_its_trend_by_event_time(
    shared_store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    """It used to draw a straight line: the whole log arrived in one redraw."""
    sid = shared_store.new_session("回看趋势")
    start = time.time() - 3600  # an hour ago: within the store's bounds, any time reads the same
    joins = [{**event("viewer_joined", f"m{n:05d}"), "ts": start + n * 20} for n in range(1, 21)]
    leaves = [
        {**event("viewer_left", f"m{n:05d}"), "ts": start + 420 + n * 5} for n in range(1, 11)
    ]
    post(shared_store, sid, joins + leaves)
    console = open_console(shared_store)
    console.follow(sid)
    qtbot.waitUntil(lambda: console.window.online.text() == "10", timeout=10_000)
    samples = console.live.trend_samples()
    online = [s.online for s in samples]
    assert len(samples) > 50  # one per second of the show's own time (about 8 minutes)
    assert max(online) == 20
    assert online[-1] == 10
    assert online[len(online) // 4] < 20  # rising through the joins, not a flat line
    qtbot.waitUntil(lambda: console.window.trend.samples == len(console.live.trend_samples()))


def test_reservations_caption_matches_the_api(
    shared_store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    # 5 members reserve before the show; 3 of them and 2 others join: "预约 5 · 已到 3".
    sid = shared_store.new_session("冰爽私享会", live=False)
    reserved = [f"m{n:05d}" for n in range(101, 106)]
    with shared_store.client("ingest") as client:
        for member in reserved:
            made = client.post(f"/sessions/{sid}/reservations", json={"member_id": member})
            assert made.status_code == 201, made.text
    with shared_store.client() as client:
        client.patch(f"/sessions/{sid}", json={"status": "live"}).raise_for_status()
    joined = [*reserved[:3], "m00201", "m00202"]
    post(shared_store, sid, [event("viewer_joined", m) for m in joined])
    console = open_console(shared_store)
    console.follow(sid)
    label = console.window.reservation_label
    qtbot.waitUntil(lambda: label.isVisible() and label.text() != "", timeout=15_000)
    with shared_store.client("host") as client:
        api = client.get(f"/sessions/{sid}/reservations").json()
    assert api["caption"] == "预约 5 · 已到 3"
    assert label.text() == api["caption"]
    assert label.width() > 0
    assert label.width() >= label.sizeHint().width()
