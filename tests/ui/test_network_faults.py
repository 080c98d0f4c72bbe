"""The live console through a bad network: a loopback proxy delays, cuts and drops its link.

The platform's events go straight to the store while the floor assistant's console reaches it
only through ``FaultyProxy``. Through delay, a store that is gone, connections cut again and
again, and a black hole, the console must end with exactly the store's log (every event
delivered once, none lost), its banner must say what the link is doing at each stage, and its
outbox must deliver each command exactly once.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import pytest
from pytestqt.qtbot import QtBot

from console.domain.events import Event
from console.domain.room import fold, initial_state
from console.domain.snapshot import to_snapshot
from console.store import repository
from console.store.schema import connect
from console.sync.follower import LinkStatus
from tests.faults.proxy import FaultyProxy
from tests.helpers import StoreProcess
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console"]


class Through:
    """The store as the console sees it: at the proxy's address."""

    def __init__(self, store: StoreProcess, proxy: FaultyProxy) -> None:
        self.url = proxy.url
        self._store = store

    def token(self, role: str) -> str:
        return self._store.token(role)


class Platform(threading.Thread):
    """The platform's room events, straight to the store, about 200 a second."""

    def __init__(self, store: StoreProcess, sid: str, members: list[str]) -> None:
        super().__init__(daemon=True)
        self.store, self.sid, self.members = store, sid, members
        self.stop_flag = threading.Event()
        self.sent = 0

    def run(self) -> None:
        rng = random.Random(3)
        with self.store.client("ingest") as http:
            while not self.stop_flag.is_set():
                batch = [
                    {
                        "id": f"net-{self.sent + i}",
                        "type": rng.choice(["viewer_joined", "like", "viewer_left", "share"]),
                        "ts": time.time(),
                        "member_id": rng.choice(self.members),
                    }
                    for i in range(10)
                ]
                http.post(f"/sessions/{self.sid}/events", json={"events": batch}).raise_for_status()
                self.sent += len(batch)
                time.sleep(0.05)  # paces the room; nothing asserts how much was sent


@pytest.fixture
def proxy(store: StoreProcess) -> Iterator[FaultyProxy]:
    faulty = FaultyProxy(store.port).start()
    yield faulty
    faulty.stop()


@pytest.mark.timeout(180)
def test_the_console_through_a_bad_network_loses_nothing_and_tells_the_truth(
    store: StoreProcess,
    proxy: FaultyProxy,
    open_console: Callable[..., Console],
    qtbot: QtBot,
    request: pytest.FixtureRequest,
) -> None:
    sid = store.new_session("弱网演练")
    with sqlite3.connect(store.db_path) as conn:
        members = [r[0] for r in conn.execute("SELECT id FROM members LIMIT 200")]
    assistant = open_console(Through(store, proxy), role="assistant")
    window, live = assistant.window, assistant.live
    delivered: Counter[int] = Counter()
    deliver = live._on_follower_events

    def counting(events: Sequence[Event]) -> None:
        delivered.update(e.seq for e in events)
        deliver(events)

    live._on_follower_events = counting  # type: ignore[method-assign]
    banner = window.link_banner.text
    changes: list[tuple[str, str]] = []  # the link's status and why, as the follower says
    live_from: list[int] = [0]  # the follower's seq each time it went live (caught up)

    def link_changed(status: str, detail: str) -> None:
        changes.append((status, detail))
        if status == LinkStatus.LIVE.value and live.follower is not None:
            live_from.append(live.follower.seq)

    def streaming() -> bool:
        """Live, and events have come on the stream since: the link is up end to end (a
        connection the last cut left in the pool has been found dead and replaced)."""
        follower = live.follower
        return (
            bool(changes)
            and changes[-1][0] == LinkStatus.LIVE.value
            and (follower is not None and follower.seq > live_from[-1])
        )

    live.link_changed.connect(link_changed)
    assistant.follow(sid)
    qtbot.waitUntil(lambda: banner() == "● 已连接", timeout=10_000)
    platform = Platform(store, sid, members)
    platform.start()
    request.addfinalizer(lambda: (platform.stop_flag.set(), platform.join(10)))
    notices: list[str] = []

    def post_notice(text: str) -> None:
        live.send("post_notice", text=text)
        notices.append(text)

    # 1. A slow link is still a link: the banner keeps saying so, events keep coming.
    proxy.delay(0.15)
    seen = live.state.seq
    qtbot.waitUntil(lambda: live.state.seq > seen + 50, timeout=10_000)
    assert banner() == "● 已连接"

    # 2. The store is unreachable: reconnecting, then offline after three tries; a command
    #    made meanwhile waits in the outbox.
    proxy.refuse()
    qtbot.waitUntil(lambda: banner().startswith("正在重连"), timeout=10_000)
    qtbot.waitUntil(lambda: banner().startswith("离线"), timeout=20_000)
    post_notice("网络恢复后发送的公告")
    qtbot.waitUntil(lambda: "1 条指令待发送" in window.outbox_label.text(), timeout=10_000)
    proxy.heal()
    qtbot.waitUntil(lambda: banner() == "● 已连接", timeout=20_000)
    qtbot.waitUntil(lambda: window.outbox_label.text() == "", timeout=20_000)

    # 3. Connections cut again and again, with commands made in between.
    rng = random.Random(9)
    for n in range(8):
        qtbot.wait(rng.randint(200, 600))  # paces the cuts (the console runs meanwhile)
        proxy.cut()
        if n % 3 == 0:
            post_notice(f"断线中的公告 {n}")
    qtbot.waitUntil(lambda: banner() == "● 已连接", timeout=20_000)
    qtbot.waitUntil(streaming, timeout=20_000)

    # 4. A black hole: the link accepts and answers nothing. Three missed heartbeats later
    #    the console stops claiming to be connected.
    changes.clear()
    proxy.drop()
    qtbot.waitUntil(lambda: banner() != "● 已连接", timeout=25_000)
    # Noticed from silence (the read timeout), not from a closed connection.
    assert changes[0] == (LinkStatus.RECONNECTING.value, "ReadTimeout"), changes
    proxy.heal()
    proxy.cut()  # the connections opened into the hole would otherwise wait for a timeout

    platform.stop_flag.set()
    platform.join(10)
    qtbot.waitUntil(lambda: banner() == "● 已连接", timeout=20_000)
    qtbot.waitUntil(lambda: window.outbox_label.text() == "", timeout=20_000)
    with store.client() as http:  # nothing more is coming: the platform and outbox are done
        last = http.get(f"/sessions/{sid}").json()["last_seq"]
    qtbot.waitUntil(lambda: live.state.seq == last, timeout=30_000)

    assert proxy.resets > 5
    assert set(delivered) == set(range(1, last + 1)), "an event never reached the console"
    assert max(delivered.values()) == 1, "an event reached the console twice"
    db = connect(store.db_path)
    try:
        log = repository.read_events(db, sid, 0, last + 1)
        start = initial_state(repository.get_session(db, sid))
    finally:
        db.close()
    assert to_snapshot(live.state) == to_snapshot(fold(log, start))
    posted = Counter(e.data["text"] for e in log if e.type.value == "notice_posted")
    assert posted == Counter(notices), "each command must arrive exactly once"
    assert live.outbox is not None
    assert not live.outbox.pending(live.client.base_url)
    assert live.link is LinkStatus.LIVE
    assert platform.sent == sum(
        1 for e in log if e.type.value in ("viewer_joined", "like", "viewer_left", "share")
    )
