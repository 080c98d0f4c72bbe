"""30-day repurchase and LTV by circle over real HTTP (SQLite, and PostgreSQL in the second
pass): the figures of ``console.domain.repurchase`` from live and imported orders."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.helpers import StoreProcess, open_db
from tests.store.test_orders import members_by_segment, open_shop, order

DAY = 86_400.0


def add_shop_order(store: StoreProcess, order_id: str, member: str, ts: float, status: str) -> None:
    """An order imported from the shop (yuan), as an import of a later export writes it."""
    with open_db(store.db_path) as db:
        db.execute(
            "INSERT INTO orders (order_id, member_id, ts, amount, items, channel, referrer, "
            "imported_at, status) VALUES (?, ?, ?, ?, '冰酸奶', 'miniapp', '', ?, ?)",
            [order_id, member, ts, 59.9, time.time(), status],
        )


@pytest.fixture
def circles(store: StoreProcess) -> dict[str, list[str]]:
    return members_by_segment(store)


def test_repurchase_per_circle_over_http(
    store: StoreProcess, circles: dict[str, list[str]]
) -> None:
    # Worked by hand: one session, its buyers and their later orders.
    # s1a (S1): two orders in the session, nothing later  -> buyer, no repurchase
    # s1b (S1): one order; a paid shop order 2 days later -> buyer, repurchased
    # s3 (S3): one order; a cancelled shop order later    -> buyer, no repurchase
    # While the show is on there is no window yet: 0 of 3, the same at any moment. Once it
    # ends: S1 1/2, S3 0/1, total 1/3, the window not complete (minutes old).
    # Then the session ends; s3's live order comes back in a shop export (same order id,
    # paid, a day later): the same order, no repurchase. An s1a shop order placed before the
    # end (while the show was on) is no repurchase either.
    s1a, s1b = circles["S1"][:2]
    s3 = circles["S3"][0]
    sid = open_shop(store)
    with store.client("operator") as client:
        for body in (
            order(s1a, key="k-first-a"),
            order(s1a, key="k-second-a"),
            order(s1b),
            order(s3),
        ):
            placed = client.post(f"/sessions/{sid}/orders", json=body)
            assert placed.status_code == 201, placed.text
    add_shop_order(store, "later-1", s1b, time.time() + 2 * DAY, "paid")
    add_shop_order(store, "later-2", s3, time.time() + 2 * DAY, "cancelled")

    with store.client("host") as client:
        response = client.get(f"/sessions/{sid}/repurchase")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == {"buyers": 3, "repurchasers": 0, "repurchase_rate": 0.0}
    assert body["complete"] is False
    assert body["window_ends"] is None
    assert body["label"] == "本场未结束，30天窗口未开始"

    with open_db(store.db_path) as db:
        s3_order = db.execute(
            "SELECT id FROM live_orders WHERE session_id = ? AND member_id = ?", [sid, s3]
        ).fetchone()[0]
    add_shop_order(store, "during-1", s1a, time.time() - 1, "paid")
    with store.client("operator") as client:
        client.patch(f"/sessions/{sid}", json={"status": "ended"}).raise_for_status()
    add_shop_order(store, str(s3_order), s3, time.time() + DAY, "paid")
    with store.client("host") as client:
        ended = client.get(f"/sessions/{sid}/repurchase").json()
    assert ended["total"] == {"buyers": 3, "repurchasers": 1, "repurchase_rate": 0.3333}
    assert ended["by_segment"]["S1"] == {"buyers": 2, "repurchasers": 1, "repurchase_rate": 0.5}
    assert ended["by_segment"]["S3"] == {"buyers": 1, "repurchasers": 0, "repurchase_rate": 0.0}
    assert ended["by_segment"]["S2"]["repurchase_rate"] is None
    assert ended["complete"] is False
    assert ended["days_observed"] == 0
    assert ended["label"] == "未满30天（已观察0天）"
    assert ended["window_days"] == 30


def test_repurchase_roles_and_unknown_session(store: StoreProcess) -> None:
    sid = store.new_session()
    with store.client("ingest") as client:
        assert client.get(f"/sessions/{sid}/repurchase").status_code == 403
    with store.client("host") as client:
        assert client.get("/sessions/nope/repurchase").status_code == 404
        empty = client.get(f"/sessions/{sid}/repurchase").json()
    assert empty["total"]["buyers"] == 0
    assert empty["label"] == "无买家"


def test_ltv_by_circle_over_http(store: StoreProcess, circles: dict[str, list[str]]) -> None:
    with store.client("operator") as client:
        before: dict[str, Any] = client.get("/ltv").json()
    # Worked by hand: an S1 member pays 253.30 live (the S1 price of p-pack), twice; one S4
    # member's shop order of 59.90 is cancelled: S1's spend grows by 506.60, S4's by nothing,
    # the member counts stay. A shop export holding the first live order again (same order
    # id) adds nothing: it is that order.
    sid = open_shop(store)
    s1 = circles["S1"][0]
    placed = []
    with store.client("operator") as client:
        for key in ("k-ltv-one", "k-ltv-two"):
            answer = client.post(f"/sessions/{sid}/orders", json=order(s1, key=key))
            assert answer.status_code == 201
            placed.append(str(answer.json()["order_id"]))
    add_shop_order(store, "void-1", circles["S4"][0], time.time(), "cancelled")
    add_shop_order(store, placed[0], s1, time.time(), "paid")
    with store.client("operator") as client:
        after = client.get("/ltv").json()
    s1_before, s1_after = before["by_segment"]["S1"], after["by_segment"]["S1"]
    with open_db(store.db_path) as db:
        counts = dict(db.execute("SELECT segment, count(*) FROM members GROUP BY segment"))
    assert s1_after["members"] == s1_before["members"] == counts["S1"]
    assert s1_after["spend"] == pytest.approx(s1_before["spend"] + 506.6)
    assert s1_after["ltv"] == pytest.approx(s1_after["spend"] / s1_after["members"], abs=0.006)
    assert after["by_segment"]["S4"] == before["by_segment"]["S4"]
    assert after["total"]["members"] == sum(counts.values())
    with store.client("host") as client:
        assert client.get("/ltv").status_code == 403


def test_ltv_counts_imported_spend_in_the_circle_then(
    store: StoreProcess, circles: dict[str, list[str]]
) -> None:
    # Worked by hand: member m is S1 now; a (future, so no other order of theirs follows it)
    # segmentation run finished at +100 days has them in S4. A paid shop order of 59.90 at
    # +105 days goes to S4 (their circle then), one of 59.90 at +50 days to S1 (the run in
    # force then, or their circle now).
    m = circles["S1"][0]
    now = time.time()
    with store.client("operator") as client:
        before: dict[str, Any] = client.get("/ltv").json()
    with open_db(store.db_path) as db:
        db.execute(
            "INSERT INTO segment_runs (id, as_of, as_of_ts, window_days, rules_version, trigger,"
            " actor, started_at, finished_at) VALUES (9001, '2026-01-01', ?, 365, 'v', 'cli',"
            " 'tests', ?, ?)",
            [now + 100 * DAY, now + 100 * DAY, now + 100 * DAY],
        )
        db.execute(
            "INSERT INTO member_scores (run_id, member_id, recency_days, frequency, monetary,"
            " expansion, r, f, m, x, rule_segment, segment, koc, rule) VALUES"
            " (9001, ?, NULL, 0, 0, 0, 1, 1, 1, 1, 'S4', 'S4', 0, 0)",
            [m],
        )
    add_shop_order(store, "then-s4", m, now + 105 * DAY, "paid")
    add_shop_order(store, "before-run", m, now + 50 * DAY, "paid")
    with store.client("operator") as client:
        after = client.get("/ltv").json()
    assert after["by_segment"]["S4"]["spend"] == pytest.approx(
        before["by_segment"]["S4"]["spend"] + 59.9
    )
    assert after["by_segment"]["S4"]["members"] == before["by_segment"]["S4"]["members"] + 1
    assert after["by_segment"]["S1"]["spend"] == pytest.approx(
        before["by_segment"]["S1"]["spend"] + 59.9
    )
    assert after["by_segment"]["S1"]["members"] == before["by_segment"]["S1"]["members"]
    assert after["total"]["members"] == before["total"]["members"]


def test_a_rehearsals_orders_are_nobodys_purchases(
    store: StoreProcess, circles: dict[str, list[str]]
) -> None:
    # A 彩排's orders are a script's: they leave LTV alone and are no repurchase of another
    # show; the rehearsal's own review still counts its buyers.
    with store.client("operator") as client:
        before: dict[str, Any] = client.get("/ltv").json()
    sid = open_shop(store, "彩排")
    s2 = circles["S2"][0]
    with store.client("operator") as client:
        assert (
            client.post(f"/sessions/{sid}/orders", json=order(s2, key="k-rehearsal")).status_code
            == 201
        )
        counted = client.get("/ltv").json()
    assert counted["by_segment"]["S2"]["spend"] > before["by_segment"]["S2"]["spend"]
    with open_db(store.db_path) as db:
        db.execute("UPDATE sessions SET clock = 'rehearsal' WHERE id = ?", [sid])
        if hasattr(db, "commit"):  # sqlite3's own connection; PostgreSQL's commits each
            db.commit()
    with store.client("operator") as client:
        after = client.get("/ltv").json()
        own = client.get(f"/sessions/{sid}/repurchase").json()
    assert after["by_segment"]["S2"] == before["by_segment"]["S2"]
    assert own["total"]["buyers"] == 1
