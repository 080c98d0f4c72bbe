"""KOC referrals, new customers and each 团长's new neighbours, over real HTTP."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.helpers import StoreProcess, open_db
from tests.store.test_orders import order, referral_code, shop, state

__all__ = ["shop"]


def newcomers_and_koc(store: StoreProcess) -> tuple[list[str], str]:
    with open_db(store.db_path) as conn:
        never = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM members WHERE opted_out = 0 AND id NOT IN "
                "(SELECT member_id FROM orders) ORDER BY id LIMIT 3"
            )
        ]
        koc = conn.execute("SELECT id FROM members WHERE koc = 1 ORDER BY id").fetchone()[0]
    return never, koc


def buy(store: StoreProcess, sid: str, body: dict[str, Any]) -> Any:
    with store.client("ingest") as client:
        return client.post(f"/sessions/{sid}/orders", json=body)


def test_referrals_and_new_neighbours(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    (first, second, _), koc = newcomers_and_koc(store)
    regular = shop["members"]["S2"][0]
    code = referral_code(store, sid, koc)
    a = buy(store, sid, {**order(first, key="ref-a-0001"), "referrer": code}).json()
    b = buy(
        store, sid, {**order(second, key="ref-b-0001", point="pt-binjiang"), "referrer": code}
    ).json()
    again = buy(store, sid, {**order(first, "p-capped", key="ref-a-0002"), "referrer": code})
    again = again.json()
    c = buy(store, sid, {**order(regular, key="ref-c-0001"), "referrer": code}).json()
    assert a["referrer"] == koc
    assert (a["new_customer"], b["new_customer"]) == (True, True)
    assert (again["new_customer"], c["new_customer"]) == (False, False)  # not new any more
    room = state(store, sid)
    assert room["new_customers"] == 2
    assert room["new_customer_orders"] == 2
    assert room["new_by_point"] == {"pt-xihu": 1, "pt-binjiang": 1}
    assert room["referrals"][koc]["orders"] == 4
    assert room["referrals"][koc]["new_customers"] == 2
    assert room["referrals"][koc]["gmv"] == round(
        a["amount"] + b["amount"] + again["amount"] + c["amount"], 2
    )
    with store.client("operator") as client:
        points = client.get(f"/sessions/{sid}/new-neighbours").json()["points"]
        revealed = client.get(f"/sessions/{sid}/new-neighbours", params={"reveal": True})
        sheet = client.get(f"/sessions/{sid}/new-neighbours", params={"format": "csv"})
    by_point = {p["pickup_point"]: p for p in points}
    assert by_point["pt-xihu"]["leader"] == "王团长"
    assert [n["member_id"] for n in by_point["pt-xihu"]["neighbours"]] == [first]
    assert "*" in by_point["pt-xihu"]["neighbours"][0]["nick"]
    assert "phone" not in by_point["pt-xihu"]["neighbours"][0]
    assert "phone" in revealed.json()["points"][0]["neighbours"][0]
    rows = list(csv.DictReader(io.StringIO(sheet.text.removeprefix("\ufeff"))))
    assert sheet.headers["content-type"].startswith("text/csv")
    assert {(r["pickup_point"], r["leader"], r["member_id"]) for r in rows} == {
        ("pt-xihu", "王团长", first),
        ("pt-binjiang", "李团长", second),
    }
    with store.client("operator") as client:
        review = client.get(f"/sessions/{sid}/stats").json()["new_neighbours"]
    # The report names the 团长's point as the brand knows it, not by its id (pt-302).
    assert {r["pickup_point"]: r["point_name"] for r in review} == {
        "pt-xihu": "西湖店",
        "pt-binjiang": "滨江店",
    }


def test_bad_referral_codes(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    member, other = shop["members"]["S4"][:2]
    own_code = referral_code(store, sid, member)
    own = buy(store, sid, {**order(member, key="ref-own-01"), "referrer": own_code})
    unknown = buy(store, sid, {**order(member, key="ref-unk-01"), "referrer": "R0000000000"})
    # A member id is not a code, and a code only counts in the session it was issued in.
    not_code = buy(store, sid, {**order(member, key="ref-id-01"), "referrer": other})
    elsewhere = store.new_session("另一场")
    with store.client("operator") as client:
        client.put(f"/sessions/{elsewhere}/catalog", json={"lineup": ["p-pack"]})
        client.patch(f"/sessions/{elsewhere}", json={"status": "live"})
    foreign = buy(store, elsewhere, {**order(other, key="ref-far-01"), "referrer": own_code})
    assert (own.status_code, own.json()["problems"][0]["field"]) == (422, "referrer")
    for refused in (unknown, not_code, foreign):
        assert (refused.status_code, refused.json()["problems"][0]["field"]) == (404, "referrer")
    assert state(store, sid)["orders"] == 0
