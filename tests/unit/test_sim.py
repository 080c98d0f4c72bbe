"""Scenarios, the demo member base and the deterministic planner."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from console.domain.segments import Segment
from console.resources import resource_path
from console.sim import demo_members, planner, scenario


def test_shipped_demo_members_match_the_generator() -> None:
    shipped = resource_path(demo_members.DEMO_MEMBERS).read_text(encoding="utf-8")
    assert shipped == demo_members.to_csv(demo_members.generate())


def test_the_light_meal_circle_has_120_members_with_5_kocs() -> None:
    circle = [m for m in demo_members.load_demo_members() if "夏日轻食圈" in m["tags"].split(";")]
    assert len(circle) == 120
    assert sum(m["influencer"] for m in circle) == 5


def test_every_scenario_named_in_the_contract_that_exists_loads() -> None:
    assert "xianzhida-summer-light" in scenario.available()
    for name in scenario.available():
        assert scenario.load(name).name == name


def test_plan_is_deterministic_and_matches_the_scenario() -> None:
    chosen = scenario.load("xianzhida-summer-light")
    members = demo_members.load_demo_members()
    first = planner.plan(chosen, members)
    assert first == planner.plan(chosen, members)
    offsets = [p.offset_s for p in first]
    assert offsets == sorted(offsets)
    assert offsets[-1] <= chosen.duration_minutes * 60
    ids = [p.event["id"] for p in first if p.kind == "event"]
    assert len(set(ids)) == len(ids)
    commands = [p.event for p in first if p.kind == "command"]
    assert [c["type"] for c in commands[:3]] == [
        "present_product",
        "post_notice",
        "present_product",
    ]
    assert len({c["command_id"] for c in commands}) == len(commands)
    assert not [p for p in first if p.kind == "order"]  # no pickup points, no orders
    joined = {
        p.event["member_id"]
        for p in first
        if p.kind == "event" and p.event["type"] == "viewer_joined"
    }
    assert len(joined) == chosen.watchers == 105
    circle = {m["id"] for m in planner.audience(chosen, members)}
    assert joined <= circle


def test_segments_take_part_at_different_rates() -> None:
    chosen = scenario.load("xianzhida-summer-light")
    members = demo_members.load_demo_members()
    segment_of = {m["id"]: m["persona"] for m in members}
    plan = planner.plan(chosen, members)
    comments = Counter(
        segment_of[p.event["member_id"]] for p in plan if p.event["type"] == "comment"
    )
    watchers = Counter(
        segment_of[p.event["member_id"]] for p in plan if p.event["type"] == "viewer_joined"
    )
    per_watcher = {s: comments[s] / watchers[s] for s in watchers}
    assert per_watcher["S3"] > 2 * per_watcher["S6"]


def test_a_broken_scenario_names_file_and_field(tmp_path: Path) -> None:
    source = scenario.SCENARIO_DIR / "xianzhida-summer-light.toml"
    broken = tmp_path / "broken.toml"
    broken.write_text(source.read_text(encoding="utf-8").replace("watchers = 105", ""), "utf-8")
    with pytest.raises(
        scenario.ScenarioError, match=r"broken\.toml: audience\.watchers: Field required"
    ):
        scenario.parse(broken)
    broken.write_text("name = [", "utf-8")
    with pytest.raises(scenario.ScenarioError, match=r"broken\.toml"):
        scenario.parse(broken)


def test_unknown_scenario_lists_the_available_ones() -> None:
    with pytest.raises(scenario.ScenarioError, match="xianzhida-summer-light"):
        scenario.load("no-such-show")


def test_watchers_buy_what_is_presented_while_they_are_in_the_room() -> None:
    chosen = dataclasses.replace(
        scenario.load("xianzhida-summer-light"),
        order_rates=dict.fromkeys(Segment, 0.1),
        chain_join=0.9,
        referred=0.5,
        buyers=None,
    )
    members = demo_members.load_demo_members()
    points = demo_members.load_demo_points()
    plan = planner.plan(chosen, members, points)
    orders = [p for p in plan if p.kind == "order"]
    assert orders
    keys = [o.event["idempotency_key"] for o in orders]
    assert len(set(keys)) == len(keys)  # one order per member and product
    presented = [
        (p.offset_s, p.event["product_id"])
        for p in plan
        if p.kind == "command" and p.event["type"] == "present_product"
    ]
    point_ids = {p.id for p in points}
    present: dict[str, bool] = {}
    for item in plan:
        if item.kind == "event" and item.event["type"] in ("viewer_joined", "viewer_left"):
            present[item.event["member_id"]] = item.event["type"] == "viewer_joined"
        if item.kind != "order":
            continue
        body = item.event
        assert present.get(body["member_id"]), "only watchers in the room order"
        on_show = [product for at, product in presented if at <= item.offset_s][-1]
        assert body["product_id"] == on_show
        assert body["pickup_point"] in point_ids
        assert body.get("referrer_member") != body["member_id"]
    assert any("chain_product" in o.event for o in orders)


def test_seed_003_buyers_join_the_chain_kocs_first() -> None:
    chosen = scenario.load("xianzhida-summer-light")
    members = demo_members.load_demo_members()
    plan = planner.plan(chosen, members, demo_members.load_demo_points())
    orders = [p for p in plan if p.kind == "order" and "flash" not in p.event["idempotency_key"]]
    assert len(orders) == 82
    assert len({o.event["member_id"] for o in orders}) == 82
    assert all(o.event["chain_product"] == "xzd-pack" for o in orders)
    assert all(55 * 60 <= o.offset_s <= 60 * 60 for o in orders)
    influencer = {m["id"] for m in members if m["influencer"]}
    circle_kocs = {m["id"] for m in planner.audience(chosen, members)} & influencer
    assert len(circle_kocs) == 5
    assert {o.event["member_id"] for o in orders[:5]} == circle_kocs  # the KOCs order first
    watched = {
        p.event["member_id"]
        for p in plan
        if p.kind == "event" and p.event["type"] == "viewer_joined"
    }
    assert {o.event["member_id"] for o in orders} <= watched
    opened = [p for p in plan if p.kind == "command" and p.event["type"] == "open_chain"]
    assert opened[0].offset_s == 55 * 60  # 20:55


def test_seed_002_population_and_buyers() -> None:
    from console.sim import population

    chosen = scenario.load("yuanmu-spring-milk")
    assert chosen.population is not None
    members = population.members(chosen, chosen.population)
    points = population.points(chosen, chosen.population)
    assert members == population.members(chosen, chosen.population)  # deterministic
    assert len(members) == 24_000
    assert len({p.id for p in points}) == 800
    assert all(m["tags"] == "春日鲜奶节" for m in members)
    plan = planner.plan(chosen, members, points)
    orders = [p.event for p in plan if p.kind == "order"]
    assert len(orders) == 21_000
    assert len({o["member_id"] for o in orders}) == 21_000
    assert {o["pickup_point"] for o in orders} <= {p.id for p in points}
    cancelled = sum(1 for o in orders if o.get("cancel_later"))
    assert 0.025 < cancelled / len(orders) < 0.035


def test_a_scaled_scenario_keeps_its_proportions() -> None:
    from console.sim import population

    full = scenario.load("yuanmu-spring-milk")
    tenth = scenario.scaled(full, 0.1)
    assert tenth.population is not None
    assert tenth.buyers is not None
    assert (tenth.population.members, tenth.population.pickup_points) == (2_400, 80)
    assert (tenth.watchers, tenth.buyers.count) == (2_200, 2_100)
    assert tenth.restock == {"ym-milk": 3_000, "ym-sakura": 500}
    assert (tenth.rates, tenth.script, tenth.catalog) == (full.rates, full.script, full.catalog)
    assert tenth.buyers.cancel_share == 0.03
    members = population.members(tenth, tenth.population)
    points = population.points(tenth, tenth.population)
    orders = [p.event for p in planner.plan(tenth, members, points) if p.kind == "order"]
    assert len({o["member_id"] for o in orders}) == 2_100
    assert {o["pickup_point"] for o in orders} <= {p.id for p in points}
    cancelled = sum(1 for o in orders if o.get("cancel_later"))
    assert 0.02 < cancelled / len(orders) < 0.04
    assert scenario.scaled(full, 1) is full
    series = scenario.load("zhenchun-summer-ice")
    half = scenario.scaled(series, 0.5)
    assert len(half.sessions) == len(series.sessions) == 4
    for cut, one in zip(half.sessions, series.sessions, strict=True):
        assert cut.watchers == max(1, round(one.watchers * 0.5)) < one.watchers
    for bad in (0, 1.5):
        with pytest.raises(scenario.ScenarioError, match="scale"):
            scenario.scaled(full, bad)


def test_seed_003_flash_buyers_buy_in_the_sale_while_in_the_room() -> None:
    """The 秒杀 on cherries (minute 23, 5 minutes, S2/S3/S5, two a member): 12 watchers of
    those circles who are in the room then each order 1 or 2 boxes while it runs."""
    chosen = scenario.load("xianzhida-summer-light")
    members = demo_members.load_demo_members()
    plan = planner.plan(chosen, members, demo_members.load_demo_points())
    [sale] = [p for p in plan if p.kind == "command" and p.event["type"] == "start_flash_sale"]
    assert sale.event["circles"] == ["S2", "S3", "S5"]
    ends = sale.offset_s + sale.event["minutes"] * 60
    flash = [p for p in plan if p.kind == "order" and "flash" in p.event["idempotency_key"]]
    assert len(flash) == chosen.flash_buyers == 12
    persona = {m["id"]: m["persona"] for m in members}
    online: set[str] = set()
    for item in plan:
        if item.kind == "event" and item.event["type"] == "viewer_joined":
            online.add(item.event["member_id"])
        elif item.kind == "event" and item.event["type"] == "viewer_left":
            online.discard(item.event["member_id"])
        elif item in flash:
            assert item.event["member_id"] in online
            assert sale.offset_s < item.offset_s < ends
            assert persona[item.event["member_id"]] in sale.event["circles"]
            assert 1 <= item.event["quantity"] <= sale.event["limit_per_member"]
            assert item.event["product_id"] == "xzd-cherry"
    [draw] = [p for p in plan if p.kind == "command" and p.event["type"] == "start_draw"]
    assert draw.event["circles"] == ["S3", "S4", "S6"]
    assert draw.event["must_comment"] is True
