"""The operator's segmentation API over a real store seeded with the demo brand."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from console.store.schedule import scheduled_work
from console.store.schema import open_store
from console.store.segmentation import run_segmentation
from tests.helpers import StoreProcess

DATA = Path(__file__).resolve().parent.parent / "data"
RETAIL_MAP = (
    "order_id=InvoiceNo,member_id=CustomerID,ts=InvoiceDate,quantity=Quantity,unit_price=UnitPrice"
)


def test_overview_reports_the_latest_run(shared_store: StoreProcess) -> None:
    with shared_store.client("operator") as client:
        overview = client.get("/segmentation").json()
    latest = overview["latest"]
    assert latest["members"] == 2000
    assert sum(latest["counts"].values()) == 2000
    assert latest["rules_version"] == overview["rules_version"]
    assert {t["to"] for t in latest["transitions"]} <= set(latest["counts"])
    assert overview["runs"][0]["id"] == latest["id"]


def test_member_list_by_circle_is_masked_unless_revealed(shared_store: StoreProcess) -> None:
    with shared_store.client("operator") as client:
        counts = client.get("/segmentation").json()["latest"]["counts"]
        page = client.get("/members", params={"segment": "S1", "limit": 500}).json()
        revealed = client.get("/members", params={"segment": "S1", "limit": 1, "reveal": True})
    assert page["total"] == counts["S1"] == len(page["members"])
    for member in page["members"]:
        assert member["segment"] == "S1"
        assert "*" in member["nick"]
        assert "name" not in member
        assert "phone" not in member
        if member["override"] is None:
            assert member["explanation"].startswith("S1 钻石核心：规则『")
    one = revealed.json()["members"][0]
    assert len(one["phone"]) == 11
    assert one["name"][0] == one["nick"][0]


def test_member_search(shared_store: StoreProcess) -> None:
    with shared_store.client("operator") as client:
        by_tag = client.get("/members", params={"q": "夏日轻食圈", "limit": 500}).json()
        by_id = client.get("/members", params={"q": "m0000"}).json()
    assert by_tag["total"] == 120
    assert by_id["total"] == 9  # m00001 .. m00009


def test_override_applies_shows_and_reverts(shared_store: StoreProcess) -> None:
    with shared_store.client("operator") as client:
        before = client.get("/members/m00042").json()
        target = "S1" if before["segment"] != "S1" else "S2"
        put = client.put(
            "/members/m00042/override",
            json={"segment": target, "reason": "门店店长推荐的老顾客", "expires_at": "2099-01-01"},
        )
        assert put.status_code == 200, put.text
        after = client.get("/members/m00042").json()
        assert after["segment"] == target
        assert after["override"]["reason"] == "门店店长推荐的老顾客"
        assert after["override"]["author"] == "tests"
        assert after["computed_segment"] == before["computed_segment"]
        assert client.delete("/members/m00042/override").status_code == 204
        assert client.delete("/members/m00042/override").status_code == 404
        restored = client.get("/members/m00042").json()
    assert restored["segment"] == before["computed_segment"]
    assert [a["action"] for a in restored["audit"]][-2:] == ["override_set", "override_revoked"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"segment": "S9", "reason": "x"}, "body.segment"),
        ({"segment": "S1", "reason": ""}, "body.reason"),
        ({"segment": "S1", "reason": "x", "expires_at": "2001-01-01"}, "expires_at"),
    ],
)
def test_bad_overrides_are_named(shared_store: StoreProcess, body: dict, field: str) -> None:
    with shared_store.client("operator") as client:
        response = client.put("/members/m00043/override", json=body)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == field


def test_only_operators_see_members(shared_store: StoreProcess) -> None:
    for role in ("host", "assistant", "ingest"):
        with shared_store.client(role) as client:
            assert client.get("/members").status_code == 403
            assert client.post("/segmentation/runs", json={}).status_code == 403


def test_a_run_waits_for_live_sessions_unless_forced(store: StoreProcess) -> None:
    sid = store.new_session()
    with store.client("operator") as client:
        client.patch(f"/sessions/{sid}", json={"status": "live"})
        refused = client.post("/segmentation/runs", json={})
        assert refused.status_code == 409
        assert refused.json()["problems"][0]["field"] == "force"
        forced = client.post("/segmentation/runs", json={"force": True, "as_of": "2026-11-20"})
    assert forced.status_code == 201
    run = forced.json()
    assert run["as_of"] == "2026-11-20"
    assert run["previous_run"] is not None
    assert run["trigger"] == "api"
    assert run["actor"] == "tests"


def test_a_run_over_a_window_without_orders_names_the_newest_order(store: StoreProcess) -> None:
    with store.client("operator") as client:
        refused = client.post("/segmentation/runs", json={"as_of": "2035-06-01"})
        assert refused.status_code == 409
        problem = refused.json()["problems"][0]
        assert problem["field"] == "as_of"
        assert problem["reason"].startswith("最新订单是 20")
        assert "加大窗口天数" in problem["reason"]
        newest = problem["reason"][len("最新订单是 ") :][:10]
        bad = client.post("/segmentation/runs", json={"window_days": 0})
        assert bad.status_code == 422
        assert bad.json()["problems"][0]["field"].endswith("window_days")
        wide = client.post("/segmentation/runs", json={"as_of": "2035-06-01", "window_days": 5000})
        assert wide.status_code == 201, wide.text
        assert wide.json()["window_days"] == 5000
        at_newest = client.post("/segmentation/runs", json={"as_of": newest})
        assert at_newest.status_code == 201, at_newest.text
        assert client.get("/segmentation").json()["window_days"] == 365


def test_import_through_the_api(shared_store: StoreProcess) -> None:
    body = (DATA / "online_retail_sample.csv").read_bytes()
    with shared_store.client("operator") as client:
        refused = client.post(
            "/imports/orders", params={"map": RETAIL_MAP, "lines": True}, content=body
        )
        assert refused.status_code == 422
        assert refused.json()["problem_count"] == 4
        assert refused.json()["problems"][0] == {
            "field": "CustomerID (member_id)",
            "line": 8,
            "column": "CustomerID (member_id)",
            "reason": "必填",
        }
        applied = client.post(
            "/imports/orders",
            params={"map": RETAIL_MAP, "skip_bad": True, "lines": True, "filename": "retail.csv"},
            content=body,
        )
        assert applied.status_code == 200, applied.text
        assert applied.json()["inserted"] == 11
        assert applied.json()["rejects_csv"].startswith("line,column,reason,InvoiceNo")
        assert client.post("/imports/coupons", content=b"x").status_code == 404
        assert (
            client.post("/imports/orders", params={"map": "price=UnitPrice"}, content=body).json()[
                "problems"
            ][0]["field"]
            == "map"
        )


def test_import_orders_with_status_and_repeated_ids_through_the_api(
    shared_store: StoreProcess,
) -> None:
    body = (
        "A,B,C,D,E\n"
        "api-o1,api-m1,2026-11-01 10:00,72.05,已完成\n"
        "api-o2,api-m1,2026-11-02 10:00,30,已拒收\n"
        "api-o3,api-m2,2026-11-02 10:00,15,退款成功\n"
        "api-o1,api-m1,2026-11-01 10:00,999.99,已完成\n"
    ).encode("gb18030")
    params = {"map": "order_id=A,member_id=B,ts=C,amount=D,status=E", "filename": "shop.csv"}
    with shared_store.client("operator") as client:
        refused = client.post("/imports/orders", params=params, content=body)
        assert refused.status_code == 422
        problems = refused.json()["problems"]
        assert [(p["line"], p["field"]) for p in problems] == [
            (2, "A (order_id)"),
            (3, "E (status)"),
            (5, "A (order_id)"),
        ]
        assert problems[0]["reason"].startswith("'api-o1' 重复：第 2、5 行内容不同")
        assert problems[1]["reason"].startswith("无法识别的订单状态 '已拒收'")
        assert refused.json()["duplicates"] == 2
        bad_words = client.post(
            "/imports/orders", params={**params, "status_map": "已拒收=gone"}, content=body
        )
        assert bad_words.status_code == 422
        assert bad_words.json()["problems"][0]["field"] == "status_map"
        summed = client.post(
            "/imports/orders",
            params={**params, "lines": True, "status_map": "已拒收=cancelled"},
            content=body,
        )
        assert summed.status_code == 200, summed.text
        answer = summed.json()
        assert (answer["rows"], answer["records"], answer["merged"]) == (4, 3, 1)
        assert answer["by_status"] == {"placed": 0, "paid": 1, "cancelled": 1, "refunded": 1}
        assert client.post(
            "/imports/members", params={"lines": True}, content=b"member_id\nx\n"
        ).json()["problems"][0] == {"field": "lines", "reason": "只用于导入订单（orders）"}


def test_scheduled_work_runs_weekly_and_not_during_a_broadcast(tmp_path: Path) -> None:
    store = StoreProcess(tmp_path / "s.db")  # seeded and segmented today
    db = open_store(store.db_path)
    try:
        assert "not due" in scheduled_work(db, time.time)
        db.execute("UPDATE segment_runs SET finished_at = ?", [time.time() - 8 * 86400])
        db.execute(
            "INSERT INTO sessions (id, title, status, created_at, last_seq) "
            "VALUES ('s_live', 'x', 'live', 0, 0)"
        )
        assert "waiting for live sessions" in scheduled_work(db, time.time)
        db.execute("UPDATE sessions SET status = 'ended'")
        assert "segmentation run 2" in scheduled_work(db, time.time)
        assert run_segmentation(db, None, time.time)["previous_run"] == 2
    finally:
        db.close()
