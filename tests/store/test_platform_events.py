"""Live platforms over real HTTP (issue 16): 接龙 by comment, bound handles, platform orders,
and the platform's own counts beside ours."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.helpers import StoreProcess, event, post
from tests.store.test_chains_api import open_chain
from tests.store.test_orders import shop, state, stock

__all__ = ["shop"]

_keys = itertools.count(1)


def present(store: StoreProcess, sid: str, product: str) -> None:
    body = {"type": "present_product", "command_id": f"cmd-present-{next(_keys):04d}"}
    with store.client("assistant") as client:
        answer = client.post(f"/sessions/{sid}/commands", json={**body, "product_id": product})
        assert answer.status_code == 200, answer.text


def log(store: StoreProcess, sid: str, role: str = "assistant") -> list[dict[str, Any]]:
    with store.client(role) as client:
        return list(client.get(f"/sessions/{sid}/events?limit=5000").json()["events"])


def guest(kind: str, handle: str, **data: Any) -> dict[str, Any]:
    raw = event(kind, None, **data)
    raw.setdefault("data", {})["platform_user"] = {
        "platform": "tiktok",
        "handle": handle,
        "nick": "林小薇",
    }
    return raw


def test_a_plus_one_comment_joins_the_open_chain_once(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    present(store, sid, "p-pack")
    chain = open_chain(store, sid, threshold=2, cap=5).json()["chain_id"]
    first, second = shop["members"]["S4"][:2]
    before = stock(store, sid)["p-pack"]
    comment = event("comment", first, text="+1")
    assert post(store, sid, [comment])["accepted"] == 1
    room = state(store, sid)
    assert room["chains"][chain]["entries"] == 1
    assert stock(store, sid)["p-pack"] == before - 1
    again = post(store, sid, [comment])  # the platform resends it
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert state(store, sid)["chains"][chain]["entries"] == 1
    post(store, sid, [event("comment", second, text="接龙 2份")])
    room = state(store, sid)
    assert (room["chains"][chain]["entries"], room["chains"][chain]["units"]) == (2, 3)
    assert room["chains"][chain]["status"] == "formed"
    assert room["orders"] == 2
    assert stock(store, sid)["p-pack"] == before - 3
    placed = [e for e in log(store, sid) if e["type"] == "order_placed"]
    assert [e["data"]["chain_id"] for e in placed] == [chain, chain]
    assert all(e["data"]["pickup_point"] for e in placed)  # the member's nearest point


def test_a_comment_that_cannot_join_is_told_to_the_assistant(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    open_chain(store, sid, threshold=1, cap=1, gift_first=0)
    first, second = shop["members"]["S4"][:2]
    post(store, sid, [guest("comment", "tt-unbound", text="+1")])
    post(store, sid, [event("comment", first, text="+1")])
    post(store, sid, [event("comment", second, text="+1")])  # the chain is full
    post(store, sid, [event("comment", second, text="好吃吗？")])  # not a 接龙 comment
    refused = [e for e in log(store, sid) if e["type"] == "chain_join_refused"]
    assert [e["member_id"] for e in refused] == [None, second]
    assert "绑定" in refused[0]["data"]["reason"]
    assert refused[1]["data"]["reason"] == "接龙已满（1 单）"
    assert state(store, sid)["chain_joins_refused"] == 2


def test_a_bind_code_binds_the_handle_and_its_events_follow_the_member(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    member = shop["members"]["S1"][0]
    with store.client("host") as client:
        assert client.get(f"/members/{member}/bind-code").status_code == 403
    with store.client("assistant") as client:
        code = client.get(f"/members/{member}/bind-code").json()["code"]
    assert len(code) == 6
    assert code.isdigit()
    open_chain(store, sid, threshold=5, cap=10)
    post(store, sid, [guest("comment", "tt-4242", text=f"绑定 {code}")])
    post(store, sid, [guest("comment", "tt-4242", text="+1")])
    events = log(store, sid)
    bind = next(e for e in events if e["type"] == "comment")
    assert code not in bind["data"]["text"]  # never shown, never read aloud
    bound = next(e for e in events if e["type"] == "identity_bound")
    assert bound["member_id"] == member
    joined = [e for e in events if e["type"] == "comment"][1]
    assert joined["member_id"] == member
    assert joined["segment"] == "S1"
    placed = next(e for e in events if e["type"] == "order_placed")
    assert (placed["member_id"], placed["data"]["tier"]) == (member, "S1")  # the S1 price
    with store.client("host") as client:
        text = client.get(f"/sessions/{sid}/events").text
    assert "tt-4242" not in text  # a handle never reaches a host's screen
    with store.client("operator") as client:
        handles = client.get(f"/members/{member}/identities").json()["identities"]
        assert [(h["platform"], h["handle"], h["source"]) for h in handles] == [
            ("tiktok", "tt-4242", "code")
        ]
        other = shop["members"]["S1"][1]
        taken = client.put(
            f"/members/{other}/identities",
            json={"identities": [{"platform": "tiktok", "handle": "tt-4242"}]},
        )
        assert taken.status_code == 409, taken.text
        put = client.put(
            f"/members/{other}/identities",
            json={"identities": [{"platform": "wechat", "handle": "o-openid-1"}]},
        )
        assert put.json()["added"] == 1
    post(store, sid, [guest("comment", "tt-4242", text=f"绑定 {code}")])  # used: nothing
    assert sum(e["type"] == "identity_bound" for e in log(store, sid)) == 1


def platform_order(order_id: str, status: str, quantity: int, amount: float) -> dict[str, Any]:
    data = {
        "platform": "tiktok",
        "platform_order_id": order_id,
        "status": status,
        "product_id": "p-limited",
        "quantity": quantity,
        "amount": amount,
    }
    return guest("platform_order", f"buyer-{order_id}", **data)


def test_platform_orders_take_stock_are_flagged_when_oversold_and_refunds_return_it(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    assert stock(store, sid)["p-limited"] == 5
    post(store, sid, [platform_order("TT-1", "paid", 3, 500)])
    post(store, sid, [platform_order("TT-1", "paid", 3, 500)])  # resent under a new event id
    assert stock(store, sid)["p-limited"] == 2
    post(store, sid, [platform_order("TT-2", "paid", 3, 500)])  # only 2 left
    room = state(store, sid)
    assert stock(store, sid)["p-limited"] == 2
    assert (room["orders"], room["gmv"], room["platform_orders_flagged"]) == (1, 500.0, 1)
    kinds = [s["kind"] for s in room["shoutouts"]["active"]]
    assert "platform_oversold" in kinds
    with store.client("operator") as client:
        stats = client.get(f"/sessions/{sid}/stats").json()["total"]
    assert (stats["orders"], stats["gmv"], stats["buyers"]) == (1, 500.0, 1)  # one definition
    post(store, sid, [platform_order("TT-1", "refunded", 3, 500)])
    post(store, sid, [platform_order("TT-1", "refunded", 3, 500)])
    room = state(store, sid)
    assert stock(store, sid)["p-limited"] == 5
    assert (room["orders"], room["gmv"], room["cancelled_orders"]) == (0, 0.0, 1)
    post(store, sid, [platform_order("TT-3", "cancelled", 1, 100)])  # cancelled before paid
    post(store, sid, [platform_order("TT-3", "paid", 1, 100)])
    assert stock(store, sid)["p-limited"] == 5


def test_the_platforms_counts_and_links_are_shown_but_never_move_the_session(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    now = time.time()
    events = [
        {
            "id": "rs-1",
            "type": "room_stats",
            "ts": now,
            "data": {"platform": "tiktok", "online": 1234, "total_viewers": 5678},
        },
        {"id": "ls-1", "type": "live_ended", "ts": now, "data": {"platform": "tiktok"}},
        {
            "id": "as-1",
            "type": "adapter_status",
            "ts": now,
            "data": {
                "source": "tiktok",
                "connected": True,
                "last_message_ts": now,
                "lag_s": 0.4,
                "dropped": 0,
            },
        },
        event("follow", shop["members"]["S2"][0]),
    ]
    assert post(store, sid, events)["accepted"] == 4
    room = state(store, sid)
    assert room["platform_counts"]["tiktok"]["online"] == 1234
    assert room["adapters"]["tiktok"]["lag_s"] == 0.4
    assert room["platform_live"] == {"tiktok": False}
    with store.client("operator") as client:
        assert client.get(f"/sessions/{sid}").json()["status"] == "live"
