"""接龙 by comment, end to end (issue 16): "+1" comments posted as a platform would, the chain
formed in the store, its stock taken, and the host's screen showing it; a guest told why not;
the platforms' links and count in the header."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from console.sync.follower import LinkStatus
from tests.helpers import StoreProcess, event, post
from tests.ui.test_live_window import Console, open_console, store_state

__all__ = ["open_console"]


def _shop(store: StoreProcess) -> str:
    with store.client("operator") as client:
        product = {"id": "p-pack", "name": "夏日轻食能量包", "base_price": 298, "stock": 10}
        client.put("/products", json={"products": [product]}).raise_for_status()
        point = {"id": "pt-1", "name": "西湖店", "leader": "王团长", "lat": 30.24, "lon": 120.15}
        client.put("/pickup-points", json={"points": [point]}).raise_for_status()
        sid = store.new_session("评论接龙")
        client.put(f"/sessions/{sid}/catalog", json={"lineup": ["p-pack"], "offers": []})
        client.patch(f"/sessions/{sid}", json={"status": "live"}).raise_for_status()
    with store.client("assistant") as client:
        present = {"type": "present_product", "command_id": "cmd-present-1", "product_id": "p-pack"}
        client.post(f"/sessions/{sid}/commands", json=present).raise_for_status()
        chain = {
            "command_id": "cmd-chain-0001",
            "product_id": "p-pack",
            "threshold": 2,
            "cap": 5,
            "deadline_minutes": 30,
        }
        client.post(f"/sessions/{sid}/chains", json=chain).raise_for_status()
    return sid


def test_plus_one_comments_form_the_chain_on_the_host_screen(
    store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot
) -> None:
    sid = _shop(store)
    console = open_console(store)
    console.follow(sid)
    qtbot.waitUntil(lambda: console.live.link is LinkStatus.LIVE, timeout=10_000)
    guest: dict[str, Any] = event("comment", None, text="+1")
    guest["data"]["platform_user"] = {"platform": "tiktok", "handle": "tt-9", "nick": "路人甲"}
    now = time.time()
    link = {"source": "tiktok", "connected": True, "last_message_ts": now, "lag_s": 0.4}
    post(
        store,
        sid,
        [
            event("comment", "m00001", text="+1"),
            guest,
            event("comment", "m00002", text="接龙 2份"),
            {**event("adapter_status", None), "data": {**link, "dropped": 0}},
            {
                **event("room_stats", None),
                "data": {"platform": "tiktok", "online": 1234, "total_viewers": 4000},
            },
        ],
    )
    expected = store_state(store, sid)
    window = console.window
    qtbot.waitUntil(lambda: console.live.state.seq == expected["seq"], timeout=10_000)
    chain = next(iter(expected["chains"].values()))
    assert (chain["entries"], chain["units"], chain["status"]) == (2, 3, "formed")
    assert expected["stock_left"]["p-pack"] == 7  # the stock the comments took
    qtbot.waitUntil(lambda: window.orders.text() == "2", timeout=10_000)
    texts = [row.text for row in window.shoutout_model.rows()]
    assert any("成团啦" in text for text in texts), texts
    feed = [console.live.feed.index(n).data() for n in range(console.live.feed.rowCount())]
    assert any("接龙未成功" in line and "绑定" in line for line in feed), feed
    assert all("tt-9" not in line for line in feed)  # the handle never on the host's screen
    assert window.adapter_links.text() == "抖音 ● 已连接 · 延迟 0.4s"
    assert window.figures.online.note() == "平台 1,234"
