"""Seed 002 end to end: 源牧乳业《春日鲜奶节》 played once, checked by several tests.

The store takes one request per order, so the full seed (24,000 members, 800 团长, 21,000
orders) takes about 6 minutes of store time; by default the scenario plays a tenth of its
crowd (``main.py simulate --scale 0.1``: 2,400 members, 80 points, 2,100 buyers, the same
prices and shares) and the tests check what must hold at any scale: everyone counted, the
self-pickup price, every order at one of the brand's points, 97% retention. The seed's own
numbers are checked on the full run, opt-in:

    SEED_002_FULL=1 ./dev test tests/e2e/test_seed_yuanmu.py
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.e2e.scenarios import simulate_in_own_store

FULL = bool(os.environ.get("SEED_002_FULL"))
SCALE = 1.0 if FULL else 0.1
MEMBERS, POINTS, WATCHERS, BUYERS = (round(n * SCALE) for n in (24_000, 800, 22_000, 21_000))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900 if FULL else 300)]


# -- seed 002: 源牧乳业《春日鲜奶节》 ----------------------------------------------------------


@pytest.fixture(scope="module")
def yuanmu(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The scenario brings its members and 团长 (24,000 and 800 in full); its buyers (21,000)
    order at the nearest point, 3% never pick up."""
    home = tmp_path_factory.mktemp("yuanmu")
    ((_, stats),) = simulate_in_own_store(
        home, "yuanmu-spring-milk", timeout=900 if FULL else 300, scale=SCALE
    )
    return stats


def test_yuanmu_reaches_all_its_members_and_most_watch(yuanmu: dict[str, Any]) -> None:
    total = yuanmu["total"]
    assert total["reached"] == MEMBERS
    assert total["watched"] == WATCHERS  # 22 of 24 watch
    assert BUYERS * 0.96 <= total["orders"] < BUYERS  # the never-picked-up ones cancelled
    assert total["buyers"] == total["orders"]  # one order each
    assert total["aov"] == 76.8  # 自提价: 96 less 20%
    assert total["gmv"] == round(total["orders"] * 76.8, 2)


def test_yuanmu_orders_stand_at_the_brands_points(yuanmu: dict[str, Any]) -> None:
    points = yuanmu["new_neighbours"]
    assert {p["pickup_point"][:5] for p in points} == {"ym-pt"}  # the brand's own 团长
    assert POINTS * 0.9 <= len(points) <= POINTS  # spread over (nearly) all of them
    assert all(p["leader"].endswith("团长") for p in points)
    assigned = sum(p["new_neighbours"] for p in points)
    assert assigned == yuanmu["total"]["orders"]  # every standing order at one of the points


def test_yuanmu_keeps_97_percent_of_its_new_customers(yuanmu: dict[str, Any]) -> None:
    total = yuanmu["total"]
    assigned = sum(p["new_neighbours"] for p in yuanmu["new_neighbours"])
    assert total["new_customers"] == BUYERS
    assert total["new_customer_retention"] == round(assigned / BUYERS, 4)
    assert 0.96 <= total["new_customer_retention"] <= 0.98  # seed 002: 97%


@pytest.mark.skipif(not FULL, reason="opt-in: set SEED_002_FULL=1 to play all 24,000 members")
def test_yuanmu_full_seed_reaches_24000_and_keeps_20000_orders(yuanmu: dict[str, Any]) -> None:
    total = yuanmu["total"]
    assert total["reached"] == 24_000
    assert total["watched"] == 22_000
    assert total["new_customers"] == 21_000
    assert total["orders"] > 20_000  # 21,000 placed, the never-picked-up ones cancelled
    assert len(yuanmu["new_neighbours"]) <= 800
