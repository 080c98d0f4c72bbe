"""Segmentation runs over a real SQLite store: scores, circles, history, overrides."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from console.demo import seed_demo
from console.domain.decisions import Refused
from console.domain.segments import Segment
from console.store.imports import ImportOptions, import_file, load_mapping_file
from console.store.members import query_members
from console.store.overrides import active_override, audit_trail, revoke_override, set_override
from console.store.schema import open_store
from console.store.segmentation import CHINA, RunRefused, expire_overrides, run_segmentation
from console.store.target import parse_target
from tests.backends import store_target
from tests.data.heavy_tail import HeavyTailBase, generate, load_into

DATA = Path(__file__).resolve().parent.parent / "data"
AS_OF = date(2026, 11, 20)
NOW = datetime(2026, 11, 21, tzinfo=CHINA).timestamp()  # the store's clock in these tests


def clock() -> float:
    return NOW


def stamp(days_before: int) -> str:
    moment = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 20, 0, tzinfo=CHINA)
    return (moment - timedelta(days=days_before)).isoformat()


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_store(store_target(tmp_path, "store"))
    yield database
    database.close()


def load(
    db,
    tmp_path: Path,
    orders: list[tuple[str, str, int, float]],  # type: ignore[no-untyped-def]
    shares: list[tuple[str, int]] = (),
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,member_id,ts,amount\n"
        + "".join(f"{o},{m},{stamp(d)},{a}\n" for o, m, d, a in orders),
        encoding="utf-8",
    )
    assert import_file(db, "orders", path, ImportOptions()).applied
    if shares:
        social = tmp_path / "social.csv"
        social.write_text(
            "member_id,kind,ts\n" + "".join(f"{m},share,{stamp(d)}\n" for m, d in shares),
            encoding="utf-8",
        )
        assert import_file(db, "social", social, ImportOptions()).applied


def scores(db, run_id: int) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    return {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT member_id, r, f, m, x, segment, frequency, monetary FROM member_scores "
            "WHERE run_id = ?",
            [run_id],
        )
    }


def test_a_run_scores_assigns_and_records(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = [(f"B{i}", "big", i * 5, 400.0) for i in range(12)]
    mids = [(f"M{m}{i}", f"mid{m}", 30 + i * 20 + m, 60.0) for m in range(4) for i in range(2)]
    once = [(f"O{m}", f"once{m}", 200 + m, 20.0) for m in range(5)]
    returned = [("R1", "ret", 10, 50.0), ("R1-back", "ret", 8, -80.0)]
    load(db, tmp_path, big + mids + once + returned)
    run = run_segmentation(db, AS_OF, clock, actor="test")
    assert run["members"] == 11
    assert run["rules_version"]
    by_member = scores(db, run["id"])
    r, f, m, x, segment, frequency, monetary = by_member["big"]
    assert (frequency, monetary, segment) == (12, 4800.0, "S1")
    assert (r, f, m, x) == (5, 5, 5, 1)  # top of 11 active members in R, F, M; nobody shared
    # A purchase and a larger return: one order, spend floored at zero.
    assert by_member["ret"][5:] == (1, 0.0)
    # Members whose only order is old: F1 and low recency -> dormant S6.
    assert by_member["once0"][4] == "S6"
    assert sum(run["counts"].values()) == 11
    assert run["transitions"] == [
        {"from": "", "to": s, "members": n} for s, n in sorted(run["counts"].items()) if n
    ]
    member = db.execute("SELECT segment, computed_segment FROM members WHERE id = 'big'")
    assert member.fetchone() == ("S1", "S1")
    assert audit_trail(db, "big") == []  # runs are audited once, not per member
    assert db.execute("SELECT action FROM audit_log").fetchall() == [("segmentation_run",)]


def test_the_next_run_records_who_moved(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    history = [(f"B{i}", "big", i * 5, 400.0) for i in range(12)]
    history += [(f"O{m}", f"once{m}", 250 + m, 20.0) for m in range(5)]
    load(db, tmp_path, history)
    first = run_segmentation(db, AS_OF, clock)
    assert scores(db, first["id"])["once0"][4] == "S6"
    # once0 comes back: twelve recent orders, as big as the top buyer's.
    load(db, tmp_path, [(f"N{i}", "once0", i * 5 + 1, 400.0) for i in range(12)])
    second = run_segmentation(db, AS_OF, clock)
    assert scores(db, second["id"])["once0"][4] == "S1"
    moved = {(t["from"], t["to"]): t["members"] for t in second["transitions"]}
    assert moved[("S6", "S1")] == 1
    assert second["previous_run"] == first["id"]


def test_overrides_survive_runs_until_they_expire(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load(db, tmp_path, [(f"O{m}", f"once{m}", 250 + m, 20.0) for m in range(5)])
    run_segmentation(db, AS_OF, clock)
    now = NOW
    set_override(
        db,
        "once1",
        Segment.S1,
        "品牌大使, 线下活动认识",
        "运营小王",
        expires_at=now + 3 * 86400,
        now=now,
    )
    assert db.execute("SELECT segment FROM members WHERE id = 'once1'").fetchone() == ("S1",)
    rerun = run_segmentation(db, AS_OF, clock)
    row = db.execute(
        "SELECT rule_segment, segment FROM member_scores WHERE run_id = ? AND member_id = 'once1'",
        [rerun["id"]],
    ).fetchone()
    assert row == ("S6", "S1")  # the rules say S6, the override wins
    assert rerun["counts"]["S1"] == 1
    # Three days later the override has run out: the rules' circle is back, and it is logged.
    assert expire_overrides(db, now=now + 3 * 86400 + 1) == 1
    assert db.execute("SELECT segment FROM members WHERE id = 'once1'").fetchone() == ("S6",)
    assert active_override(db, "once1") is None
    actions = [entry["action"] for entry in audit_trail(db, "once1")]
    assert actions == ["override_set", "override_expired"]


def test_revoking_an_override_restores_the_rules_circle(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load(db, tmp_path, [("O1", "m1", 300, 20.0)])
    run_segmentation(db, AS_OF, clock)
    set_override(db, "m1", Segment.S2, "老客户, 换了手机号", "运营", None, NOW)
    assert active_override(db, "m1")["segment"] == "S2"
    assert revoke_override(db, "m1", "运营", NOW)
    assert not revoke_override(db, "m1", "运营", NOW)
    assert db.execute("SELECT segment FROM members WHERE id = 'm1'").fetchone() == ("S6",)
    trail = audit_trail(db, "m1")
    assert [e["action"] for e in trail] == ["override_set", "override_revoked"]
    assert trail[0]["details"]["reason"] == "老客户, 换了手机号"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": " "}, "reason: 必填"),
        ({"expires_at": NOW - 1}, "expires_at: 到期时间必须在将来"),
    ],
)
def test_bad_overrides_are_refused(db, tmp_path: Path, kwargs: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    load(db, tmp_path, [("O1", "m1", 30, 20.0)])
    arguments = {"reason": "因为", "author": "运营", "expires_at": None, "now": NOW, **kwargs}
    with pytest.raises(Refused, match=message):
        set_override(db, "m1", Segment.S1, **arguments)
    assert active_override(db, "m1") is None


def test_the_retail_sample_segments_with_cancellations_taken_out(db) -> None:  # type: ignore[no-untyped-def]
    options = load_mapping_file(DATA / "retail_map.toml", "orders")
    options.skip_bad = True
    import_file(db, "orders", DATA / "online_retail_sample.csv", options)
    run = run_segmentation(db, date(2010, 12, 9), clock)
    by_member = scores(db, run["id"])
    assert by_member["14527"][4:6] == ("S6", 0)  # only a cancellation: no purchase
    assert by_member["17850"][5] == 3  # three invoices by 17850
    assert run["active"] == 7


def test_the_demo_brand_has_a_plausible_mix(tmp_path: Path) -> None:
    run = seed_demo(parse_target(store_target(tmp_path, "demo")))
    share = {s: n / run["members"] for s, n in run["counts"].items()}
    # Seed 001: ~15% high value, ~5% influencers, a large price-sensitive group.
    assert 0.10 <= share["S1"] + share["S2"] <= 0.20
    assert 0.03 <= share["S1"] <= 0.08
    assert 0.03 <= share["S5"] <= 0.09
    assert share["S4"] >= 0.25
    assert max(share.values()) - share["S4"] < 0.02  # the price-sensitive circle leads
    assert 0.15 <= share["S6"] <= 0.30


# -- tracker issue 15: real shops' data ------------------------------------------------------


@pytest.fixture(scope="module")
def heavy_base() -> HeavyTailBase:
    return generate(3_000, seed=15)


def test_old_data_is_refused_until_as_of_or_window_covers_it(db, heavy_base) -> None:  # type: ignore[no-untyped-def]
    load_into(db, heavy_base)
    with pytest.raises(RunRefused) as refused:
        run_segmentation(db, None, clock)  # today: 2026-11-21, eight years on
    verdict = refused.value.verdict
    assert verdict.newest_order == date(2018, 9, 3)
    assert "请用 --as-of 2018-09-03，或加大窗口（--window-days）" in verdict.reason_cli()
    assert str(refused.value).startswith("最新订单是 2018-09-03")
    assert db.execute("SELECT count(*) FROM segment_runs").fetchone() == (0,)
    run = run_segmentation(db, date(2018, 9, 3), clock)
    assert run["window_days"] == 365
    wide = run_segmentation(db, None, clock, window_days=4000)
    assert wide["window_days"] == 4000
    assert wide["active"] > run["active"]
    assert wide["scoring"]["window_days"] == 4000


def test_a_heavy_tailed_base_fills_all_six_circles(db, heavy_base) -> None:  # type: ignore[no-untyped-def]
    load_into(db, heavy_base)
    run = run_segmentation(db, heavy_base.newest, clock)
    share = {s: n / run["members"] for s, n in run["counts"].items()}
    assert all(share[s.value] > 0 for s in Segment), share
    assert share["S6"] == max(share.values())  # an old base: mostly dormant
    assert 0.15 <= share["S4"] <= 0.45
    assert 0.02 <= share["S3"] <= 0.10
    assert 0.005 <= share["S1"] + share["S2"] <= 0.05
    # Nobody with two orders is F5; the biggest recent spenders are not "price-sensitive".
    rows = db.execute(
        "SELECT frequency, f, segment, monetary, recency_days FROM member_scores "
        "WHERE run_id = ? AND frequency > 0",
        [run["id"]],
    ).fetchall()
    assert {f for frequency, f, *_ in rows if frequency == 2} == {2}
    recent = sorted((r for r in rows if r[4] <= 30), key=lambda r: -r[3])[:20]
    assert not [r for r in recent if r[2] == "S4"]


def test_transitions_count_from_the_previous_runs_own_records(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load(db, tmp_path, [(f"O{m}", f"once{m}", 250 + m, 20.0) for m in range(5)])
    first = run_segmentation(db, AS_OF, clock)
    assert first["counts"]["S6"] == 5
    # Between runs: an override moves once1 to S1, and a new member arrives.
    set_override(db, "once1", Segment.S1, "线下认识的团长", "运营", None, NOW)
    load(db, tmp_path, [("N1", "newbie", 1, 30.0)])
    second = run_segmentation(db, AS_OF, clock)
    moved = {(t["from"], t["to"]): t["members"] for t in second["transitions"]}
    # once1 was S6 in the first run (whatever its circle is now): S6 -> S1, not S1 -> S1.
    assert moved == {("S6", "S6"): 4, ("S6", "S1"): 1, ("", second_circle(db, second)): 1}


def second_circle(db, run: dict) -> str:  # type: ignore[no-untyped-def]
    row = db.execute(
        "SELECT segment FROM member_scores WHERE run_id = ? AND member_id = 'newbie'", [run["id"]]
    ).fetchone()
    return str(row[0])


def test_the_member_list_explains_with_the_rule_and_says_no_orders(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = [(f"B{i}", "big", i * 20 + 3, 400.0) for i in range(14)]
    others = [(f"S{i}", f"single{i}", 20 + i * 30, 30.0 + i) for i in range(8)]
    load(db, tmp_path, [*big, *others, ("O1", "old", 400, 20.0), ("O2", "once", 300, 20.0)])
    run_segmentation(db, AS_OF, clock)
    found = {m["id"]: m for m in query_members(db)["members"]}
    assert found["big"]["explanation"].startswith("S1 钻石核心：规则『近期常买且消费最高』命中")
    assert "F≥4（每月≥0.5单）：每月1.2单（14单）" in found["big"]["explanation"]
    assert "消费≥2000元：¥5,600" in found["big"]["explanation"]
    # The order 400 days ago is outside the window: said so, no R, F or M shown.
    assert found["old"]["explanation"] == "S6 沉睡新客：窗口内没有订单（近 365 天无购买）"
    assert found["old"]["in_window"] is False
    assert found["old"]["scores"]["r"] is None
    assert "只买过一次" in found["once"]["explanation"]
