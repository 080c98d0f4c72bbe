"""The scenario file's schema (pydantic): every key known, every number in range.

A problem names the file and the field (``sessions[1].audience.segments[0]``), and the line
where the TOML itself is broken; nothing runs unless all of the file is good. Script steps
mirror what ``POST /commands`` takes (the simulator sends them as they are).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError
from pydantic_core import ErrorDetails

from console.domain.segments import Segment
from console.tomlfile import read_toml

MAX_PEOPLE = 1_000_000  # watchers, buyers, generated members: beyond this it is a typo
MAX_RATE = 60.0  # per watcher and minute: once a second is already a storm
MAX_MINUTES = 24 * 60.0
MAX_UNITS = 10_000_000
MAX_PROBLEMS = 5  # shown on the one error line; the rest are counted


class ScenarioError(ValueError):
    """A scenario file is missing or malformed; the message names file and field."""


# TOML has ints, floats and booleans: a number is never a boolean or a string here.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_PEOPLE)]
Name = Annotated[str, Strict(), Field(min_length=1, max_length=64)]
Flag = Annotated[bool, Strict()]
Minute = Annotated[Number, Field(ge=0, le=MAX_MINUTES)]
Share = Annotated[Number, Field(ge=0, le=1)]
Rate = Annotated[Number, Field(ge=0, le=MAX_RATE)]
ProductId = Name


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AudienceIn(_Table):
    tag: Annotated[str, Strict(), Field(max_length=32)] = ""
    segments: list[Segment] = Field(default_factory=list, max_length=6)
    watchers: Count
    guests: Count


class ArrivalIn(_Table):
    """Cumulative share of the watchers arrived by minute m: ``[[minute, share], ...]``."""

    curve: list[tuple[Minute, Share]] = Field(min_length=2)


class StayIn(_Table):
    mean_minutes: Annotated[Number, Field(gt=0, le=MAX_MINUTES)]
    rejoin_probability: Share


class SegmentRates(_Table):
    """Per watcher and minute, for each circle."""

    S1: Rate
    S2: Rate
    S3: Rate
    S4: Rate
    S5: Rate
    S6: Rate


class RatesIn(_Table):
    comment: SegmentRates
    like: SegmentRates
    share: SegmentRates


class CommentsIn(_Table):
    lines: list[Annotated[str, Strict(), Field(min_length=1, max_length=200)]] = Field(min_length=1)


class OrdersIn(_Table):
    """Orders per watcher-minute by circle; shares of orders that join a chain or name a KOC."""

    S1: Rate = 0.0
    S2: Rate = 0.0
    S3: Rate = 0.0
    S4: Rate = 0.0
    S5: Rate = 0.0
    S6: Rate = 0.0
    chain_join: Share = 0.0
    referred: Share = 0.0


class BuyersIn(_Table):
    product_id: ProductId
    count: Count
    from_minute: Minute
    to_minute: Minute
    kocs_first: Flag = False
    join_chain: Flag = False
    cancel_share: Annotated[Number, Field(ge=0, lt=1)] = 0.0


class PopulationIn(_Table):
    members: Annotated[int, Strict(), Field(ge=1, le=MAX_PEOPLE)]
    id_prefix: Annotated[str, Strict(), Field(pattern=r"^[a-z][a-z0-9-]{0,15}$")]
    city: Name
    lat: Annotated[Number, Field(ge=-90, le=90)]
    lon: Annotated[Number, Field(ge=-180, le=180)]
    spread: Annotated[Number, Field(gt=0, le=10)]  # degrees around the centre
    pickup_points: Annotated[int, Strict(), Field(ge=1, le=100_000)]


class _Step(_Table):
    at: Minute


class PresentProductStep(_Step):
    type: Literal["present_product"]
    product_id: ProductId


class PostNoticeStep(_Step):
    type: Literal["post_notice"]
    text: Annotated[str, Strict(), Field(min_length=1, max_length=120)]


class OpenChainStep(_Step):
    type: Literal["open_chain"]
    product_id: ProductId
    threshold: Annotated[int, Strict(), Field(ge=1, le=100_000)]
    cap: Annotated[int, Strict(), Field(ge=1, le=100_000)]
    deadline_minutes: Annotated[Number, Field(gt=0, le=MAX_MINUTES)]
    gift_first: Annotated[int, Strict(), Field(ge=0, le=100_000)] = 0
    gift: Annotated[str, Strict(), Field(max_length=60)] = ""


class CloseChainStep(_Step):
    type: Literal["close_chain"]
    chain_id: Name


Circles = list[Segment]


class StartDrawStep(_Step):
    """抽奖 (``start_draw``): among the members who qualify when it is sent."""

    type: Literal["start_draw"]
    prize: Annotated[str, Strict(), Field(min_length=1, max_length=40)]
    count: Annotated[int, Strict(), Field(ge=1, le=1000)]
    circles: Circles = Field(default_factory=list, max_length=6)
    min_watch_minutes: Annotated[Number, Field(ge=0, le=MAX_MINUTES)] = 0.0
    must_comment: Flag = False
    in_room_now: Flag = False


class StartFlashSaleStep(_Step):
    """秒杀 (``start_flash_sale``): a price (yuan) for ``minutes``, within ``units``."""

    type: Literal["start_flash_sale"]
    product_id: ProductId
    price: Annotated[Number, Field(gt=0, le=100_000)]
    units: Annotated[int, Strict(), Field(ge=1, le=100_000)]
    minutes: Annotated[Number, Field(ge=0.5, le=60)]
    limit_per_member: Annotated[int, Strict(), Field(ge=1, le=1000)]
    circles: Circles = Field(default_factory=list, max_length=6)


class FlashBuyersIn(_Table):
    """Per 秒杀 of the script: ``count`` watchers of its circles, in the room while it runs,
    each order its product once (1 unit up to its limit) before it ends."""

    count: Count


SCRIPT_COMMANDS = (
    "present_product",
    "post_notice",
    "open_chain",
    "close_chain",
    "start_draw",
    "start_flash_sale",
)
ScriptStepIn = Annotated[
    PresentProductStep
    | PostNoticeStep
    | OpenChainStep
    | CloseChainStep
    | StartDrawStep
    | StartFlashSaleStep,
    Field(discriminator="type"),
]


class ScenarioIn(_Table):
    """One broadcast; a series' ``[[sessions]]`` entries are laid over the top level first."""

    name: Annotated[str, Strict(), Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    title: Annotated[str, Strict(), Field(min_length=1, max_length=120)]
    host: Annotated[str, Strict(), Field(max_length=60)] = ""
    seed: Annotated[int, Strict(), Field(ge=0)]
    duration_minutes: Annotated[Number, Field(gt=0, le=MAX_MINUTES)]
    # resources/catalogs/NAME.toml: a name, never a path
    catalog: Annotated[str, Strict(), Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] | None = None
    audience: AudienceIn
    arrival: ArrivalIn
    stay: StayIn
    rates: RatesIn
    comments: CommentsIn
    orders: OrdersIn = OrdersIn()
    buyers: BuyersIn | None = None
    flash_buyers: FlashBuyersIn | None = None
    restock: dict[ProductId, Annotated[int, Strict(), Field(ge=0, le=MAX_UNITS)]] = Field(
        default_factory=dict
    )
    population: PopulationIn | None = None
    script: list[ScriptStepIn] = Field(default_factory=list)


class _SeriesIn(BaseModel):
    """Only the shape of ``sessions``: each entry is checked once laid over the top level."""

    model_config = ConfigDict(extra="allow")
    sessions: list[dict[str, Any]] = Field(min_length=1, max_length=100)


Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ScenarioFileIn:
    """A checked file: one broadcast, or a series of them (``[[sessions]]``) called ``name``."""

    name: str
    broadcasts: tuple[ScenarioIn, ...]
    series: bool


def read(path: Path) -> ScenarioFileIn:
    """The file's broadcasts: one, or one per ``[[sessions]]`` entry (top level laid under).

    Raises ``ScenarioError`` naming the file and each problem's field.
    """
    raw = read_toml(path, ScenarioError)
    if "sessions" not in raw:
        only = _checked(path, ScenarioIn, raw)
        return ScenarioFileIn(only.name, (only,), series=False)
    series = _checked(path, _SeriesIn, raw)
    base = {k: v for k, v in raw.items() if k != "sessions"}
    specs: list[ScenarioIn] = []
    problems: list[str] = []
    for n, entry in enumerate(series.sessions):
        spec, found = _validate(ScenarioIn, _merged(base, entry))
        for loc, msg in found:
            # Named where it was written: in the session's entry, or at the top level.
            where = f"sessions[{n}]." if _written_in(entry, loc) else ""
            if (problem := f"{where}{_dotted(loc)}: {msg}") not in problems:
                problems.append(problem)
        if spec is not None:
            specs.append(spec)
    _raise_if(path, problems)
    return ScenarioFileIn(str(raw.get("name", specs[0].name)), tuple(specs), series=True)


def _merged(base: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The top level with a session's tables laid over it (one level deep)."""
    merged = dict(base)
    for key, value in entry.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _written_in(entry: Mapping[str, Any], loc: Loc) -> bool:
    """Whether a session's entry set the value at ``loc`` (entries merge one level deep)."""
    key = loc[0] if loc else None
    if not isinstance(key, str) or key not in entry:
        return False
    value = entry[key]
    return not isinstance(value, Mapping) or len(loc) < 2 or loc[1] in value


def _checked(path: Path, model: type[M], raw: Mapping[str, Any]) -> M:
    spec, found = _validate(model, raw)
    _raise_if(path, [f"{_dotted(loc)}: {msg}" for loc, msg in found])
    assert spec is not None  # no problem found, so validated
    return spec


def _validate(model: type[M], raw: Mapping[str, Any]) -> tuple[M | None, list[tuple[Loc, str]]]:
    """The model, or None; and every problem found, as (field path, reason)."""
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        return None, [(_loc(error), _message(error)) for error in exc.errors()]
    return spec, _cross_checks(spec) if isinstance(spec, ScenarioIn) else []


def _cross_checks(spec: ScenarioIn) -> list[tuple[Loc, str]]:
    """What one field alone cannot say: the curve's shape, times within the broadcast."""
    found: list[tuple[Loc, str]] = []
    curve = spec.arrival.curve
    end = spec.duration_minutes
    after_end = f"after the end of the broadcast (minute {end:g})"
    if curve[0][1] != 0.0 or curve[-1][1] != 1.0:
        found.append((("arrival", "curve"), "must rise from share 0.0 to 1.0"))
    for n, (a, b) in enumerate(itertools.pairwise(curve), start=1):
        if b[0] <= a[0] or b[1] < a[1]:
            found.append((("arrival", "curve", n), "must increase in minutes and share"))
    if curve[-1][0] > end:
        found.append((("arrival", "curve", len(curve) - 1), after_end))
    for n, step in enumerate(spec.script):
        if step.at > end:
            found.append((("script", n, "at"), after_end))
        elif isinstance(step, StartFlashSaleStep) and step.at + step.minutes > end:
            found.append((("script", n, "minutes"), f"the sale ends {after_end}"))
    if spec.buyers is not None:
        if spec.buyers.to_minute <= spec.buyers.from_minute:
            found.append((("buyers", "to_minute"), "must be after from_minute"))
        elif spec.buyers.to_minute > end:
            found.append((("buyers", "to_minute"), after_end))
    return found


def _loc(error: ErrorDetails) -> Loc:
    loc = tuple(error["loc"])
    if len(loc) > 2 and loc[0] == "script" and isinstance(loc[1], int):
        loc = loc[:2] + loc[3:]  # pydantic puts the step's type in the path: drop it
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc += ("type",)
    return loc


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field (a typo?)"
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return f"must be one of {', '.join(SCRIPT_COMMANDS)}"
    return error["msg"]


def _dotted(loc: Loc) -> str:
    """('script', 3, 'cap') -> 'script[3].cap'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(file)"


def _raise_if(path: Path, problems: list[str]) -> None:
    """One line: the file, then its first few problems (a long list is counted)."""
    if not problems:
        return
    shown = "; ".join(problems[:MAX_PROBLEMS])
    more = len(problems) - MAX_PROBLEMS
    raise ScenarioError(f"{path}: {shown}" + (f"; and {more} more" if more > 0 else ""))
