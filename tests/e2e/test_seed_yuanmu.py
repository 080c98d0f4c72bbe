"""Seed 002 end to end: 源牧乳业《春日鲜奶节》 played once, checked by several tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.scenarios import simulate_in_own_store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


# -- seed 002: 源牧乳业《春日鲜奶节》 ----------------------------------------------------------


@pytest.fixture(scope="module")
def yuanmu(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The scenario brings its 24,000 members and 800 团长; 21,000 watchers order at the
    nearest point, 3% never pick up."""
    home = tmp_path_factory.mktemp("yuanmu")
    ((_, stats),) = simulate_in_own_store(home, "yuanmu-spring-milk", timeout=900)
    return stats


def test_yuanmu_reaches_24000_and_22000_watch(yuanmu: dict[str, Any]) -> None:
    total = yuanmu["total"]
    assert total["reached"] == 24_000
    assert total["watched"] == 22_000
    assert total["orders"] > 20_000  # 21,000 placed, the never-picked-up ones cancelled
    assert total["aov"] == 76.8  # 自提价: 96 less 20%


def test_yuanmu_orders_stand_at_the_brands_800_points(yuanmu: dict[str, Any]) -> None:
    points = yuanmu["new_neighbours"]
    assert {p["pickup_point"][:5] for p in points} == {"ym-pt"}  # the brand's own 团长
    assert len(points) <= 800
    assert all(p["leader"].endswith("团长") for p in points)
    assigned = sum(p["new_neighbours"] for p in points)
    assert assigned == yuanmu["total"]["orders"]  # every standing order at one of the points


def test_yuanmu_keeps_97_percent_of_its_new_customers(yuanmu: dict[str, Any]) -> None:
    total = yuanmu["total"]
    assigned = sum(p["new_neighbours"] for p in yuanmu["new_neighbours"])
    assert total["new_customers"] == 21_000
    assert total["new_customer_retention"] == round(assigned / 21_000, 4)
    assert 0.96 <= total["new_customer_retention"] <= 0.98  # seed 002: 97%
