"""接龙 over real HTTP: opening, entries toward 成团, gifts, the cap, deadlines, closing."""

from __future__ import annotations

from typing import Any

from tests.helpers import StoreProcess, open_db, wait_for
from tests.store.test_orders import order, shop, state, stock

__all__ = ["shop"]


def open_chain(
    store: StoreProcess,
    sid: str,
    key: str = "cmd-open-0001",
    role: str = "assistant",
    **fields: Any,
) -> Any:
    body = {
        "command_id": key,
        "product_id": "p-pack",
        "threshold": 3,
        "cap": 4,
        "deadline_minutes": 30,
        "gift_first": 2,
        "gift": "《7天轻食食谱》",
        **fields,
    }
    with store.client(role) as client:
        return client.post(f"/sessions/{sid}/chains", json=body)


def enter(store: StoreProcess, sid: str, member: str, chain: str, point: str = "pt-xihu") -> Any:
    body = {**order(member, key=f"chain-{chain}-{member}", point=point), "chain_id": chain}
    with store.client("ingest") as client:
        return client.post(f"/sessions/{sid}/orders", json=body)


def test_entries_form_the_chain_with_gifts_for_the_first(
    store: StoreProcess,
    shop: dict[str, Any],
) -> None:
    sid = shop["sid"]
    opened = open_chain(store, sid)
    assert opened.status_code == 201, opened.text
    chain = opened.json()["chain_id"]
    assert open_chain(store, sid).json()["chain_id"] == chain  # the same command, once
    buyers = shop["members"]["S4"][:5]
    answers = [
        enter(store, sid, m, chain, "pt-xihu" if i % 2 else "pt-binjiang").json()
        for i, m in enumerate(buyers[:3])
    ]
    assert [a["entry"] for a in answers] == [1, 2, 3]
    assert [a["gift"] for a in answers] == ["《7天轻食食谱》", "《7天轻食食谱》", ""]
    assert [a["chain_formed"] for a in answers] == [False, False, True]
    assert enter(store, sid, buyers[3], chain).status_code == 201  # formed still takes entries
    full = enter(store, sid, buyers[4], chain)
    assert (full.status_code, full.json()["error"]) == (409, "chain_id: 接龙已满（4 单）")
    room = state(store, sid)["chains"][chain]
    assert (room["status"], room["entries"], room["missing"]) == ("formed", 4, 0)
    assert room["by_point"] == {"pt-binjiang": 2, "pt-xihu": 2}
    with open_db(store.db_path) as conn:
        kinds = [
            r[0]
            for r in conn.execute(
                "SELECT type FROM events WHERE session_id = ? AND type LIKE 'chain_%' ORDER BY seq",
                [sid],
            )
        ]
    assert kinds == ["chain_opened", "chain_formed"]


def test_a_chain_short_at_its_deadline_fails_and_returns_the_stock(
    store: StoreProcess,
    shop: dict[str, Any],
) -> None:
    sid = shop["sid"]
    chain = open_chain(store, sid).json()["chain_id"]  # 30 minutes
    before = stock(store, sid)["p-pack"]
    assert enter(store, sid, shop["members"]["S4"][0], chain).status_code == 201
    assert stock(store, sid)["p-pack"] == before - 1
    # Its deadline passes: moved to the past rather than waited for, so how long the entry
    # above took (a loaded machine) cannot decide whether it came in time.
    with open_db(store.db_path) as conn:
        conn.execute("UPDATE chains SET deadline = 1 WHERE id = ?", [chain])  # long past
    wait_for(
        lambda: state(store, sid)["chains"][chain]["status"] == "failed",
        message="the chain did not fail at its deadline",
    )
    room = state(store, sid)
    assert (room["orders"], room["cancelled_orders"], room["gmv"]) == (0, 1, 0)
    assert room["chains"][chain]["entries"] == 0
    assert stock(store, sid)["p-pack"] == before
    late = enter(store, sid, shop["members"]["S4"][1], chain)
    assert (late.status_code, late.json()["error"]) == (409, "chain_id: 接龙未成团，已取消")


def test_closing_by_hand(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    chain = open_chain(store, sid, threshold=1, cap=2).json()["chain_id"]
    enter(store, sid, shop["members"]["S4"][0], chain)
    with store.client("assistant") as client:
        closed = client.post(
            f"/sessions/{sid}/chains/{chain}/close", json={"command_id": "cmd-close-0001"}
        )
        assert closed.json()["status"] == "closed"  # it had formed
        again = client.post(
            f"/sessions/{sid}/chains/{chain}/close", json={"command_id": "cmd-close-0002"}
        )
        assert (again.status_code, again.json()["error"]) == (
            409,
            "chain_id: 接龙已结束",
        )
    second = open_chain(store, sid, key="cmd-open-0002", threshold=5, cap=5).json()["chain_id"]
    with store.client("assistant") as client:
        failed = client.post(
            f"/sessions/{sid}/chains/{second}/close", json={"command_id": "cmd-close-0003"}
        )
    assert failed.json()["status"] == "failed"  # short of its threshold


def test_refused_commands(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    assert open_chain(store, sid, role="host").status_code == 403
    missing = open_chain(store, sid, key="cmd-x-00001", product_id="p-nothing")
    assert (missing.status_code, missing.json()["problems"][0]["field"]) == (404, "product_id")
    small = open_chain(store, sid, key="cmd-x-00002", threshold=10, cap=5)
    assert (small.status_code, small.json()["problems"][0]["field"]) == (422, "cap")
    assert open_chain(store, sid, key="cmd-x-00003").status_code == 201
    twice = open_chain(store, sid, key="cmd-x-00004")
    assert (twice.status_code, twice.json()["error"]) == (
        409,
        "product_id: 该商品已有进行中的接龙",
    )
    reused = open_chain(store, sid, key="cmd-x-00003", threshold=7, cap=9)
    assert (reused.status_code, reused.json()["problems"][0]["field"]) == (409, "command_id")


def test_a_formed_chain_never_forms_twice(store: StoreProcess, shop: dict[str, Any]) -> None:
    """Formed at its threshold, one entry cancelled, a new entry reaches the threshold again:
    still one 成团 in the log and one 成团啦 on the board (it used to log two)."""
    sid = shop["sid"]
    chain = open_chain(store, sid, threshold=2, cap=5).json()["chain_id"]
    buyers = shop["members"]["S4"][:3]
    first = enter(store, sid, buyers[0], chain).json()
    assert enter(store, sid, buyers[1], chain).json()["chain_formed"]
    with store.client("assistant") as client:
        cancelled = client.post(
            f"/sessions/{sid}/commands",
            json={
                "type": "cancel_order",
                "command_id": "cmd-cancel-0001",
                "order_id": first["order_id"],
            },
        )
    assert cancelled.status_code == 200, cancelled.text
    again = enter(store, sid, buyers[2], chain).json()
    assert (again["entry"], again["chain_formed"]) == (2, False)
    with open_db(store.db_path) as conn:
        formed = conn.execute(
            "SELECT count(*) FROM events WHERE session_id = ? AND type = 'chain_formed'", [sid]
        ).fetchone()[0]
        row = conn.execute("SELECT status, entries FROM chains WHERE id = ?", [chain]).fetchone()
    assert formed == 1
    assert row == ("formed", 2)
    room = state(store, sid)
    assert (room["chains"][chain]["status"], room["chains"][chain]["entries"]) == ("formed", 2)
    board = [s for s in room["shoutouts"]["active"] if s["kind"] == "chain_formed"]
    assert len(board) == 1
