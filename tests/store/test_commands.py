"""Floor-assistant commands over real HTTP: logged as events, idempotent, refused clearly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import StoreProcess, event, open_db, post
from tests.store.test_orders import order, referral_code, shop, state, stock

__all__ = ["shop"]


def command(
    store: StoreProcess,
    sid: str,
    kind: str,
    command_id: str,
    role: str = "assistant",
    **fields: Any,
) -> Any:
    with store.client(role) as client:
        return client.post(
            f"/sessions/{sid}/commands", json={"type": kind, "command_id": command_id, **fields}
        )


def place(store: StoreProcess, sid: str, body: dict[str, Any]) -> dict[str, Any]:
    with store.client("ingest") as client:
        answer = client.post(f"/sessions/{sid}/orders", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def events_of(store: StoreProcess, sid: str, kind: str) -> list[dict[str, Any]]:
    with store.client("host") as client:
        log = client.get(f"/sessions/{sid}/events", params={"after": 0, "limit": 1000}).json()
    return [e for e in log["events"] if e["type"] == kind]


def test_presenting_a_product_is_logged_and_shown(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    answer = command(store, sid, "present_product", "cmd-present-1", product_id="p-pack")
    assert answer.status_code == 200, answer.text
    assert answer.json()["product_name"] == "夏日轻食能量包"
    room = state(store, sid)
    assert room["presenting"] == "p-pack"
    assert events_of(store, sid, "product_presented")[0]["data"]["by"] == "tests"  # token name
    cleared = command(store, sid, "present_product", "cmd-present-2", product_id=None)
    assert cleared.status_code == 200
    assert state(store, sid)["presenting"] is None


def test_stock_adjustments_never_go_below_zero(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    added = command(store, sid, "adjust_stock", "cmd-stock-1", product_id="p-pack", delta=20)
    assert added.json()["stock_left"] == 70
    too_many = command(store, sid, "adjust_stock", "cmd-stock-2", product_id="p-pack", delta=-71)
    assert too_many.status_code == 409
    assert too_many.json()["error"] == "delta: 库存只有 70 件，不能减少 71 件"
    assert stock(store, sid)["p-pack"] == 70
    taken = command(
        store, sid, "adjust_stock", "cmd-stock-3", product_id="p-pack", delta=-70, reason="破损"
    )
    assert taken.json()["stock_left"] == 0
    assert state(store, sid)["stock_left"]["p-pack"] == 0
    with store.client("ingest") as client:
        refused = client.post(f"/sessions/{sid}/orders", json=order(shop["members"]["S3"][0]))
    assert refused.json()["error"] == "product_id: 已售罄"


def test_a_repeated_command_id_is_answered_once_and_a_reused_one_refused(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    first = command(store, sid, "post_notice", "cmd-notice-1", text="20:30 抽3位送定制冰杯")
    again = command(store, sid, "post_notice", "cmd-notice-1", text="20:30 抽3位送定制冰杯")
    assert again.json() == first.json()
    assert again.headers["idempotent-replay"] == "true"
    other = command(store, sid, "post_notice", "cmd-notice-1", text="别的公告")
    assert other.status_code == 409
    assert other.json()["problems"][0]["field"] == "command_id"
    assert [n["text"] for n in state(store, sid)["notices"]] == ["20:30 抽3位送定制冰杯"]


@pytest.mark.parametrize(
    ("role", "status"), [("host", 403), ("ingest", 403), ("assistant", 200), ("operator", 200)]
)
def test_only_the_assistant_and_operator_may_command(
    store: StoreProcess, shop: dict[str, Any], role: str, status: int
) -> None:
    answer = command(store, shop["sid"], "post_notice", f"cmd-role-{role}", role=role, text="hi")
    assert answer.status_code == status


def test_bad_commands_are_refused_with_the_field_and_change_nothing(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    before = state(store, sid)["seq"]
    cases = [
        ({"type": "launch_rocket"}, 422, "type"),
        ({"type": "post_notice", "text": ""}, 422, "text"),
        ({"type": "adjust_stock", "product_id": "p-pack"}, 422, "delta"),
        ({"type": "present_product", "product_id": "nope"}, 404, "product_id"),
        ({"type": "cancel_order", "order_id": "o_missing"}, 404, "order_id"),
        ({"type": "acknowledge_shoutout", "shoutout_id": "so-9-x"}, 409, "shoutout_id"),
    ]
    for n, (body, status, field) in enumerate(cases):
        with store.client("assistant") as client:
            answer = client.post(
                f"/sessions/{sid}/commands", json={"command_id": f"cmd-bad-{n:04d}", **body}
            )
        assert answer.status_code == status, (body, answer.text)
        assert field in answer.json()["error"], (body, answer.json())
    assert state(store, sid)["seq"] == before


def test_commands_need_a_live_session(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    with store.client("operator") as client:
        client.patch(f"/sessions/{sid}", json={"status": "ended"})
    answer = command(store, sid, "post_notice", "cmd-late-1", text="下播了")
    assert answer.status_code == 409
    assert answer.json()["error"] == "sid: 本场已结束，不在直播中"


def test_cancelling_an_order_returns_its_stock_and_frees_the_limit(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    buyer = shop["members"]["S1"][0]
    placed = place(store, sid, order(buyer, "p-limited"))
    assert stock(store, sid)["p-limited"] == 4
    cancel = command(store, sid, "cancel_order", "cmd-cancel-1", order_id=placed["order_id"])
    assert cancel.status_code == 200, cancel.text
    assert stock(store, sid)["p-limited"] == 5
    twice = command(store, sid, "cancel_order", "cmd-cancel-2", order_id=placed["order_id"])
    assert (twice.status_code, twice.json()["error"]) == (
        409,
        "order_id: 订单已取消",
    )
    room = state(store, sid)
    assert (room["orders"], room["cancelled_orders"], room["gmv"]) == (0, 1, 0)
    assert room["stock_left"]["p-limited"] == 5
    # The S1 limit of 1 counts placed orders only: the member may buy again.
    place(store, sid, order(buyer, "p-limited", key="k-again-0001"))
    (cancelled,) = events_of(store, sid, "order_cancelled")
    assert cancelled["member_id"] == buyer
    assert cancelled["data"]["reason"] == "assistant"


def test_shoutouts_are_raised_by_the_log_and_acknowledged_once(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    vip = shop["members"]["S1"][0]
    post(store, sid, [event("viewer_joined", vip), event("comment", vip, text="冰杯是什么颜色？")])
    board = state(store, sid)["shoutouts"]
    assert [s["kind"] for s in board["active"]] == ["vip_question", "vip_arrival"]
    question, arrival = (s["id"] for s in board["active"])
    pin = command(store, sid, "pin_shoutout", "cmd-pin-0001", shoutout_id=arrival)
    assert pin.status_code == 200, pin.text
    assert state(store, sid)["shoutouts"]["active"][0]["id"] == arrival
    ack = command(store, sid, "acknowledge_shoutout", "cmd-ack-0001", shoutout_id=arrival)
    assert ack.status_code == 200
    # Another console acknowledging the same one with its own command id: refused, no event.
    late = command(store, sid, "acknowledge_shoutout", "cmd-ack-0002", shoutout_id=arrival)
    assert late.status_code == 409
    board = state(store, sid)["shoutouts"]
    assert [s["id"] for s in board["active"]] == [question]
    assert board["acknowledged"] == 1
    assert len(events_of(store, sid, "shoutout_acknowledged")) == 1


def test_referral_wins_are_coalesced_with_the_kocs_masked_nick(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    with open_db(store.db_path) as conn:
        koc, nick = conn.execute(
            "SELECT id, nick FROM members WHERE koc = 1 AND nick != '' LIMIT 1"
        ).fetchone()
        fresh = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM members WHERE segment = 'S6' AND opted_out = 0 AND id != ? LIMIT 3",
                [koc],
            )
        ]
    code = referral_code(store, sid, koc)
    for buyer in fresh:
        place(store, sid, {**order(buyer), "referrer": code})
    wins = [s for s in state(store, sid)["shoutouts"]["active"] if s["kind"] == "referral_win"]
    assert len(wins) == 1
    assert wins[0]["count"] == 3
    assert wins[0]["text"] == f"恭喜@{nick}，通过你的分享又有3位新朋友下单了"


def test_the_audience_is_resolved_by_the_store(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    s1 = shop["members"]["S1"]
    with store.client("operator") as client:
        answer = client.put(f"/sessions/{sid}/audience", json={"segments": ["S1"]})
        unknown = client.put(f"/sessions/{sid}/audience", json={"members": ["nobody"]})
        host = client.get(f"/sessions/{sid}").json()
    with open_db(store.db_path) as conn:
        all_s1 = conn.execute("SELECT count(*) FROM members WHERE segment = 'S1'").fetchone()[0]
    assert answer.status_code == 200, answer.text
    assert answer.json()["reached"] == all_s1 >= len(s1)
    assert answer.json()["reached_by_segment"]["S1"] == all_s1
    assert (unknown.status_code, unknown.json()["error"]) == (
        404,
        "members: 没有这些会员：nobody",
    )
    assert host["audience"]["reached"] == all_s1  # the refused change left it as it was
