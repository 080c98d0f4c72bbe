"""Pickup points (自提点) run by community leaders (团长), and the nearest one to a member.

Points sit on the sphere as unit vectors in a k-d tree: the straight-line (chord) distance
grows with the great-circle distance, so the nearest by chord is exactly the nearest on the
Earth, found in O(log n) (scipy's cKDTree).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class PickupPoint:
    id: str
    name: str
    leader: str  # 团长
    lat: float
    lon: float


def unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.float64]:
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def chord_to_km(chord: npt.ArrayLike) -> npt.NDArray[np.float64]:
    half = np.clip(np.asarray(chord, dtype=np.float64) / 2.0, 0.0, 1.0)
    result: npt.NDArray[np.float64] = 2.0 * np.arcsin(half) * EARTH_RADIUS_KM
    return result


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


class PickupIndex:
    """Nearest pickup point for one location or many at once."""

    def __init__(self, points: Sequence[PickupPoint]) -> None:
        if not points:
            raise ValueError("no pickup points")
        self.points = list(points)
        self._tree = cKDTree(unit_vectors([p.lat for p in points], [p.lon for p in points]))

    def nearest(self, lat: float, lon: float) -> tuple[PickupPoint, float]:
        """The closest point and its distance in km."""
        chord, index = self._tree.query(unit_vectors([lat], [lon])[0])
        return self.points[int(index)], float(chord_to_km(chord))

    def assign(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Index into ``points`` of the nearest point for each location, and the distance."""
        chord, index = self._tree.query(unit_vectors(lat, lon))
        return np.asarray(index, dtype=np.int64), chord_to_km(chord)
