"""The layout check: both live windows (主播视图, 场控模式) in each state of a show, at the
sizes people use, walked widget by widget (``tests.ui.layout``); a PNG of each is kept in
``$TEST_OUTPUT`` (default ``out/layout/``) for a human look.

One store and one pair of consoles for the module: the states are reached in order through
real parts (events posted over HTTP, commands sent through the assistant's console, the
store stopped and started), and each test renders one window in one state at one size.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QEventLoop, QSize, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from console.domain.chains import ChainStatus
from console.resources import resource_path
from console.sync.follower import LinkStatus
from console.ui.app import build_live, save_screenshot
from console.ui.live_session import LiveSession
from console.ui.live_window import LiveWindow
from tests.helpers import ROOT, StoreProcess, event, post
from tests.ui.layout import check_window

CATALOG = resource_path("catalogs/xianzhida-summer-light.toml")
OUTPUT = Path(os.environ.get("TEST_OUTPUT") or ROOT / "out") / "layout"
SIZES = {"1920x1080": QSize(1920, 1080), "1366x768": QSize(1366, 768)}
WINDOWS = ("host", "assistant")
STATES = (
    "empty",
    "live",
    "chain_open",
    "chain_formed",
    "by_point",
    "sold_out",
    "refused",
    "hostile",
    "offline",
    "ended",
)
LONG_NAME = ("超长商品名" + "🥛鲜奶礼盒" * 30)[:100]
EMOJI_5KB = "🥛" * 1_300
# The 接龙 cards' axis fonts (10 pt) belong to chain_chart.py, which another change in flight
# owns: the one check not made here (the cards are walked otherwise).
AXES_NOT_CHECKED: tuple[type, ...] = ()  # every chart's axes are read at a metre too


def adapter_events() -> list[dict[str, Any]]:
    now = time.time()
    links = [
        {"source": "tiktok", "connected": True, "last_message_ts": now, "lag_s": 0.4},
        {"source": "wechat", "connected": False, "last_message_ts": None, "lag_s": None},
    ]
    return [{**event("adapter_status", None), "data": {**link, "dropped": 0}} for link in links]


def platform_count() -> dict[str, Any]:
    data = {"platform": "tiktok", "online": 1234, "total_viewers": 5678}
    return {**event("room_stats", None), "data": data}


def wait(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Process Qt (and so asyncio) events until ``condition`` holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g} s: {what}")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


class Show:
    """A store, a host console and an assistant console, driven from state to state."""

    def __init__(self, store: StoreProcess, folder: Path, family: str) -> None:
        self.store = store
        self.sid = store.new_session("鲜直达《夏日轻食计划》", live=False)  # empty: not on air
        spec = tomllib.loads(CATALOG.read_text(encoding="utf-8"))
        with store.client() as client:
            client.put(f"/sessions/{self.sid}/catalog", json=spec).raise_for_status()
        self.consoles: dict[str, tuple[LiveSession, LiveWindow]] = {}
        self.tasks: list[asyncio.Future[None]] = []
        for role in WINDOWS:
            live, window = build_live(
                store.url,
                store.token(role),
                folder / f"{role}-cache.db",
                family,
                folder / f"{role}-outbox.db",
            )
            window.show()
            self.consoles[role] = (live, window)
            self.tasks.append(asyncio.ensure_future(live.run(self.sid)))
        for live, _window in self.consoles.values():
            wait(lambda lv=live: lv.link is LinkStatus.LIVE and lv.cards, "consoles connected")
        self.reached = -1
        self.broken = ""
        self.chain_id = ""

    def window(self, role: str) -> LiveWindow:
        return self.consoles[role][1]

    @property
    def host(self) -> LiveWindow:
        return self.window("host")

    @property
    def assistant(self) -> LiveWindow:
        return self.window("assistant")

    def members(self, segment: str, count: int, offset: int = 0) -> list[str]:
        with sqlite3.connect(self.store.db_path) as conn:
            rows = conn.execute(
                "SELECT id FROM members WHERE segment = ? AND opted_out = 0 ORDER BY id "
                "LIMIT ? OFFSET ?",
                [segment, count, offset],
            ).fetchall()
        conn.close()
        return [r[0] for r in rows]

    def order(self, member: str, product: str, point: str, **extra: Any) -> None:
        with self.store.client("ingest") as client:
            answer = client.post(
                f"/sessions/{self.sid}/orders",
                json={
                    "member_id": member,
                    "product_id": product,
                    "quantity": 1,
                    "pickup_point": point,
                    "idempotency_key": f"layout-{member}-{product}",
                    **extra,
                },
            )
        assert answer.status_code == 201, answer.text

    def send(self, kind: str, **fields: Any) -> None:
        """A command from the assistant's console, through its outbox."""
        self.assistant.live.send(kind, **fields)

    def caught_up(self) -> None:
        with self.store.client("host") as client:
            last = client.get(f"/sessions/{self.sid}/state").json()["seq"]
        for _live, window in self.consoles.values():
            wait(lambda w=window: w.live.state.seq >= last, f"seq {last}")

    def reach(self, state: str) -> None:
        target = STATES.index(state)
        if self.reached > target:
            raise AssertionError(f"state {state} passed already (tests run in order)")
        if self.broken:
            pytest.fail(f"the show broke down before {state}: {self.broken}")
        while self.reached < target:
            self.reached += 1
            try:
                getattr(self, f"_to_{STATES[self.reached]}")()
                if self.store.process is not None:  # nothing to catch up with while it is down
                    self.caught_up()
            except Exception as exc:
                self.broken = f"reaching {STATES[self.reached]}: {exc}"
                raise

    # -- the states, in order ---------------------------------------------------------

    def _to_empty(self) -> None:
        assert self.host.live.state.seq == 0

    def _to_live(self) -> None:
        viewers = [m for s in ("S1", "S2", "S3", "S4", "S5", "S6") for m in self.members(s, 6)]
        # Reservations before the show (预约 40): the 36 who will join and 4 who will not.
        with self.store.client("ingest") as client:
            for member in [*viewers, *self.members("S2", 4, offset=10)]:
                reserved = client.post(
                    f"/sessions/{self.sid}/reservations", json={"member_id": member}
                )
                reserved.raise_for_status()
        with self.store.client() as client:
            client.patch(f"/sessions/{self.sid}", json={"status": "live"}).raise_for_status()
        post(self.store, self.sid, [event("viewer_joined", m) for m in viewers])
        vip = self.members("S1", 1)[0]
        post(self.store, self.sid, [event("comment", vip, text="冰杯是送的吗？能多送一个吗")])
        # Two platforms' links in the header, one of them down, and the platform's count.
        post(self.store, self.sid, [*adapter_events(), platform_count()])
        self.send("present_product", product_id="xzd-pack")
        wait(lambda: self.host.card.name.text() == "夏日轻食能量包", "xzd-pack presented")
        for member in self.members("S2", 3):
            self.order(member, "xzd-pack", "pt-101")
        wait(lambda: self.host.orders.text() == "3", "3 orders")
        # A 秒杀 running on the card through the next states (its line is read at a metre).
        self.send(
            "start_flash_sale",
            product_id="xzd-pack",
            price=19.9,
            units=10,
            minutes=60,
            limit_per_member=1,
            circles=[],
        )
        wait(lambda: self.host.card.flash_text().startswith("秒杀 ¥19.9"), "秒杀 shown")
        caption = "预约 40 · 已到 36"
        for window in (self.host, self.assistant):
            wait(lambda w=window: w.reservation_label.text() == caption, "reservations shown")

    def _to_chain_open(self) -> None:
        self.send(
            "open_chain",
            product_id="xzd-avocado",
            threshold=5,
            cap=12,
            deadline_minutes=15,
            gift_first=0,
            gift="",
        )
        wait(lambda: self.host.live.state.chains, "chain opened")
        self.chain_id = next(iter(self.host.live.state.chains))
        for member, point in zip(self.members("S3", 2), ("pt-101", "pt-102"), strict=True):
            self.order(member, "xzd-avocado", point, chain_id=self.chain_id)
        wait(lambda: "还差3单" in " ".join(self.host.chains.captions()), "2 entries")

    def _to_chain_formed(self) -> None:
        points = ("pt-101", "pt-103", "pt-104", "pt-105")
        for member, point in zip(self.members("S4", 4), points, strict=True):
            self.order(member, "xzd-avocado", point, chain_id=self.chain_id)
        chains = self.host.live.state.chains
        wait(lambda: chains[self.chain_id].status is ChainStatus.FORMED, "formed")

    def _to_by_point(self) -> None:
        for window in (self.host, self.assistant):
            window.points_toggle.setChecked(True)

    def _to_sold_out(self) -> None:
        self.send("present_product", product_id="xzd-cherry")
        wait(lambda: self.host.card.name.text() == "车厘子 2斤", "cherries presented")
        card = self.host.live.card("xzd-cherry")
        assert card is not None
        self.send("adjust_stock", product_id="xzd-cherry", delta=-self.host.live.stock_of(card))
        wait(lambda: self.host.card.stock.text() == "已售罄", "sold out")

    def _to_refused(self) -> None:
        self.send("adjust_stock", product_id="xzd-pack", delta=-200, reason="盘点")
        wait(lambda: "被拒绝" in self.assistant.outbox_label.text(), "refusal shown")

    def _to_hostile(self) -> None:
        vip = self.members("S1", 1, offset=10)[0]
        with sqlite3.connect(self.store.db_path) as conn:
            conn.execute("UPDATE members SET nick = ? WHERE id = ?", [EMOJI_5KB, vip])
        conn.close()
        with self.store.client() as client:
            product = {"id": "xzd-trial", "name": LONG_NAME, "base_price": 9.9, "stock": 50}
            client.put("/products", json={"products": [product]}).raise_for_status()
        post(
            self.store,
            self.sid,
            [
                event("viewer_joined", vip),
                event("comment", vip, text=EMOJI_5KB[:400] + "能便宜点吗？"),
            ],
        )
        self.send("post_notice", text=("今晚抽奖" + "📢" * 200)[:120])
        self.send("present_product", product_id="xzd-trial")
        wait(lambda: self.host.card.name.text().startswith("超长商品名"), "long name presented")

    def _to_offline(self) -> None:
        self.store.stop()
        follower = self.assistant.live.follower
        wait(
            lambda: follower is not None and follower.reconnects >= 3,
            "offline after 3 tries",
        )
        wait(lambda: self.assistant.link_banner.text().startswith("离线"), "offline banner")
        self.send("post_notice", text="20:30 抽3位送定制冰杯")
        wait(lambda: "1 条指令待发送" in self.assistant.outbox_label.text(), "pending shown")

    def _to_ended(self) -> None:
        self.store.start()
        wait(lambda: "待发送" not in self.assistant.outbox_label.text(), "outbox sent", 30)
        with self.store.client() as client:
            client.patch(f"/sessions/{self.sid}", json={"status": "ended"}).raise_for_status()
        for window in (self.host, self.assistant):
            wait(lambda w=window: w.elapsed_label.text().startswith("已结束"), "ended shown", 30)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for live, window in self.consoles.values():
            stopping = asyncio.ensure_future(live.stop())
            wait(stopping.done, "console stopped")
            window.close()
            if live.cache is not None:
                live.cache.close()
            if live.outbox is not None:
                live.outbox.close()
        wait(lambda: all(t.done() for t in self.tasks), "sessions ended")


@pytest.fixture(scope="module")
def show(
    qapp: QApplication,
    qloop: qasync.QEventLoop,
    font_family: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Show]:
    folder = tmp_path_factory.mktemp("layout")
    store = StoreProcess(folder / "store.db")
    store.start()
    try:
        show = Show(store, folder, font_family)
        yield show
        if store.process is None:
            store.start()
        show.close()
    finally:
        store.stop()


@pytest.fixture(scope="module", autouse=True)
def _no_dangling_timers(qapp: QApplication) -> Iterator[None]:
    """The consoles live for the module (their clocks tick between tests); checked at the
    end, after ``show`` has closed them (it is set up after this, so torn down before)."""
    yield
    qapp.processEvents()
    leftovers = [t for w in qapp.topLevelWidgets() for t in w.findChildren(QTimer) if t.isActive()]
    for widget in qapp.topLevelWidgets():
        widget.close()
    assert not leftovers, f"active timers left behind: {leftovers}"


def on_screen(label: QLabel) -> str:
    """What a label shows (an ElidedLabel's ``text()`` is its whole text, not what fits)."""
    return QLabel.text(label) if label.isVisible() else ""


# What must be readable in a state, at every size: (role, widget, words).
MUST_READ: dict[str, list[tuple[str, Callable[[LiveWindow], QLabel], str]]] = {
    "live": [
        *((r, lambda w: w.reservation_label, "预约 40 · 已到 36") for r in WINDOWS),
        *((r, lambda w: w.card.flash, "秒杀 ¥19.9 · 剩 10 件") for r in WINDOWS),
    ],
    "sold_out": [(r, lambda w: w.card.stock, "已售罄") for r in WINDOWS],
    "refused": [("assistant", lambda w: w.outbox_label, "库存只有")],
    "offline": [("assistant", lambda w: w.outbox_label, "1 条指令待发送")],
    "by_point": [(r, lambda w: w.points_view.title, "按自提点") for r in WINDOWS],
}


def settle(window: QWidget, size: QSize) -> None:
    window.resize(size)
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


CASES = [(s, w, z) for s in STATES for w in WINDOWS for z in SIZES]


@pytest.mark.parametrize(("state", "role", "size"), CASES)
def test_layout(show: Show, state: str, role: str, size: str) -> None:
    show.reach(state)
    window = show.window(role)
    settle(window, SIZES[size])
    assert save_screenshot(window, OUTPUT / f"{role}-{state}-{size}.png")
    assert window.size() == SIZES[size], f"window cannot shrink to {size}: {window.size()}"
    problems = check_window(window, skip_axes=AXES_NOT_CHECKED)
    problems += [
        f"{words!r} not readable: {on_screen(part(window))!r}"
        for who, part, words in MUST_READ.get(state, [])
        if who == role and words not in on_screen(part(window))
    ]
    if state == "ended":
        assert window.elapsed_label.text().startswith("已结束 · 时长 00:")
    assert not problems, "\n".join(problems)
