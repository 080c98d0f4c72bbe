"""Scenario files (``resources/scenarios/NAME.toml``): the shape of a simulated broadcast.

``scenario_file`` checks a file against its schema; this module turns it into the
``Scenario`` the planner plays.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from console.domain.segments import ALL_SEGMENTS, Segment
from console.resources import RESOURCES
from console.sim import scenario_file
from console.sim.scenario_file import ScenarioError, ScenarioIn

__all__ = [
    "CATALOG_DIR",
    "RATE_KINDS",
    "SCENARIO_DIR",
    "Buyers",
    "Population",
    "Scenario",
    "ScenarioError",  # defined with the schema, raised by the planner too
    "ScriptStep",
    "available",
    "load",
    "parse",
    "scaled",
]

SCENARIO_DIR = RESOURCES / "scenarios"
CATALOG_DIR = RESOURCES / "catalogs"
RATE_KINDS = ("comment", "like", "share")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    seed: int
    duration_minutes: float
    audience_tag: str  # members with this tag are invited ('' when by circles)
    watchers: int
    guests: int
    arrival_curve: tuple[tuple[float, float], ...]
    stay_mean_minutes: float
    rejoin_probability: float
    rates: Mapping[str, Mapping[Segment, float]]
    comment_lines: tuple[str, ...]
    host: str = ""
    catalog: Mapping[str, Any] | None = None  # resources/catalogs/NAME.toml, as the API takes it
    script: tuple[ScriptStep, ...] = ()  # the floor assistant's moves
    order_rates: Mapping[Segment, float] = field(default_factory=dict)  # per watcher-minute
    chain_join: float = 0.0  # of orders for a product with an open chain: share that join it
    referred: float = 0.0  # of orders by S4/S6 members: share naming a KOC watcher's code
    buyers: Buyers | None = None  # a fixed number of watchers each place one order
    flash_buyers: int = 0  # per 秒杀 of the script: watchers of its circles who buy in it
    restock: Mapping[str, int] = field(default_factory=dict)  # product -> units at the start
    population: Population | None = None  # the brand's own members and 团长, generated
    audience_segments: tuple[Segment, ...] = ()  # members of these circles are invited
    sessions: tuple[Scenario, ...] = ()  # a series: one broadcast per entry (seed 000)


@dataclass(frozen=True)
class Buyers:
    """Exactly ``count`` watchers order ``product_id`` once, between ``from_minute`` and
    ``to_minute``: seed 003's 接龙 (``join_chain``, the audience's KOCs first) or seed 002's
    self-pickup orders, of which ``cancel_share`` are cancelled (never picked up)."""

    product_id: str
    count: int
    from_minute: float
    to_minute: float
    kocs_first: bool = False
    join_chain: bool = False
    cancel_share: float = 0.0


@dataclass(frozen=True)
class Population:
    """Members and pickup points generated for a scenario (seed 002's city of 800 团长)."""

    members: int
    id_prefix: str
    city: str
    lat: float
    lon: float
    spread: float
    pickup_points: int


@dataclass(frozen=True)
class ScriptStep:
    """A command the floor assistant gives ``at_minute`` into the broadcast."""

    at_minute: float
    command: Mapping[str, Any]  # as POST /commands takes it, without command_id


def available() -> list[str]:
    return sorted(path.stem for path in SCENARIO_DIR.glob("*.toml"))


def load(name: str) -> Scenario:
    path = SCENARIO_DIR / f"{name}.toml"
    if not path.is_file():
        raise ScenarioError(f"unknown scenario {name!r}; available: {', '.join(available())}")
    return parse(path)


def parse(path: Path) -> Scenario:
    """A scenario file; with ``[[sessions]]``, a series whose entries override the top level."""
    checked = scenario_file.read(path)
    if not checked.series:
        return _scenario(path, checked.broadcasts[0])
    sessions = tuple(
        # Each session its own random stream: the same seed would give every room the same
        # arrivals and comments.
        replace(_scenario(path, spec, f"sessions[{n}]."), seed=spec.seed + n)
        for n, spec in enumerate(checked.broadcasts)
    )
    return replace(sessions[0], name=checked.name, sessions=sessions)


def _scenario(path: Path, spec: ScenarioIn, where: str = "") -> Scenario:
    """The checked file as the planner takes it."""
    orders = spec.orders
    return Scenario(
        name=spec.name,
        title=spec.title,
        seed=spec.seed,
        duration_minutes=spec.duration_minutes,
        audience_tag=spec.audience.tag,
        audience_segments=tuple(spec.audience.segments),
        watchers=spec.audience.watchers,
        guests=spec.audience.guests,
        arrival_curve=tuple(spec.arrival.curve),
        stay_mean_minutes=spec.stay.mean_minutes,
        rejoin_probability=spec.stay.rejoin_probability,
        rates={
            kind: {seg: getattr(getattr(spec.rates, kind), seg.value) for seg in ALL_SEGMENTS}
            for kind in RATE_KINDS
        },
        comment_lines=tuple(spec.comments.lines),
        host=spec.host,
        catalog=_catalog(path, spec.catalog, where),
        script=tuple(
            sorted(
                (
                    ScriptStep(
                        step.at,
                        step.model_dump(mode="json", exclude={"at"}, exclude_unset=True),
                    )
                    for step in spec.script
                ),
                key=lambda s: s.at_minute,
            )
        ),
        order_rates={seg: getattr(orders, seg.value) for seg in ALL_SEGMENTS},
        chain_join=orders.chain_join,
        referred=orders.referred,
        buyers=Buyers(**spec.buyers.model_dump()) if spec.buyers else None,
        flash_buyers=spec.flash_buyers.count if spec.flash_buyers else 0,
        restock=dict(spec.restock),
        population=Population(**spec.population.model_dump()) if spec.population else None,
    )


def _catalog(path: Path, name: str | None, where: str) -> Mapping[str, Any] | None:
    """The session's lineup, offers and audience named by the scenario's ``catalog``; the
    store checks its content when the simulator sets it."""
    if name is None:
        return None
    catalog_path = CATALOG_DIR / f"{name}.toml"
    try:
        return tomllib.loads(catalog_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: {where}catalog: cannot load {catalog_path}: {exc}") from exc


def scaled(chosen: Scenario, fraction: float) -> Scenario:
    """The scenario with its crowd cut to ``fraction`` (0 < fraction <= 1), in the same
    proportions: generated members and pickup points, watchers, guests, buyers (flash
    buyers too) and the
    starting stock, each rounded (at least one where there was one). Rates, script, prices
    and shares (``cancel_share``) stay, so what a test checks as a proportion holds at any
    scale; a quick rehearsal of a big seed (``main.py simulate --scale 0.1``)."""
    if not 0 < fraction <= 1:
        raise ScenarioError(f"scale must be above 0 and at most 1, not {fraction:g}")
    if fraction == 1:
        return chosen

    def cut(n: int) -> int:
        return max(1, round(n * fraction)) if n > 0 else 0

    return replace(
        chosen,
        watchers=cut(chosen.watchers),
        guests=cut(chosen.guests),
        buyers=(
            replace(chosen.buyers, count=cut(chosen.buyers.count))
            if chosen.buyers is not None
            else None
        ),
        flash_buyers=cut(chosen.flash_buyers),
        restock={product: cut(units) for product, units in chosen.restock.items()},
        population=(
            replace(
                chosen.population,
                members=cut(chosen.population.members),
                pickup_points=cut(chosen.population.pickup_points),
            )
            if chosen.population is not None
            else None
        ),
        sessions=tuple(scaled(one, fraction) for one in chosen.sessions),
    )
