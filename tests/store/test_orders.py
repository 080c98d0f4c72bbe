"""Orders over real HTTP: prices by circle, no overselling, idempotency, clear refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from console.domain.pickup import haversine_km
from tests.helpers import StoreProcess, event, open_db, post, run_async

PRODUCTS = [
    {"id": "p-pack", "name": "夏日轻食能量包", "base_price": 298, "stock": 50, "emoji": "🥗"},
    {"id": "p-limited", "name": "联名款礼盒", "base_price": 199, "stock": 5},
    {"id": "p-capped", "name": "樱花杯", "base_price": 39.9, "stock": 100},
]
OFFERS = [
    {"product_id": "p-pack", "segment": "S1", "price": 253.3, "perk": "定制冰杯"},
    {"product_id": "p-pack", "segment": "S6", "price": 268.2, "perk": "新客立减"},
    {"product_id": "p-limited", "segment": "S1", "price": 169, "perk": "限量编号", "limit": 1},
    {"product_id": "p-limited", "segment": None, "price": 199, "visible": False},
    {"product_id": "p-capped", "segment": None, "price": 39.9, "limit": 2},
]
POINTS = [
    {"id": "pt-xihu", "name": "西湖店", "leader": "王团长", "lat": 30.2431, "lon": 120.15},
    {"id": "pt-binjiang", "name": "滨江店", "leader": "李团长", "lat": 30.2084, "lon": 120.212},
]


def members_by_segment(store: StoreProcess) -> dict[str, list[str]]:
    with open_db(store.db_path) as conn:
        rows = conn.execute(
            "SELECT segment, id FROM members WHERE opted_out = 0 ORDER BY id"
        ).fetchall()
    result: dict[str, list[str]] = {}
    for segment, member in rows:
        result.setdefault(segment, []).append(member)
    return result


@pytest.fixture
def shop(store: StoreProcess) -> dict[str, Any]:
    return {"sid": open_shop(store), "members": members_by_segment(store)}


def open_shop(
    store: StoreProcess, title: str = "鲜直达《夏日轻食计划》", stock: int | None = None
) -> str:
    """A live session selling ``PRODUCTS`` (each with ``stock`` units, when given)."""
    products = [dict(p, stock=stock) if stock is not None else p for p in PRODUCTS]
    with store.client("operator") as client:
        assert client.put("/products", json={"products": products}).status_code == 200
        assert client.put("/pickup-points", json={"points": POINTS}).status_code == 200
        sid = store.new_session(title)
        lineup = [p["id"] for p in PRODUCTS]
        put = client.put(f"/sessions/{sid}/catalog", json={"lineup": lineup, "offers": OFFERS})
        assert put.status_code == 200, put.text
        client.patch(f"/sessions/{sid}", json={"status": "live"})
    return sid


def order(
    member: str,
    product: str = "p-pack",
    quantity: int = 1,
    key: str | None = None,
    point: str | None = "pt-xihu",
) -> dict[str, Any]:
    return {
        "member_id": member,
        "product_id": product,
        "quantity": quantity,
        "pickup_point": point,
        "idempotency_key": key or f"k-{member}-{product}-{quantity}",
    }


def stock(store: StoreProcess, sid: str) -> dict[str, int]:
    with store.client("host") as client:
        return {c["product_id"]: c["stock"] for c in client.get(f"/sessions/{sid}/cards").json()}


def state(store: StoreProcess, sid: str) -> dict[str, Any]:
    with store.client("host") as client:
        return dict(client.get(f"/sessions/{sid}/state").json())


async def post_all(
    store: StoreProcess, sid: str, bodies: list[dict[str, Any]]
) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {store.token('ingest')}"}
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(
        base_url=store.url, headers=headers, timeout=60, limits=limits
    ) as client:
        return list(
            await asyncio.gather(
                *(client.post(f"/api/v1/sessions/{sid}/orders", json=b) for b in bodies)
            )
        )


def test_200_buyers_for_50_units(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    buyers = [m for members in shop["members"].values() for m in members][:200]
    bodies = [order(member) for member in buyers]
    answers = run_async(post_all(store, sid, bodies))
    won = [a for a in answers if a.status_code == 201]
    lost = [a for a in answers if a.status_code != 201]
    assert len(won) == 50
    assert {a.status_code for a in lost} == {409}
    assert {a.json()["error"] for a in lost} == {"product_id: 已售罄"}
    assert stock(store, sid)["p-pack"] == 0
    # Everybody retries with the same key: the winners get their order back, nobody a second.
    again = run_async(post_all(store, sid, bodies))
    replayed = {a.json()["order_id"] for a in again if a.status_code == 201}
    assert replayed == {a.json()["order_id"] for a in won}
    assert all(a.headers.get("idempotent-replay") == "true" for a in again if a.status_code == 201)
    room = state(store, sid)
    assert room["orders"] == 50
    assert room["units_by_product"]["p-pack"] == 50
    assert room["stock_left"]["p-pack"] == 0
    with open_db(store.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM live_orders").fetchone()[0] == 50
        assert (
            conn.execute("SELECT count(*) FROM events WHERE type = 'order_placed'").fetchone()[0]
            == 50
        )


def test_the_member_limit_holds_under_concurrency(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    member = shop["members"]["S4"][0]
    bodies = [order(member, "p-capped", key=f"cap-{n:04d}") for n in range(20)]
    answers = run_async(post_all(store, shop["sid"], bodies))
    assert sum(a.status_code == 201 for a in answers) == 2
    refused = {a.json()["error"] for a in answers if a.status_code != 201}
    assert refused == {"quantity: 超过每人限购 2 件（已买 2 件）"}
    assert stock(store, shop["sid"])["p-capped"] == 98


def test_each_circle_pays_its_own_price(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    with store.client("ingest") as client:
        s1 = client.post(f"/sessions/{sid}/orders", json=order(shop["members"]["S1"][0])).json()
        s6 = client.post(f"/sessions/{sid}/orders", json=order(shop["members"]["S6"][0])).json()
        s4 = client.post(f"/sessions/{sid}/orders", json=order(shop["members"]["S4"][1])).json()
        offers = client.get(
            f"/sessions/{sid}/offers", params={"member_id": shop["members"]["S1"][1]}
        ).json()["cards"]
        guest = client.get(f"/sessions/{sid}/offers").json()["cards"]
    assert (s1["unit_price"], s1["perk"], s1["tier"]) == (253.3, "定制冰杯", "S1")
    assert (s6["unit_price"], s6["tier"]) == (268.2, "S6")
    assert (s4["unit_price"], s4["tier"]) == (298.0, None)  # no own terms: standard
    assert [c["product_id"] for c in offers] == ["p-pack", "p-limited", "p-capped"]
    assert [c["product_id"] for c in guest] == ["p-pack", "p-capped"]  # the S1 edition is hidden
    room = state(store, sid)
    assert room["gmv"] == pytest.approx(253.3 + 268.2 + 298.0)
    assert room["gmv_by_segment"]["S1"] == pytest.approx(253.3)
    assert room["buyers"] == 3


def test_refusals_name_the_problem_and_change_nothing(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    s4 = shop["members"]["S4"][2]
    s1 = shop["members"]["S1"][2]
    with open_db(store.db_path) as conn:
        conn.execute("UPDATE members SET lat = 30.26, lon = 120.13 WHERE id = ?", [s4])
    before_stock, before_seq = stock(store, sid), state(store, sid)["seq"]
    cases = [
        (order(s4, "p-nothing"), 404, "product_id"),
        (order("m-nobody"), 404, "member_id"),
        (order(s4, "p-limited"), 403, "product_id"),
        (order(s4, quantity=0), 422, "body.quantity"),
        (order(s4, quantity=100), 422, "body.quantity"),
        (order(s4, point=None), 422, "pickup_point"),
        (order(s4, point="pt-moon"), 404, "pickup_point"),
        (order(s1, "p-limited", quantity=2), 409, "quantity"),
    ]
    with store.client("ingest") as client:
        for body, status, field in cases:
            response = client.post(f"/sessions/{sid}/orders", json=body)
            assert (response.status_code, response.json()["problems"][0]["field"]) == (
                status,
                field,
            ), body
        hint = client.post(f"/sessions/{sid}/orders", json=order(s4, point=None)).json()
        assert "离会员最近的是 pt-xihu（西湖店）" in hint["error"]
        first = client.post(f"/sessions/{sid}/orders", json=order(s1, key="same-key-123"))
        assert first.status_code == 201
        reused = client.post(
            f"/sessions/{sid}/orders", json=order(s1, quantity=2, key="same-key-123")
        )
        assert (reused.status_code, reused.json()["problems"][0]["field"]) == (
            409,
            "idempotency_key",
        )
    with store.client("host") as client:
        assert client.post(f"/sessions/{sid}/orders", json=order(s4)).status_code == 403
    after = stock(store, sid)
    assert after["p-pack"] == before_stock["p-pack"] - 1  # only the one good order
    assert after["p-limited"] == before_stock["p-limited"]
    assert state(store, sid)["seq"] == before_seq + 1


def test_no_orders_outside_a_live_session(store: StoreProcess, shop: dict[str, Any]) -> None:
    with store.client("operator") as client:
        client.patch(f"/sessions/{shop['sid']}", json={"status": "ended"})
    with store.client("ingest") as client:
        response = client.post(
            f"/sessions/{shop['sid']}/orders", json=order(shop["members"]["S4"][0])
        )
    assert response.status_code == 409
    assert response.json()["error"] == "sid: 本场已结束，不在直播中"


def test_nearest_pickup_point_for_a_member(store: StoreProcess, shop: dict[str, Any]) -> None:
    member, nowhere = shop["members"]["S3"][:2]
    with open_db(store.db_path) as conn:
        conn.execute("UPDATE members SET lat = 30.236, lon = 120.243 WHERE id = ?", [member])
        conn.execute("UPDATE members SET lat = NULL, lon = NULL WHERE id = ?", [nowhere])
    with store.client("ingest") as client:
        nearest = client.get("/pickup-points/nearest", params={"member_id": member}).json()
        unknown = client.get("/pickup-points/nearest", params={"member_id": "m-nobody"})
        no_location = client.get("/pickup-points/nearest", params={"member_id": nowhere})
    assert (nearest["id"], nearest["leader"]) == ("pt-binjiang", "李团长")
    assert nearest["km"] == pytest.approx(haversine_km(30.236, 120.243, 30.2084, 120.212), abs=1e-3)
    # An unknown member and a member without a location are different answers.
    assert unknown.status_code == 404
    assert unknown.json()["problems"] == [
        {"field": "member_id", "reason": "没有这位会员：'m-nobody'"}
    ]
    assert no_location.status_code == 409
    problem = no_location.json()["problems"][0]
    assert problem["field"] == "lat"
    assert problem["reason"].startswith(f"该会员没有位置：会员 {nowhere!r} 没有 lat、lon")


def test_locations_are_assigned_to_their_nearest_points_in_bulk(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    # 浙大玉泉 by the West Lake, 钱江世纪城 across the river by 滨江.
    body = {"locations": [{"lat": 30.2650, "lon": 120.1230}, {"lat": 30.2360, "lon": 120.2430}]}
    with store.client("ingest") as client:
        answer = client.post("/pickup-points/assign", json=body)
        bad = client.post("/pickup-points/assign", json={"locations": [{"lat": 91, "lon": 0}]})
    assert answer.status_code == 200, answer.text
    assigned = answer.json()["assigned"]
    assert [a["point_id"] for a in assigned] == ["pt-xihu", "pt-binjiang"]
    expected = haversine_km(30.2650, 120.1230, 30.2431, 120.15)
    assert assigned[0]["km"] == pytest.approx(expected, abs=1e-3)
    assert bad.status_code == 422
    assert "lat" in bad.json()["error"]


def referral_code(store: StoreProcess, sid: str, member: str) -> str:
    """Share the room as ``member``; the store's code for them (from the share event)."""
    with store.client("ingest") as client:
        before = client.get(f"/sessions/{sid}/referral-codes/{member}")
        post(store, sid, [event("share", member, channel="wechat_group")])
        first = client.get(f"/sessions/{sid}/referral-codes/{member}")
        post(store, sid, [event("share", member, channel="moments")])
        again = client.get(f"/sessions/{sid}/referral-codes/{member}")
    assert before.status_code == 404  # no share, no code
    assert first.status_code == 200, first.text
    assert again.json() == first.json()  # one code per member and session
    return str(first.json()["code"])


def test_a_cancelled_or_refunded_imported_order_leaves_its_buyer_a_new_customer(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    with open_db(store.db_path) as conn:
        never = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM members WHERE opted_out = 0 AND id NOT IN "
                "(SELECT member_id FROM orders) ORDER BY id LIMIT 3"
            )
        ]
        conn.executemany(
            "INSERT INTO orders (order_id, member_id, ts, amount, status, imported_at) "
            "VALUES (?, ?, 1.7e9, 99, ?, 1.7e9)",
            [
                (f"imp-{m}", m, status)
                for m, status in zip(never, ("cancelled", "refunded", "paid"), strict=True)
            ],
        )
    with store.client("ingest") as client:
        answers = [
            client.post(f"/sessions/{shop['sid']}/orders", json=order(m)).json() for m in never
        ]
    assert [a["new_customer"] for a in answers] == [True, True, False]
