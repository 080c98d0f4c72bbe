"""Scenario files (``resources/scenarios/NAME.toml``): the shape of a simulated broadcast."""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.domain.segments import ALL_SEGMENTS, Segment
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
    audience_tag: str
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
    chain_entries: ChainEntries | None = None  # a fixed number of watchers join the 接龙
    restock: Mapping[str, int] = field(default_factory=dict)  # product -> units at the start


@dataclass(frozen=True)
class ChainEntries:
    """Seed 003's shape: the chain link goes to the group and exactly ``count`` watchers join
    between ``from_minute`` and ``to_minute``, the audience's KOCs first."""

    product_id: str
    count: int
    from_minute: float
    to_minute: float
    kocs_first: bool = True


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
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    reader = _Reader(path, raw)
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
        audience_tag=reader.get("audience.tag", str),
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
        chain_entries=_chain_entries(path, raw.get("chain_entries")),
        restock=_restock(path, raw.get("restock", {})),
    )


def _restock(path: Path, raw: object) -> dict[str, int]:
    if not isinstance(raw, Mapping) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw.values()
    ):
        raise ScenarioError(f"{path}: restock must map product ids to whole numbers of units")
    return {str(k): int(v) for k, v in raw.items()}


def _chain_entries(path: Path, raw: object) -> ChainEntries | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{path}: chain_entries must be a table")
    reader = _Reader(path, {"chain_entries": raw})
    entries = ChainEntries(
        product_id=reader.get("chain_entries.product_id", str),
        count=reader.get("chain_entries.count", int),
        from_minute=float(reader.get("chain_entries.from_minute", (int, float))),
        to_minute=float(reader.get("chain_entries.to_minute", (int, float))),
        kocs_first=bool(raw.get("kocs_first", True)),
    )
    if entries.to_minute <= entries.from_minute:
        raise ScenarioError(f"{path}: chain_entries.to_minute must be after from_minute")
    return entries


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
    def __init__(self, path: Path, raw: Mapping[str, Any]) -> None:
        self.path = path
        self.raw = raw

    def get(self, dotted: str, kind: type | tuple[type, ...]) -> Any:
        node: Any = self.raw
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise ScenarioError(f"{self.path}: missing field {dotted}")
            node = node[part]
        if not isinstance(node, kind) or isinstance(node, bool):
            raise ScenarioError(f"{self.path}: field {dotted} has the wrong type")
        return node
