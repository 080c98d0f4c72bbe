"""A rehearsal (彩排) on its own clock, over real HTTP: its orders and commands are stamped
with the script's time (its newest event), its 接龙 end at their deadlines between the
events around them, as do its 秒杀 at their end, and ending it (at its script's end) ends
its last chains then. A show
on the wall clock is unchanged (its chains are the wall-clock deadline loop's)."""

from __future__ import annotations

from typing import Any

from console.store import facts
from tests.helpers import StoreProcess, event, open_db, post
from tests.store.test_chains_api import enter, open_chain
from tests.store.test_commands import command
from tests.store.test_flash_sales import buy
from tests.store.test_orders import OFFERS, POINTS, PRODUCTS, members_by_segment, order


def rehearsal(store: StoreProcess) -> tuple[str, float]:
    """A live rehearsal and when it started (its script's minute 0)."""
    with store.client("operator") as client:
        assert client.put("/products", json={"products": PRODUCTS}).status_code == 200
        assert client.put("/pickup-points", json={"points": POINTS}).status_code == 200
        created = client.post("/sessions", json={"title": "彩排", "clock": "rehearsal"})
        assert created.status_code == 201, created.text
        sid = str(created.json()["id"])
        assert created.json()["clock"] == "rehearsal"
        lineup = [p["id"] for p in PRODUCTS]
        put = client.put(f"/sessions/{sid}/catalog", json={"lineup": lineup, "offers": OFFERS})
        assert put.status_code == 200, put.text
        started = client.patch(f"/sessions/{sid}", json={"status": "live"}).json()["started_at"]
    return sid, float(int(started) + 1)  # whole seconds: the log keeps milliseconds


def at(start: float, minute: float, kind: str = "like") -> dict[str, Any]:
    """An event of the script, ``minute`` after its ``start`` (ahead of the wall clock)."""
    return {**event(kind), "ts": start + minute * 60}


def log(store: StoreProcess, sid: str) -> list[dict[str, Any]]:
    with store.client("operator") as client:
        return list(client.get(f"/sessions/{sid}/events", params={"limit": 5000}).json()["events"])


def test_a_rehearsal_stamps_decisions_with_its_script_time(store: StoreProcess) -> None:
    sid, start = rehearsal(store)
    buyers = members_by_segment(store)["S4"]
    post(store, sid, [at(start, 0), at(start, 10)])
    opened = open_chain(store, sid, deadline_minutes=15, threshold=5, cap=10)
    assert opened.status_code == 201, opened.text
    chain = opened.json()["chain_id"]
    assert enter(store, sid, buyers[0], chain).status_code == 201
    post(store, sid, [at(start, 12)])
    assert enter(store, sid, buyers[1], chain).status_code == 201
    # The script moves past the deadline (minute 25) within one batch: the chain fails
    # between minute 24 and minute 26, stamped at its deadline.
    post(store, sid, [at(start, 24), at(start, 26), at(start, 30)])
    events = log(store, sid)
    stamped = {e["type"]: e["ts"] for e in events}
    assert stamped["chain_opened"] == start + 10 * 60
    placed = [e["ts"] for e in events if e["type"] == "order_placed"]
    assert placed == [start + 10 * 60, start + 12 * 60]
    order = [(e["type"], round((e["ts"] - start) / 60, 3)) for e in events]
    failed = order.index(("chain_failed", 25.0))
    assert order[failed - 1] == ("like", 24.0) or order[failed - 1][0] == "order_cancelled"
    assert order[failed + 1] == ("like", 26.0)
    assert [t for t, _ in order].count("order_cancelled") == 2  # entries refunded


def test_ending_a_rehearsal_ends_its_chains_at_the_scripts_end(store: StoreProcess) -> None:
    sid, start = rehearsal(store)
    buyers = members_by_segment(store)["S4"]
    post(store, sid, [at(start, 0), at(start, 50)])
    chain = open_chain(store, sid, deadline_minutes=20, threshold=1, cap=5).json()["chain_id"]
    assert enter(store, sid, buyers[0], chain).json()["chain_formed"] is True
    post(store, sid, [at(start, 60, "viewer_left")])
    with store.client("operator") as client:
        ended = client.patch(f"/sessions/{sid}", json={"status": "ended"}).json()
    assert ended["ended_at"] == start + 60 * 60  # the script's end, not the wall's
    closed = [e for e in log(store, sid) if e["type"] == "chain_closed"]
    assert [(c["ts"], c["data"]["by"]) for c in closed] == [(start + 60 * 60, "session_ended")]


def test_the_wall_clock_never_ends_a_rehearsal_chain(store: StoreProcess) -> None:
    """The deadline loop runs on the wall clock: a rehearsal's chain past its deadline by
    the wall (its script runs an hour behind) waits for its script to reach the deadline."""
    sid, start = rehearsal(store)
    post(store, sid, [at(start, -60)])
    opened = open_chain(store, sid, deadline_minutes=1)
    assert opened.status_code == 201, opened.text
    with open_db(store.db_path) as conn:
        deadline = conn.execute(
            "SELECT deadline FROM chains WHERE id = ?", [opened.json()["chain_id"]]
        ).fetchone()[0]
        assert deadline == start - 59 * 60
        assert facts.due_chains(conn, deadline + 3600) == []  # the wall loop's query
        assert not facts.any_chain_due(conn, deadline + 3600)
    conn.close()
    post(store, sid, [at(start, -58)])
    assert [e["type"] for e in log(store, sid)][-2:] == ["chain_failed", "like"]


def test_a_rehearsal_flash_sale_ends_on_its_timer_between_the_events_around_it(
    store: StoreProcess,
) -> None:
    """秒杀 on the script's clock: started at minute 10 for 5 minutes, it ends between the
    events of minute 14 and 16 (one batch), stamped at minute 15, reason time, once; an
    order it saw still running paid the flash price, one after its end does not."""
    sid, start = rehearsal(store)
    buyer = members_by_segment(store)["S4"][0]
    post(store, sid, [at(start, 0), at(start, 10)])
    body = {"product_id": "p-pack", "price": 199, "units": 5, "minutes": 5}
    started = command(store, sid, "start_flash_sale", "cmd-flash-r1", limit_per_member=2, **body)
    assert started.status_code == 200, started.text
    assert started.json()["ends_at"] == start + 15 * 60
    post(store, sid, [at(start, 12)])
    assert buy(store, sid, order(buyer, key="r-flash-1")).json()["unit_price"] == 199
    post(store, sid, [at(start, 14), at(start, 16), at(start, 17)])
    post(store, sid, [at(start, 18)])  # later batches end nothing again
    events = log(store, sid)
    order_of = [(e["type"], round((e["ts"] - start) / 60, 3)) for e in events]
    ended = order_of.index(("flash_sale_ended", 15.0))
    assert order_of[ended - 1 : ended + 2] == [
        ("like", 14.0),
        ("flash_sale_ended", 15.0),
        ("like", 16.0),
    ]
    [end] = [e for e in events if e["type"] == "flash_sale_ended"]
    assert end["data"] == {
        "sale_id": started.json()["sale_id"],
        "product_id": "p-pack",
        "reason": "time",
    }
    late = buy(store, sid, order(buyer, key="r-flash-2")).json()
    assert late["unit_price"] != 199
    assert [e["type"] for e in log(store, sid)].count("flash_sale_ended") == 1


def test_a_rehearsal_sale_sold_out_in_the_batch_is_not_ended_again(store: StoreProcess) -> None:
    """A sale whose last unit goes before its end is over (sold out); its end time then
    passes in a later batch without a second ``flash_sale_ended``; a chain and a sale due in
    the same batch end in the order of their times."""
    sid, start = rehearsal(store)
    buyers = members_by_segment(store)["S4"]
    post(store, sid, [at(start, 0), at(start, 10)])
    body = {"product_id": "p-pack", "price": 199, "units": 1, "minutes": 3}
    sale = command(store, sid, "start_flash_sale", "cmd-flash-r2", limit_per_member=1, **body)
    assert sale.status_code == 200, sale.text
    sold = buy(store, sid, order(buyers[0], key="rehearsal-sold"))
    assert sold.json().get("unit_price") == 199, sold.text
    chain = open_chain(store, sid, deadline_minutes=1, threshold=5, cap=10)
    assert chain.status_code == 201, chain.text
    post(store, sid, [at(start, 20)])
    kinds = [(e["type"], e["data"].get("reason"), e["ts"]) for e in log(store, sid)]
    ends = [k for k in kinds if k[0] in ("flash_sale_ended", "chain_failed")]
    assert ends == [
        ("flash_sale_ended", "sold_out", start + 10 * 60),
        ("chain_failed", None, start + 11 * 60),
    ]
