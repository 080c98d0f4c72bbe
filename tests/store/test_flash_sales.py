"""秒杀 by circle over real HTTP: started by the assistant, paid at the flash price by its
circles within its units and per-member limit, ended when its units are gone or its time."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.helpers import StoreProcess, open_db, wait_for
from tests.store.test_commands import command, events_of
from tests.store.test_orders import order, shop, state, stock

__all__ = ["shop"]


def buy(store: StoreProcess, sid: str, body: dict[str, Any]) -> Any:
    with store.client("ingest") as client:
        return client.post(f"/sessions/{sid}/orders", json=body)


def test_a_flash_sale_sells_its_units_at_the_flash_price_to_its_circles(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    s1, s4, s2 = shop["members"]["S1"], shop["members"]["S4"], shop["members"]["S2"]
    body = {
        "product_id": "p-pack",
        "price": 199,
        "units": 3,
        "minutes": 5,
        "limit_per_member": 1,
        "circles": ["S1", "S4"],
    }
    before = time.time()
    answer = command(store, sid, "start_flash_sale", "cmd-flash-0001", **body)
    assert answer.status_code == 200, answer.text
    started = answer.json()
    assert started["ends_at"] == pytest.approx(before + 300, abs=30)
    again = command(store, sid, "start_flash_sale", "cmd-flash-0001", **body)
    assert again.json() == started
    assert again.headers["idempotent-replay"] == "true"
    twice = command(store, sid, "start_flash_sale", "cmd-flash-0002", **body)
    assert twice.status_code == 409
    assert twice.json()["error"] == "product_id: 该商品已有秒杀进行中"
    sale = state(store, sid)["flash_sales"]["p-pack"]
    assert (sale["price"], sale["units_left"], sale["countdown"]) == (199.0, 3, True)

    first = buy(store, sid, order(s1[0])).json()
    assert first["unit_price"] == 199.0  # S1's own price is 253.3
    over = buy(store, sid, order(s1[0], key="again-s1-0"))
    assert over.status_code == 409
    assert over.json()["error"] == "quantity: 超过秒杀每人限购 1 件（已抢 1 件）"
    outsider = buy(store, sid, order(s2[0])).json()
    assert outsider["unit_price"] == 298.0  # not in its circles: the standard price
    assert buy(store, sid, order(s4[0])).json()["unit_price"] == 199.0
    assert state(store, sid)["flash_sales"]["p-pack"]["units_left"] == 1
    assert buy(store, sid, order(s4[1])).json()["unit_price"] == 199.0  # the last unit

    [ended] = events_of(store, sid, "flash_sale_ended")
    assert ended["data"]["reason"] == "sold_out"
    assert state(store, sid)["flash_sales"] == {}
    assert buy(store, sid, order(s1[1])).json()["unit_price"] == 253.3  # back to S1's price
    assert stock(store, sid)["p-pack"] == 50 - 5  # the shared stock


def test_a_flash_sale_ends_when_the_next_order_sees_its_time_over(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    body = {"product_id": "p-pack", "price": 9.9, "units": 10, "minutes": 0.5}
    answer = command(
        store, sid, "start_flash_sale", "cmd-flash-time", limit_per_member=2, **body
    ).json()
    assert state(store, sid)["flash_sales"]["p-pack"]["countdown"] is True
    move_end(store, answer["ends_at"] - 3600)  # its half minute has passed
    late = buy(store, sid, order(shop["members"]["S1"][0])).json()
    assert late["unit_price"] == 253.3
    [ended] = events_of(store, sid, "flash_sale_ended")
    assert ended["data"] == {"sale_id": answer["sale_id"], "product_id": "p-pack", "reason": "time"}


def move_end(store: StoreProcess, ends_at: float) -> None:
    """Its end time moved (a sale runs at least half a minute; the test should not wait)."""
    with open_db(store.db_path) as conn:
        [(seq, data)] = conn.execute(
            "SELECT seq, data FROM events WHERE type = 'flash_sale_started'"
        ).fetchall()
        moved = {**json.loads(data), "ends_at": ends_at}
        conn.execute("UPDATE events SET data = ? WHERE seq = ?", [json.dumps(moved), seq])


def test_a_flash_sale_ends_on_its_timer_when_nobody_orders(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    body = {"product_id": "p-pack", "price": 9.9, "units": 10, "minutes": 0.5}
    answer = command(
        store, sid, "start_flash_sale", "cmd-flash-timer", limit_per_member=2, **body
    ).json()
    end = time.time() + 1.2  # as if started with 0.02 minutes
    move_end(store, end)

    def ended_by_time() -> list[dict[str, Any]]:
        ended = events_of(store, sid, "flash_sale_ended")
        return [e for e in ended if e["data"]["reason"] == "time"]

    wait_for(ended_by_time, message=lambda: str(state(store, sid)["flash_sales"]))
    [ended] = ended_by_time()
    assert ended["data"] == {"sale_id": answer["sale_id"], "product_id": "p-pack", "reason": "time"}
    assert ended["ts"] >= end  # not before its time
    assert state(store, sid)["flash_sales"] == {}
    late = buy(store, sid, order(shop["members"]["S1"][0])).json()
    assert late["unit_price"] == 253.3  # the standard price, and no second end
    assert len(events_of(store, sid, "flash_sale_ended")) == 1


def test_flash_sale_refusals_are_in_chinese(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    base = {"product_id": "p-limited", "price": 99, "minutes": 1, "limit_per_member": 1}
    too_many = command(store, sid, "start_flash_sale", "cmd-flash-many", units=6, **base)
    assert too_many.status_code == 409
    assert too_many.json()["error"] == "units: 库存只有 5 件"
    unknown = command(
        store, sid, "start_flash_sale", "cmd-flash-none", units=1, **{**base, "product_id": "x"}
    )
    assert unknown.status_code == 404
    short = command(store, sid, "start_flash_sale", "cmd-flash-sh", units=1, **base, circles=[])
    assert short.status_code == 200
    only_s46 = {**base, "product_id": "p-capped", "circles": ["S4", "S6"]}
    calm = command(store, sid, "start_flash_sale", "cmd-flash-calm", units=1, **only_s46)
    assert calm.json()["countdown"] is False
    assert state(store, sid)["flash_sales"]["p-capped"]["countdown"] is False
