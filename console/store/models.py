"""Request bodies shared by the API and the file importers (one validation for both), and
the field types every request body is built from.

Bodies are strict (``StrictBody``): ``"1"`` or ``true`` is no quantity, ``NaN`` no price.
JSON has no enums and no dates, so circles and dates are parsed from their strings
(``LaxSegment``, ``BoundedDate``); dates and free-form JSON are checked against the bounds
in ``console.domain.bounds``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from console.domain.bounds import date_problem, epoch_problem, json_value_problem, texts_problem
from console.domain.catalog import MAX_SCRIPT_CHARS, MAX_SCRIPT_LINES, fen_from_yuan
from console.domain.segments import Segment
from console.domain.turn_norms import SETTABLE
from console.store.messages import BOUNDS_ERROR


class StrictBody(BaseModel):
    """A request body: no coercion (a string is no number, a bool no integer), only finite
    numbers. Fields of types JSON cannot carry say ``Strict(False)`` (see below)."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _storable_text(self) -> StrictBody:
        """No field's text may hold what a database cannot keep (a NUL, a lone surrogate):
        checked once each field has its type, so a wrong type is said first."""
        for name in type(self).model_fields:
            reason = texts_problem(getattr(self, name))
            if reason is not None:
                raise _out_of_bounds(f"{name}：{reason}")
        return self


def _out_of_bounds(reason: str) -> PydanticCustomError:
    return PydanticCustomError(BOUNDS_ERROR, reason)


def _check_date(day: date) -> date:
    reason = date_problem(day.date() if isinstance(day, datetime) else day)
    if reason:
        raise _out_of_bounds(reason)
    return day


def _date_text(value: Any) -> Any:
    """Dates come as ISO text: a number is no date here (lax pydantic reads it as epoch)."""
    if isinstance(value, str | date):
        return value
    raise _out_of_bounds("必须是日期文本（如 2026-11-20 或 2026-11-20T20:00:00+08:00）")


def _check_epoch(seconds: float) -> float:
    reason = epoch_problem(seconds)
    if reason:
        raise _out_of_bounds(reason)
    return seconds


def _check_free_json(value: Any) -> Any:
    found = json_value_problem(value)
    if found is not None:
        path, reason = found
        raise _out_of_bounds(f"{path}：{reason}" if path else reason)
    return value


LaxSegment = Annotated[Segment, Strict(False)]
"""A circle, from its name ("S1")."""
BoundedDate = Annotated[
    date, Strict(False), BeforeValidator(_date_text), AfterValidator(_check_date)
]
"""A date from its ISO text, within ``MIN_DATE``..``MAX_DATE``."""
BoundedDatetime = Annotated[
    datetime, Strict(False), BeforeValidator(_date_text), AfterValidator(_check_date)
]
"""A time from its ISO text, on a day within ``MIN_DATE``..``MAX_DATE``."""
BoundedEpoch = Annotated[float, AfterValidator(_check_epoch)]
"""Epoch seconds within the same window."""


def _expiry_kind(value: Any) -> str:
    if isinstance(value, str):
        return "datetime" if "T" in value or " " in value.strip() else "date"
    return "epoch"


Expiry = Annotated[
    Annotated[BoundedDate, Tag("date")]
    | Annotated[BoundedDatetime, Tag("datetime")]
    | Annotated[BoundedEpoch, Tag("epoch")],
    Discriminator(_expiry_kind),
]
"""A date (the end of that day), a time, or epoch seconds: each within the bounds. Told
apart by its form, so a bad value gets one reason, for the form it has."""
FreeJson = Annotated[dict[str, Any], AfterValidator(_check_free_json)]
"""A free-form JSON object the store keeps as given: bounded nesting, 64-bit integers,
finite numbers, valid Unicode (``console.domain.bounds.json_value_problem``)."""

MAX_AUDIENCE_MEMBERS = 100_000
MAX_PRICE_YUAN = 1_000_000  # ten thousand times a premium gift box: a typo, not a price
MAX_STOCK = 10_000_000


class OfferIn(StrictBody):
    product_id: str = Field(min_length=1, max_length=64)
    segment: LaxSegment | None = Field(default=None, description="null: the standard offer")
    price: float = Field(ge=0, le=MAX_PRICE_YUAN, description="yuan")
    perk: str = Field(default="", max_length=60)
    limit: int = Field(default=0, ge=0, le=999, description="per member; 0: no limit")
    visible: bool = True


class AudienceIn(StrictBody):
    """受众: members in any of these circles, carrying this tag, or listed (any match)."""

    segments: list[LaxSegment] = Field(default_factory=list, max_length=6)
    tag: str = Field(default="", max_length=32)
    members: list[str] = Field(default_factory=list, max_length=MAX_AUDIENCE_MEMBERS)


def _check_script_line(line: str) -> str:
    if not line.strip():
        raise _out_of_bounds("话术不能是空白")
    if any(ch in line for ch in "\r\n\t") or not line.isprintable():
        raise _out_of_bounds("一句话术只能是一行（不能含换行或控制字符）")
    return line


ScriptLine = Annotated[
    str, Field(min_length=1, max_length=MAX_SCRIPT_CHARS), AfterValidator(_check_script_line)
]
"""One line of 话术: one printable line of at most ``MAX_SCRIPT_CHARS`` characters."""


class ScriptIn(StrictBody):
    """话术: a product's lines for the host; with ``segment``, for that circle only. A
    misspelt key (``segmnet``) is refused: it would make one circle's lines everyone's."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="forbid")

    product_id: str = Field(min_length=1, max_length=64)
    segment: LaxSegment | None = Field(default=None, description="null: the general lines")
    lines: list[ScriptLine] = Field(min_length=1, max_length=MAX_SCRIPT_LINES)


def _one_script_each(scripts: list[ScriptIn]) -> list[ScriptIn]:
    seen: set[tuple[str, Segment | None]] = set()
    for n, script in enumerate(scripts):
        key = (script.product_id, script.segment)
        if key in seen:
            whose = script.segment.value if script.segment else "通用"
            raise _out_of_bounds(
                f"第 {n} 项重复：{script.product_id} 的{whose}话术已经写过（每个商品每个圈层一组）"
            )
        seen.add(key)
    return scripts


def _percent_of(name: str) -> Any:
    low, high = SETTABLE[name]
    return Field(default=None, ge=low * 100, le=high * 100)


class PromptsIn(StrictBody):
    """场控提示阈值: what a session sets instead of the brand's norms (percentages here, the
    shares ``console.domain.turn_norms`` uses in the log). Unset: the brand's norm."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="forbid")

    window_minutes: int | None = Field(
        default=None, ge=SETTABLE["window_min"][0], le=SETTABLE["window_min"][1]
    )
    online_drop_percent: float | None = _percent_of("drop_share")
    entries_drop_percent: float | None = _percent_of("entries_drop_share")
    circle_margin_percent: float | None = _percent_of("circle_margin")
    conversion_below_percent: float | None = _percent_of("conversion_share")

    def settings(self) -> dict[str, float]:
        """As ``turn_norms.SETTABLE`` names them: shares, and the window in minutes."""
        chosen = {
            "window_min": self.window_minutes,
            "drop_share": self.online_drop_percent,
            "entries_drop_share": self.entries_drop_percent,
            "circle_margin": self.circle_margin_percent,
            "conversion_share": self.conversion_below_percent,
        }
        return {
            name: float(value) if name == "window_min" else round(value / 100, 6)
            for name, value in chosen.items()
            if value is not None
        }


class CatalogIn(StrictBody):
    lineup: list[str] = Field(max_length=200, description="product ids in presentation order")
    offers: list[OfferIn] = Field(default_factory=list, max_length=2_000)
    audience: AudienceIn | None = None
    scripts: Annotated[list[ScriptIn], AfterValidator(_one_script_each)] = Field(
        default_factory=list, max_length=1_400, description="话术 (general or a circle's)"
    )
    prompts: PromptsIn | None = Field(
        default=None, description="场控提示阈值 (unset: the brand's norms from past shows)"
    )

    def script_rows(self) -> list[dict[str, Any]]:
        return [s.model_dump() for s in self.scripts]

    def offer_rows(self) -> list[dict[str, Any]]:
        """The offers as the store keeps them: prices in fen."""
        return [{**o.model_dump(), "price": fen_from_yuan(o.price)} for o in self.offers]
