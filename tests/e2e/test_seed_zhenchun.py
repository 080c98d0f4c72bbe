"""Seed 000 end to end: 臻纯牧场《夏日冰饮季》, four rooms from one segmentation."""

from __future__ import annotations

import pytest

from tests.e2e.scenarios import Played, simulate_in_own_store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


# -- seed 000: 臻纯牧场《夏日冰饮季》, four rooms from one segmentation ---------------------


@pytest.fixture(scope="module")
def zhenchun(tmp_path_factory: pytest.TempPathFactory) -> Played:
    return simulate_in_own_store(
        tmp_path_factory.mktemp("zhenchun"), "zhenchun-summer-ice", timeout=600
    )


def test_zhenchun_runs_four_rooms_each_for_its_own_circles(zhenchun: Played) -> None:
    assert [s["title"] for s, _ in zhenchun] == [
        "臻纯牧场 · 冰爽私享会",
        "臻纯牧场 · 家庭健康冰饮指南",
        "臻纯牧场 · 一起赚个冰凉夏天",
        "臻纯牧场 · 9.9元清凉一夏",
    ]
    for (_session, stats), circles in zip(
        zhenchun, (["S1"], ["S2", "S3"], ["S5"], ["S4", "S6"]), strict=True
    ):
        reached = {s for s, f in stats["by_segment"].items() if f["reached"]}
        assert reached == set(circles)


def test_zhenchun_s1_spends_most_per_buyer_and_per_member(zhenchun: Played) -> None:
    stats = [session_stats for _, session_stats in zhenchun]
    circles = ("S1", "S2", "S3", "S4", "S5", "S6")
    gmv = {s: sum(st["by_segment"][s]["gmv"] for st in stats) for s in circles}
    buyers = {s: sum(st["by_segment"][s]["buyers"] for st in stats) for s in circles}
    reached = {s: sum(st["by_segment"][s]["reached"] for st in stats) for s in circles}
    assert all(buyers[s] > 0 for s in circles)
    per_buyer = {s: gmv[s] / buyers[s] for s in circles}
    per_reached = {s: gmv[s] / reached[s] for s in circles}
    for other in circles[1:]:
        assert per_buyer["S1"] > per_buyer[other]
        assert per_reached["S1"] > per_reached[other]
