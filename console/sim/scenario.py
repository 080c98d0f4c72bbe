"""Scenario files (``resources/scenarios/NAME.toml``): the shape of a simulated broadcast."""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from console.domain.segments import ALL_SEGMENTS, Segment, parse_segment
from console.resources import RESOURCES

SCENARIO_DIR = RESOURCES / "scenarios"
CATALOG_DIR = RESOURCES / "catalogs"
RATE_KINDS = ("comment", "like", "share")


class ScenarioError(ValueError):
    """A scenario file is missing or malformed; the message names file and field."""


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
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    entries = raw.get("sessions")
    if entries is None:
        return _parse(path, raw)
    if not isinstance(entries, list) or not entries:
        raise ScenarioError(f"{path}: sessions must be a list of [[sessions]] tables")
    base = {k: v for k, v in raw.items() if k != "sessions"}
    sessions = tuple(
        # Each session its own random stream: the same seed would give every room the same
        # arrivals and comments.
        replace(_parse(path, _merged(base, entry), f"sessions[{n}]."), seed=int(base["seed"]) + n)
        for n, entry in enumerate(entries)
    )
    first = sessions[0]
    return replace(first, name=str(raw.get("name", first.name)), sessions=sessions)


def _merged(base: Mapping[str, Any], entry: object) -> dict[str, Any]:
    """The top level with a session's tables laid over it (one level deep)."""
    if not isinstance(entry, Mapping):
        raise ScenarioError("each [[sessions]] entry must be a table")
    merged = dict(base)
    for key, value in entry.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _parse(path: Path, raw: Mapping[str, Any], where: str = "") -> Scenario:
    reader = _Reader(path, raw, where)
    curve = tuple((float(point[0]), float(point[1])) for point in reader.get("arrival.curve", list))
    if not curve or curve[0][1] != 0.0 or curve[-1][1] != 1.0:
        raise ScenarioError(f"{path}: arrival.curve must rise from share 0.0 to 1.0")
    if any(b[0] <= a[0] or b[1] < a[1] for a, b in itertools.pairwise(curve)):
        raise ScenarioError(f"{path}: arrival.curve must increase in minutes and share")
    rates = {
        kind: {
            seg: float(reader.get(f"rates.{kind}.{seg.value}", (int, float)))
            for seg in ALL_SEGMENTS
        }
        for kind in RATE_KINDS
    }
    return Scenario(
        name=reader.get("name", str),
        title=reader.get("title", str),
        seed=reader.get("seed", int),
        duration_minutes=float(reader.get("duration_minutes", (int, float))),
        audience_tag=str(raw.get("audience", {}).get("tag", "")),
        audience_segments=_segments(path, raw.get("audience", {}).get("segments", [])),
        watchers=reader.get("audience.watchers", int),
        guests=reader.get("audience.guests", int),
        arrival_curve=curve,
        stay_mean_minutes=float(reader.get("stay.mean_minutes", (int, float))),
        rejoin_probability=float(reader.get("stay.rejoin_probability", (int, float))),
        rates=rates,
        comment_lines=tuple(reader.get("comments.lines", list)),
        host=str(raw.get("host", "")),
        catalog=_catalog(path, raw.get("catalog")),
        script=_script(path, raw.get("script", [])),
        order_rates={seg: float(raw.get("orders", {}).get(seg.value, 0.0)) for seg in ALL_SEGMENTS},
        chain_join=float(raw.get("orders", {}).get("chain_join", 0.0)),
        referred=float(raw.get("orders", {}).get("referred", 0.0)),
        buyers=_buyers(path, raw.get("buyers")),
        restock=_restock(path, raw.get("restock", {})),
        population=_population(path, raw.get("population")),
    )


def _segments(path: Path, raw: object) -> tuple[Segment, ...]:
    if not isinstance(raw, list) or any(parse_segment(s) is None for s in raw):
        raise ScenarioError(f'{path}: audience.segments must list circles such as "S1"')
    return tuple(Segment(s) for s in raw)


def _restock(path: Path, raw: object) -> dict[str, int]:
    if not isinstance(raw, Mapping) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw.values()
    ):
        raise ScenarioError(f"{path}: restock must map product ids to whole numbers of units")
    return {str(k): int(v) for k, v in raw.items()}


def _buyers(path: Path, raw: object) -> Buyers | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{path}: buyers must be a table")
    reader = _Reader(path, {"buyers": raw})
    buyers = Buyers(
        product_id=reader.get("buyers.product_id", str),
        count=reader.get("buyers.count", int),
        from_minute=float(reader.get("buyers.from_minute", (int, float))),
        to_minute=float(reader.get("buyers.to_minute", (int, float))),
        kocs_first=bool(raw.get("kocs_first", False)),
        join_chain=bool(raw.get("join_chain", False)),
        cancel_share=float(raw.get("cancel_share", 0.0)),
    )
    if buyers.to_minute <= buyers.from_minute:
        raise ScenarioError(f"{path}: buyers.to_minute must be after from_minute")
    if not 0 <= buyers.cancel_share < 1:
        raise ScenarioError(f"{path}: buyers.cancel_share must be a fraction below 1")
    return buyers


def _population(path: Path, raw: object) -> Population | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{path}: population must be a table")
    reader = _Reader(path, {"population": raw})
    return Population(
        members=reader.get("population.members", int),
        id_prefix=reader.get("population.id_prefix", str),
        city=reader.get("population.city", str),
        lat=float(reader.get("population.lat", (int, float))),
        lon=float(reader.get("population.lon", (int, float))),
        spread=float(reader.get("population.spread", (int, float))),
        pickup_points=reader.get("population.pickup_points", int),
    )


SCRIPT_COMMANDS = frozenset({"present_product", "open_chain", "close_chain", "post_notice"})


def _script(path: Path, raw: object) -> tuple[ScriptStep, ...]:
    if not isinstance(raw, list):
        raise ScenarioError(f"{path}: script must be a list of [[script]] tables")
    steps = []
    for n, step in enumerate(raw):
        if not isinstance(step, Mapping) or not isinstance(step.get("at"), int | float):
            raise ScenarioError(f"{path}: script[{n}].at must be a number of minutes")
        if step.get("type") not in SCRIPT_COMMANDS:
            kinds = ", ".join(sorted(SCRIPT_COMMANDS))
            raise ScenarioError(f"{path}: script[{n}].type must be one of {kinds}")
        command = {k: v for k, v in step.items() if k != "at"}
        steps.append(ScriptStep(float(step["at"]), command))
    return tuple(sorted(steps, key=lambda s: s.at_minute))


def _catalog(path: Path, name: object) -> Mapping[str, Any] | None:
    """The session's lineup, offers and audience named by the scenario's ``catalog``."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise ScenarioError(f"{path}: field catalog must be a catalog file's name")
    catalog_path = CATALOG_DIR / f"{name}.toml"
    try:
        return tomllib.loads(catalog_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: catalog {name!r}: {exc}") from exc


class _Reader:
    def __init__(self, path: Path, raw: Mapping[str, Any], where: str = "") -> None:
        self.path = path
        self.raw = raw
        self.where = where  # "sessions[2]." inside a series

    def get(self, dotted: str, kind: type | tuple[type, ...]) -> Any:
        node: Any = self.raw
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise ScenarioError(f"{self.path}: missing field {self.where}{dotted}")
            node = node[part]
        if not isinstance(node, kind) or isinstance(node, bool):
            raise ScenarioError(f"{self.path}: field {self.where}{dotted} has the wrong type")
        return node
