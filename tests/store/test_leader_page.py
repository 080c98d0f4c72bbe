"""The 团长's page and follow-up tasks over HTTP, on a real store (SQLite, and PostgreSQL
when STORE_TEST_POSTGRES is set): scoping to the token's pickup point, refusals, the
idempotent check-off and completion, the phone reveal in the audit log, tasks made twice
stored once, and the report's completion figures."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.resources import resource_path
from tests.helpers import MAIN_PY, StoreProcess, live_show, open_db
from tests.store.test_orders import members_by_segment

pytestmark = pytest.mark.timeout(180)

RULES = resource_path("followups/default.toml")


@dataclass
class Show:
    store: StoreProcess
    sid: str
    point_a: str
    point_b: str
    token_a: str
    token_b: str
    orders: dict[str, str]  # name -> order id
    members: dict[str, str]  # name -> member id


def _order(store: StoreProcess, sid: str, member: str, product: str, qty: int, point: str) -> str:
    body = {
        "member_id": member,
        "product_id": product,
        "quantity": qty,
        "pickup_point": point,
        "idempotency_key": f"leader-{member}-{product}",
    }
    with store.client("ingest") as client:
        answer = client.post(f"/sessions/{sid}/orders", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["order_id"])


def newcomers(store: StoreProcess, n: int) -> list[str]:
    with open_db(store.db_path) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT id FROM members WHERE opted_out = 0 AND phone != '' AND id NOT IN "
                "(SELECT member_id FROM orders) ORDER BY id LIMIT ?",
                [n],
            )
        ]


def open_leader_show(store: StoreProcess, title: str = "鲜直达《夏日轻食计划》团长") -> Show:
    """A live show with orders at two pickup points: at A a new neighbour (an S6 newcomer: a
    welcome, no wake-up call: a first order ever) and an S2 regular; at B another newcomer
    and an S3 buyer of the 298 bundle (the operator's VIP invitation)."""
    sid = live_show(store, title)
    with open_db(store.db_path) as conn:
        a, b = (r[0] for r in conn.execute("SELECT id FROM pickup_points ORDER BY id LIMIT 2"))
    circles = members_by_segment(store)
    new_a, new_b = newcomers(store, 2)
    members = {"new_a": new_a, "new_b": new_b, "s2_a": circles["S2"][0], "s3_b": circles["S3"][0]}
    orders = {
        "new_a": _order(store, sid, new_a, "xzd-chicken", 1, a),
        "s2_a": _order(store, sid, members["s2_a"], "xzd-avocado", 2, a),
        "new_b": _order(store, sid, new_b, "xzd-chicken", 1, b),
        "s3_b": _order(store, sid, members["s3_b"], "xzd-pack", 1, b),
    }
    return Show(
        store, sid, a, b, store.leader_token(a), store.leader_token(b, "B 团长"), orders, members
    )


@pytest.fixture
def show(tmp_path: Path) -> Iterator[Show]:
    store = StoreProcess(tmp_path / "store.db")
    store.start()
    try:
        yield open_leader_show(store)
    finally:
        store.stop()


def leader(show: Show, method: str, path: str, token: str | None) -> httpx.Response:
    params = {"token": token} if token is not None else {}
    return httpx.request(method, f"{show.store.url}/leader{path}", params=params, timeout=10)


def end_and_make_tasks(show: Show, rules: Path = RULES) -> subprocess.CompletedProcess[str]:
    with show.store.client() as client:
        client.patch(f"/sessions/{show.sid}", json={"status": "ended"}).raise_for_status()
    return make_tasks(show, rules)


def make_tasks(show: Show, rules: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(MAIN_PY),
            "followups",
            "create",
            "--db",
            show.store.db_path,
            "--session",
            show.sid,
            "--file",
            str(rules),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_leader_sees_and_touches_only_their_point(show: Show) -> None:
    today = leader(show, "GET", "/today", show.token_a)
    assert today.status_code == 200, today.text
    data: dict[str, Any] = today.json()
    assert data["point"]["id"] == show.point_a
    assert {o["id"] for o in data["orders"]} == {show.orders["new_a"], show.orders["s2_a"]}
    assert data["pickups"] == {
        "orders": 2,
        "picked_up": 0,
        "to_hand_out": 2,
        "awaiting_chain": 0,
        "items": 3,
    }
    assert [n["member_id"] for n in data["neighbours"]] == [show.members["new_a"]]
    with open_db(show.store.db_path) as conn:
        phone = conn.execute(
            "SELECT phone FROM members WHERE id = ?", [show.members["new_a"]]
        ).fetchone()[0]
    assert phone not in today.text  # masked until the leader asks
    assert data["neighbours"][0]["phone_masked"] == phone[:3] + "****" + phone[-4:]
    assert [c["here"] for c in data["chains"]] == []

    # Another point's order, neighbour or anything: not found.
    other = show.orders["new_b"]
    assert leader(show, "POST", f"/orders/{other}/pickup", show.token_a).status_code == 404
    member_b = show.members["new_b"]
    assert leader(show, "POST", f"/neighbours/{member_b}/reveal", show.token_a).status_code == 404
    # Check-off: idempotent, who and when kept; the figures add up.
    first = leader(show, "POST", f"/orders/{show.orders['new_a']}/pickup", show.token_a)
    again = leader(show, "POST", f"/orders/{show.orders['new_a']}/pickup", show.token_a)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    summary = leader(show, "GET", "/today", show.token_a).json()["pickups"]
    assert summary == {
        "orders": 2,
        "picked_up": 1,
        "to_hand_out": 1,
        "awaiting_chain": 0,
        "items": 3,
    }
    assert leader(show, "GET", "/today", show.token_b).json()["pickups"]["picked_up"] == 0
    # The reveal: that one phone, in the audit log with who asked.
    shown = leader(show, "POST", f"/neighbours/{show.members['new_a']}/reveal", show.token_a)
    assert shown.status_code == 200
    assert shown.json()["phone"] == phone
    with open_db(show.store.db_path) as conn:
        audit = conn.execute(
            "SELECT actor, action FROM audit_log WHERE member_id = ? AND action = 'reveal_phone'",
            [show.members["new_a"]],
        ).fetchall()
    assert audit == [(f"tests @{show.point_a}", "reveal_phone")]


def test_the_page_refuses_other_tokens(show: Show) -> None:
    assert leader(show, "GET", "", None).status_code == 401
    wrong = leader(show, "GET", "", "lc_not-a-token")
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("text/html")
    assert "团长" in wrong.text
    for role in ("host", "assistant", "ingest", "operator", "overlay"):
        token = show.store.token(role)
        assert leader(show, "GET", "", token).status_code == 403
        assert leader(show, "GET", "/today", token).status_code == 403
    page = leader(show, "GET", "", show.token_a)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # One font route (console.store.assets) under both pages' prefixes.
    for prefix in ("/leader", "/overlay"):
        font = httpx.get(f"{show.store.url}{prefix}/assets/font.otf", timeout=10)
        assert (font.status_code, font.headers["content-type"]) == (200, "font/otf")
        assert httpx.get(f"{show.store.url}{prefix}/assets/x.otf", timeout=10).status_code == 404
    # A leader token reads nothing of the API but its own tasks.
    headers = {"Authorization": f"Bearer {show.token_a}"}
    with httpx.Client(base_url=show.store.url + "/api/v1", headers=headers, timeout=10) as c:
        for path in (f"/sessions/{show.sid}", f"/sessions/{show.sid}/state", "/members"):
            assert c.get(path).status_code == 403
        assert c.get("/tasks").status_code == 200


def test_the_token_contract_refuses_an_unknown_point(show: Show) -> None:
    def create(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                str(MAIN_PY),
                "token",
                "create",
                "--db",
                show.store.db_path,
                *list(extra),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    unknown = create("--role", "leader", "--leader", "pt-nowhere")
    assert unknown.returncode != 0
    assert "pt-nowhere" in unknown.stderr
    assert create("--role", "leader").returncode != 0  # a 团长 without a point
    made = create("--role", "leader", "--leader", show.point_b)
    assert made.returncode == 0, made.stderr
    today = leader(show, "GET", "/today", made.stdout.strip())
    assert today.json()["point"]["id"] == show.point_b


def returning_sleeper(store: StoreProcess) -> str:
    """An S6 member who had bought before (the show's orders are their first back)."""
    with open_db(store.db_path) as conn:
        row = conn.execute(
            "SELECT id FROM members WHERE segment = 'S6' AND opted_out = 0 AND id IN "
            "(SELECT member_id FROM orders) ORDER BY id LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_tasks_made_twice_done_by_their_owner_only(show: Show, tmp_path: Path) -> None:
    # At A the newcomer (S6, first order ever) gets the welcome only; an S6 member who had
    # bought before and is back gets the wake-up call (唤醒).
    sleeper = returning_sleeper(show.store)
    _order(show.store, show.sid, sleeper, "xzd-avocado", 1, show.point_a)
    live = make_tasks(show, RULES)
    assert live.returncode != 0
    assert "尚未结束" in live.stderr  # not before the show ends
    made = end_and_make_tasks(show)
    assert made.returncode == 0, made.stderr
    assert "新建任务 4，已有 0" in made.stdout
    again = make_tasks(show, RULES)
    assert "新建任务 0，已有 4" in again.stdout

    headers = {"Authorization": f"Bearer {show.token_a}"}
    with httpx.Client(base_url=show.store.url + "/api/v1", headers=headers, timeout=10) as c:
        mine = c.get("/tasks").json()["tasks"]
        assert {(t["rule_id"], t["member_id"]) for t in mine} == {
            ("welcome", show.members["new_a"]),
            ("s6-call", sleeper),
        }
        assert {t["state"] for t in mine} == {"pending"}
        theirs = leader(show, "GET", "/today", show.token_b).json()["tasks"]
        assert {t["member_id"] for t in theirs} == {show.members["new_b"]}
        assert c.post(f"/tasks/{theirs[0]['id']}/done").status_code == 404
        done = c.post(f"/tasks/{mine[0]['id']}/done")
        twice = c.post(f"/tasks/{mine[0]['id']}/done")
        assert done.status_code == twice.status_code == 200
        assert done.json()["done_at"] == twice.json()["done_at"]
        assert (done.json()["state"], twice.json()["already_done"]) == ("on_time", True)
    # On the page too, idempotent; then the operator's report.
    page_done = leader(show, "POST", f"/tasks/{mine[1]['id']}/done", show.token_a)
    assert page_done.status_code == 200
    assert leader(show, "POST", f"/tasks/{theirs[0]['id']}/done", show.token_a).status_code == 404
    with show.store.client() as c:
        report = c.get(f"/sessions/{show.sid}/followups").json()
        vip = list(c.get("/tasks", params={"session": show.sid}).json()["tasks"])
    assert {t["rule_id"] for t in vip} == {"welcome", "s6-call", "vip-invite"}
    by_owner = {r["owner"]: r for r in report["by_owner"]}
    assert by_owner[f"leader:{show.point_a}"]["on_time"] == 2
    assert by_owner[f"leader:{show.point_b}"]["pending"] == 1  # new_b's welcome
    assert by_owner["operator"]["pending"] == 1
    assert report["total"]["total"] == 4
    assert report["outcome"]["done_members"] == 2  # new_a and the sleeper: each task done
    assert report["outcome"]["undone_members"] == 2


def test_a_rule_naming_an_unknown_field_is_refused_with_file_and_line(
    show: Show, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    text = RULES.read_text(encoding="utf-8").replace('"spent >= 298"', '"spend >= 298"')
    bad.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "spend >=" in t)
    refused = end_and_make_tasks(show, bad)
    assert refused.returncode != 0
    assert f"{bad}:{line}" in refused.stderr
    assert "spend" in refused.stderr
    with open_db(show.store.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM followup_tasks").fetchone()[0] == 0


def test_last_nights_orders_stay_on_the_page_next_morning(show: Show) -> None:
    # The show's orders, seen at 09:00 China time the next day: still to hand out; a
    # neighbour of 8 days ago is off the page, and their phone cannot be revealed.
    from console.domain.decisions import Refused
    from console.domain.leader import DAY_S, day_start
    from console.store import leader as store_leader
    from console.store.schema import connect

    conn = connect(show.store.db_path)
    try:
        placed = float(
            conn.execute(
                "SELECT created_at FROM live_orders WHERE id = ?", [show.orders["new_a"]]
            ).fetchone()[0]
        )
        morning = day_start(placed) + DAY_S + 9 * 3600
        page = store_leader.leader_today(conn, show.point_a, morning)
        assert {o["id"] for o in page["orders"]} == {show.orders["new_a"], show.orders["s2_a"]}
        assert {o["state_label"] for o in page["orders"]} == {"待提"}
        assert page["pickups"]["orders"] == 2
        assert page["pickups"]["to_hand_out"] == 2
        later = day_start(placed) + 8 * DAY_S + 9 * 3600
        assert store_leader.leader_today(conn, show.point_a, later)["orders"] == []
        assert store_leader.leader_today(conn, show.point_a, later)["neighbours"] == []
        with pytest.raises(Refused) as old:
            store_leader.reveal_phone(conn, show.point_a, show.members["new_a"], "t", later)
        assert old.value.refusal.field == "member_id"
        shown = store_leader.reveal_phone(conn, show.point_a, show.members["new_a"], "t", morning)
        assert shown["phone"]
    finally:
        conn.close()


def test_an_order_of_an_open_chain_is_not_handed_out(show: Show) -> None:
    body = {
        "command_id": "cmd-open-leader",
        "product_id": "xzd-pack",
        "threshold": 3,
        "cap": 10,
        "deadline_minutes": 30,
    }
    with show.store.client("assistant") as client:
        opened = client.post(f"/sessions/{show.sid}/chains", json=body)
    assert opened.status_code == 201, opened.text
    chain = opened.json()["chain_id"]
    entry = {
        "member_id": show.members["s2_a"],
        "product_id": "xzd-pack",
        "quantity": 1,
        "pickup_point": show.point_a,
        "idempotency_key": "leader-chain-entry",
        "chain_id": chain,
    }
    with show.store.client("ingest") as client:
        made = client.post(f"/sessions/{show.sid}/orders", json=entry)
    assert made.status_code == 201, made.text
    order_id = str(made.json()["order_id"])
    data = leader(show, "GET", "/today", show.token_a).json()
    listed = {o["id"]: o["state_label"] for o in data["orders"]}
    assert listed[order_id] == "待成团"
    assert data["pickups"]["awaiting_chain"] == 1
    assert data["pickups"]["orders"] == (
        data["pickups"]["picked_up"]
        + data["pickups"]["to_hand_out"]
        + data["pickups"]["awaiting_chain"]
    )
    refused = leader(show, "POST", f"/orders/{order_id}/pickup", show.token_a)
    assert refused.status_code == 409, refused.text
    assert order_id in refused.json()["problems"][0]["reason"]
    assert "待成团" in refused.json()["problems"][0]["reason"]


def test_a_rehearsal_hands_a_leader_no_work(show: Show) -> None:
    # A rehearsal (彩排) at the same point: a newcomer's order and an open 接龙. None of it
    # reaches the 团长's page (orders, new neighbours, chains), and no follow-up task is made
    # for it: the README's "a rehearsal must hand nobody work".
    import tomllib

    from tests.helpers import XIANZHIDA_CATALOG

    store = show.store
    before = leader(show, "GET", "/today", show.token_a).json()
    spec = tomllib.loads(resource_path(XIANZHIDA_CATALOG).read_text(encoding="utf-8"))
    with store.client("operator") as client:
        made = client.post("/sessions", json={"title": "彩排", "clock": "rehearsal"})
        assert made.status_code == 201, made.text
        rehearsal = str(made.json()["id"])
        assert client.put(f"/sessions/{rehearsal}/catalog", json=spec).status_code == 200
        client.patch(f"/sessions/{rehearsal}", json={"status": "live"}).raise_for_status()
    newcomer = newcomers(store, 3)[2]  # the first two are the show's new_a and new_b
    assert newcomer not in show.members.values()
    order_id = _order(store, rehearsal, newcomer, "xzd-chicken", 1, show.point_a)
    body = {
        "command_id": "cmd-open-rehearsal",
        "product_id": "xzd-pack",
        "threshold": 3,
        "cap": 10,
        "deadline_minutes": 30,
    }
    with store.client("assistant") as client:
        opened = client.post(f"/sessions/{rehearsal}/chains", json=body)
    assert opened.status_code == 201, opened.text
    with open_db(store.db_path) as conn:
        placed = conn.execute(
            "SELECT pickup_point FROM live_orders WHERE id = ?", [order_id]
        ).fetchone()
    assert placed == (show.point_a,)  # the rehearsal's order is at the point...
    today = leader(show, "GET", "/today", show.token_a).json()
    # ... and off its page: the show's orders and neighbours only, no rehearsal 接龙.
    assert {o["id"] for o in today["orders"]} == {o["id"] for o in before["orders"]}
    assert order_id not in {o["id"] for o in today["orders"]}
    assert [n["member_id"] for n in today["neighbours"]] == [show.members["new_a"]]
    assert today["chains"] == []
    assert today["pickups"] == before["pickups"]
    revealed = leader(show, "POST", f"/neighbours/{newcomer}/reveal", show.token_a)
    assert revealed.status_code == 404

    with store.client("operator") as client:
        client.patch(f"/sessions/{rehearsal}", json={"status": "ended"}).raise_for_status()
    refused = make_tasks(Show(**{**show.__dict__, "sid": rehearsal}), RULES)
    assert refused.returncode != 0
    assert "本场是彩排，不生成回访任务" in refused.stderr
    with open_db(store.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM followup_tasks").fetchone()[0] == 0


def test_a_leader_sees_only_the_chains_of_shows_with_orders_at_their_point(
    store: StoreProcess,
) -> None:
    # Two live shows with a 接龙 each: the open one has an order at pt-xihu; the private S1
    # session has none there. pt-xihu's 团长 sees the first only; a point with no order in
    # either sees no 接龙 (nor the private session's title).
    from tests.store.test_chains_api import enter, open_chain
    from tests.store.test_orders import open_shop

    members = members_by_segment(store)
    shown = open_shop(store, "夏日冰饮季")
    private = open_shop(store, "S1 私享会·不公开")
    chain = open_chain(store, shown).json()["chain_id"]
    open_chain(store, private, key="cmd-chain-private")
    assert enter(store, shown, members["S2"][0], chain).status_code == 201
    with open_db(store.db_path) as conn:
        other = conn.execute(
            "SELECT id FROM pickup_points WHERE id <> 'pt-xihu' ORDER BY id LIMIT 1"
        ).fetchone()[0]
    here = httpx.get(
        f"{store.url}/leader/today", params={"token": store.leader_token("pt-xihu")}, timeout=10
    ).json()["chains"]
    assert [(c["id"], c["here"]) for c in here] == [(chain, 1)]
    elsewhere = httpx.get(
        f"{store.url}/leader/today", params={"token": store.leader_token(other, "B")}, timeout=10
    )
    assert elsewhere.json()["chains"] == []
    assert "私享会" not in elsewhere.text
