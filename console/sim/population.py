"""Members and pickup points generated for a scenario's own brand (seed 002: one city's
community, 800 团长), deterministic from the scenario's seed.

The simulator imports them into the store through its import endpoint and pickup-point API,
like an operator would, before the broadcast.
"""

from __future__ import annotations

import random
from typing import Any

from console.domain.pickup import PickupPoint
from console.sim.demo_members import COLUMNS, GIVEN, SEGMENT_WEIGHTS, SURNAMES, to_csv
from console.sim.scenario import Population, Scenario


def members(scenario: Scenario, population: Population) -> list[dict[str, Any]]:
    """Members tagged with the scenario's audience tag, spread around the city centre."""
    rng = random.Random(scenario.seed)
    personas = list(SEGMENT_WEIGHTS)
    weights = list(SEGMENT_WEIGHTS.values())
    result = []
    for n in range(1, population.members + 1):
        persona = rng.choices(personas, weights)[0]
        result.append(
            {
                "id": f"{population.id_prefix}{n:06d}",
                "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2)),
                "phone": f"1{rng.choice('3579')}{rng.randrange(10**9):09d}",
                "persona": persona,
                "influencer": int(persona == "S5"),
                "opted_out": 0,
                "tags": scenario.audience_tag,
                "city": population.city,
                "lat": round(population.lat + rng.uniform(-1, 1) * population.spread, 5),
                "lon": round(population.lon + rng.uniform(-1, 1) * population.spread, 5),
            }
        )
    return result


def points(scenario: Scenario, population: Population) -> list[PickupPoint]:
    """One pickup point per community, each with its 团长."""
    rng = random.Random(scenario.seed + 1)
    return [
        PickupPoint(
            id=f"{population.id_prefix}-pt{n:04d}",
            name=f"{population.city}第{n}社区自提点",
            leader=rng.choice(SURNAMES) + "团长",
            lat=round(population.lat + rng.uniform(-1, 1) * population.spread, 5),
            lon=round(population.lon + rng.uniform(-1, 1) * population.spread, 5),
        )
        for n in range(1, population.pickup_points + 1)
    ]


def members_csv(rows: list[dict[str, Any]]) -> str:
    """The same columns as the demo members' file (the same import mapping reads both)."""
    return to_csv(rows, COLUMNS)
