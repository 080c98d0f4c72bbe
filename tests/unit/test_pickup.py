"""Nearest pickup point, checked by hand and against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.pickup import PickupIndex, PickupPoint, haversine_km

# Three points in Hangzhou, worked out on a map.
WEST_LAKE = PickupPoint("p-xihu", "西湖店", "王团长", 30.2431, 120.1500)
BINJIANG = PickupPoint("p-binjiang", "滨江店", "李团长", 30.2084, 120.2120)
XIASHA = PickupPoint("p-xiasha", "下沙店", "陈团长", 30.3100, 120.3500)
INDEX = PickupIndex([WEST_LAKE, BINJIANG, XIASHA])


def test_nearest_on_hand_checked_coordinates() -> None:
    # 浙大玉泉 (30.2650, 120.1230) is by the West Lake, about 3.5 km from 西湖店.
    point, km = INDEX.nearest(30.2650, 120.1230)
    assert point is WEST_LAKE
    assert km == pytest.approx(haversine_km(30.2650, 120.1230, 30.2431, 120.1500), rel=1e-9)
    assert 3.0 < km < 4.0
    # 钱江世纪城 (30.2360, 120.2430) is across the river, by 滨江店.
    assert INDEX.nearest(30.2360, 120.2430)[0] is BINJIANG
    # 下沙大学城 (30.3180, 120.3920).
    assert INDEX.nearest(30.3180, 120.3920)[0] is XIASHA


def test_across_the_antimeridian() -> None:
    east = PickupPoint("e", "e", "", 0.0, 179.9)
    far = PickupPoint("f", "f", "", 0.0, 170.0)
    point, km = PickupIndex([far, east]).nearest(0.0, -179.9)
    assert point is east  # 0.2 degrees away across 180, not 10 the other way
    assert km == pytest.approx(22.24, abs=0.05)


@given(
    st.lists(st.tuples(st.floats(-60, 60), st.floats(-180, 180)), min_size=1, max_size=30),
    st.floats(-60, 60),
    st.floats(-180, 180),
)
def test_same_answer_as_brute_force(
    points: list[tuple[float, float]], lat: float, lon: float
) -> None:
    index = PickupIndex([PickupPoint(str(i), "", "", a, b) for i, (a, b) in enumerate(points)])
    best = min(haversine_km(lat, lon, a, b) for a, b in points)
    _, km = index.nearest(lat, lon)
    assert km == pytest.approx(best, abs=1e-6)
    ids, distances = index.assign(np.array([lat]), np.array([lon]))
    assert distances[0] == pytest.approx(best, abs=1e-6)
    assert haversine_km(lat, lon, *points[ids[0]]) == pytest.approx(best, abs=1e-6)
