"""Privacy (隐私): opting out means the standard offer everywhere; the screen and the console's
own files carry masked names only, never a phone number or an address."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from console.sync.follower import LinkStatus
from tests.helpers import StoreProcess
from tests.ui.test_hostile_text import settle, visible_texts
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console"]

PHONE = re.compile(rb"1[3-9]\d{9}")


def lineup(store: StoreProcess, sid: str) -> tuple[str, str]:
    """One product on sale: 39.9 for everyone, 29.9 with a gift for 钻石核心 (S1)."""
    with sqlite3.connect(store.db_path) as conn:
        product = conn.execute("SELECT id FROM products LIMIT 1").fetchone()[0]
        point = conn.execute("SELECT id FROM pickup_points LIMIT 1").fetchone()[0]
    with store.client() as http:
        http.put(
            "/products",
            json={"products": [{"id": product, "name": "鲜奶", "base_price": 39.9, "stock": 99}]},
        ).raise_for_status()
        http.put(
            f"/sessions/{sid}/catalog",
            json={
                "lineup": [product],
                "offers": [
                    {"product_id": product, "price": 39.9},
                    {"product_id": product, "segment": "S1", "price": 29.9, "perk": "送冰袋"},
                ],
            },
        ).raise_for_status()
    return product, point


def test_an_opted_out_member_gets_the_standard_offer_everywhere(store: StoreProcess) -> None:
    sid = store.new_session("退出个性化")
    product, point = lineup(store, sid)
    with sqlite3.connect(store.db_path) as conn:
        vip, opted = (
            r[0]
            for r in conn.execute("SELECT id FROM members WHERE segment = 'S1' ORDER BY id LIMIT 2")
        )
        conn.execute("UPDATE members SET opted_out = 1 WHERE id = ?", [opted])
    with store.client("ingest") as http:
        joins = [
            {"id": f"join-{m}", "type": "viewer_joined", "ts": time.time(), "member_id": m}
            for m in (vip, opted)
        ]
        http.post(f"/sessions/{sid}/events", json={"events": joins}).raise_for_status()
        offers = {
            m: http.get(f"/sessions/{sid}/offers", params={"member_id": m}).json()["cards"][0]
            for m in (vip, opted)
        }
        orders = {
            m: http.post(
                f"/sessions/{sid}/orders",
                json={
                    "member_id": m,
                    "product_id": product,
                    "quantity": 1,
                    "pickup_point": point,
                    "idempotency_key": f"privacy-{m}",
                },
            ).json()
            for m in (vip, opted)
        }
    assert (offers[vip]["price"], offers[vip]["perk"], offers[vip]["tier"]) == (
        29.9,
        "送冰袋",
        "S1",
    )
    assert (offers[opted]["price"], offers[opted]["perk"], offers[opted]["tier"]) == (
        39.9,
        "",
        None,
    )
    assert (orders[vip]["unit_price"], orders[vip]["tier"]) == (29.9, "S1")
    assert (orders[opted]["unit_price"], orders[opted]["perk"], orders[opted]["tier"]) == (
        39.9,
        "",
        None,
    )
    with sqlite3.connect(store.db_path) as conn:
        logged = conn.execute(
            "SELECT json_extract(data, '$.unit_price'), json_extract(data, '$.tier') FROM events "
            "WHERE session_id = ? AND member_id = ? AND type = 'order_placed'",
            [sid, opted],
        ).fetchone()
    assert logged == (3990, None)  # the log, and so the replay and the stats, agree


def test_the_host_view_and_the_console_files_hold_no_personal_data(
    store: StoreProcess,
    open_console: Callable[..., Console],
    qtbot: QtBot,
    tmp_path: Path,
    run: Callable[..., Any],
) -> None:
    sid = store.new_session("隐私检查")
    product, point = lineup(store, sid)
    with sqlite3.connect(store.db_path) as conn:
        people = conn.execute(
            "SELECT id, name, phone FROM members WHERE length(name) >= 2 ORDER BY segment, id "
            "LIMIT 40"
        ).fetchall()
        addresses = [r[0] for r in conn.execute("SELECT address FROM pickup_points")]
    cache = tmp_path / "host-cache.db"
    host = open_console(store, role="host", cache=cache)
    host.follow(sid)
    qtbot.waitUntil(lambda: host.live.link is LinkStatus.LIVE, timeout=10_000)
    now = time.time()
    events = []
    for n, (member, _name, _phone) in enumerate(people):
        events.append({"id": f"p{n}a", "type": "viewer_joined", "ts": now + n, "member_id": member})
        events.append(
            {
                "id": f"p{n}b",
                "type": "comment",
                "ts": now + n,
                "member_id": member,
                "data": {"text": "这个怎么买？"},
            }
        )
    with store.client("ingest") as http:
        http.post(f"/sessions/{sid}/events", json={"events": events}).raise_for_status()
        for member, _name, _phone in people[:10]:
            http.post(
                f"/sessions/{sid}/orders",
                json={
                    "member_id": member,
                    "product_id": product,
                    "quantity": 1,
                    "pickup_point": point,
                    "idempotency_key": f"privacy-view-{member}",
                },
            ).raise_for_status()
    qtbot.waitUntil(lambda: host.live.state.seq == len(events) + 10, timeout=10_000)
    qtbot.waitUntil(lambda: len(host.window.shoutout_model.rows()) >= 3, timeout=10_000)
    qtbot.waitUntil(lambda: "*" in "\n".join(visible_texts(host.window)), timeout=10_000)
    settle()
    shown = "\n".join(visible_texts(host.window))
    assert "*" in shown  # masked names are on screen
    for _member, name, phone in people:
        assert name not in shown, name
        assert phone not in shown
    run(host.live.stop())  # writes the cache out, as closing the console does
    files = b"".join(p.read_bytes() for p in tmp_path.glob("host-cache.db*"))
    assert files, "the console wrote no cache"
    assert not PHONE.search(files)
    for _member, name, _phone in people:
        assert name.encode() not in files, name
    for address in addresses:
        assert address.encode() not in files
