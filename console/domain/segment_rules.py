"""Segment rules (分层规则): which circle a member falls in, from their scores and aggregates.

Rules are data (``resources/segments/rules.toml``, parsed by the caller). Rules are tried in
file order and the first match wins, so precedence is the order in the file; members who
match nothing get ``default``, members without a purchase in the window ``no_orders``. The
KOC flag is separate: it overlaps the segments (seed 001) and never changes pricing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from console.domain.rfm import MemberAggregates, Scores
from console.domain.segments import ALL_SEGMENTS, Segment

SCORE_FIELDS = ("r", "f", "m", "x")
RAW_FIELDS = ("recency_days", "frequency", "monetary", "expansion")
_CONDITION = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)\s*$")


class RulesError(ValueError):
    """The rules are malformed; the message names the rule and field."""


@dataclass(frozen=True)
class Condition:
    field: str
    low: float
    high: float  # inclusive bounds

    def holds(self, values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = (values >= self.low) & (values <= self.high)
        return result

    def describe(self) -> str:
        if self.low == self.high:
            return f"{self.field}={self.low:g}"
        if self.high == np.inf:
            return f"{self.field}>={self.low:g}"
        if self.low == -np.inf:
            return f"{self.field}<={self.high:g}"
        return f"{self.field} {self.low:g}..{self.high:g}"


@dataclass(frozen=True)
class Rule:
    segment: Segment
    conditions: tuple[Condition, ...]
    note: str = ""


SOCIAL_KINDS = ("share", "invite", "message")


@dataclass(frozen=True)
class RuleSet:
    version: str
    window_days: int
    rules: tuple[Rule, ...]
    default: Segment
    no_orders: Segment
    koc: tuple[Condition, ...]
    expansion_weights: Mapping[str, float]  # X counts social actions with these weights


@dataclass(frozen=True)
class Assignment:
    """The outcome for every member: segment index into ALL_SEGMENTS, KOC flag, rule used.

    ``rule`` is the index of the matching rule, -1 for the default and -2 for no orders.
    """

    segment: npt.NDArray[np.int8]
    koc: npt.NDArray[np.bool_]
    rule: npt.NDArray[np.int16]

    def segments(self) -> list[Segment]:
        return [ALL_SEGMENTS[i] for i in self.segment]


def parse_rules(raw: Mapping[str, Any]) -> RuleSet:
    """A RuleSet from the parsed rules file; RulesError naming what is wrong."""
    try:
        version = str(raw["version"])
        window_days = int(raw["window_days"])
        default = _segment(raw["default"], "default")
        no_orders = _segment(raw["no_orders"], "no_orders")
    except KeyError as exc:
        raise RulesError(f"missing field {exc.args[0]}") from exc
    if window_days <= 0:
        raise RulesError("window_days must be positive")
    rules = []
    for index, entry in enumerate(raw.get("segments", [])):
        where = f"segments[{index}]"
        if not isinstance(entry, Mapping) or "id" not in entry:
            raise RulesError(f"{where}: needs an id")
        rules.append(
            Rule(
                segment=_segment(entry["id"], f"{where}.id"),
                conditions=_conditions(entry.get("when", {}), f"{where}.when"),
                note=str(entry.get("note", "")),
            )
        )
    if not rules:
        raise RulesError("no [[segments]] rules")
    koc = _conditions(raw.get("koc", {}), "koc")
    if not koc:
        raise RulesError("koc: needs at least one condition")
    weights = raw.get("expansion", {})
    if not isinstance(weights, Mapping) or set(weights) != set(SOCIAL_KINDS):
        raise RulesError(f"expansion: needs a weight for each of {', '.join(SOCIAL_KINDS)}")
    try:
        expansion = {kind: float(weights[kind]) for kind in SOCIAL_KINDS}
    except (TypeError, ValueError):
        raise RulesError("expansion: weights must be numbers") from None
    return RuleSet(version, window_days, tuple(rules), default, no_orders, koc, expansion)


def _segment(value: Any, where: str) -> Segment:
    try:
        return Segment(value)
    except ValueError:
        raise RulesError(f"{where}: unknown segment {value!r}") from None


def _conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    if not isinstance(raw, Mapping):
        raise RulesError(f"{where}: must be a table of field = condition")
    conditions = []
    for field, text in raw.items():
        if field not in SCORE_FIELDS + RAW_FIELDS:
            known = ", ".join(SCORE_FIELDS + RAW_FIELDS)
            raise RulesError(f"{where}.{field}: unknown field; one of {known}")
        conditions.append(_condition(field, str(text), f"{where}.{field}"))
    return tuple(conditions)


def _condition(field: str, text: str, where: str) -> Condition:
    if match := _RANGE.match(text):
        low, high = float(match[1]), float(match[2])
        if low > high:
            raise RulesError(f"{where}: empty range {text!r}")
        return Condition(field, low, high)
    if not (match := _CONDITION.match(text)):
        raise RulesError(f"{where}: {text!r} is not like '>=4', '<=2', '==1' or '2..3'")
    op, value = match[1], float(match[2])
    bounds = {
        ">=": (value, np.inf),
        ">": (np.nextafter(value, np.inf), np.inf),
        "<=": (-np.inf, value),
        "<": (-np.inf, np.nextafter(value, -np.inf)),
        "==": (value, value),
    }[op]
    return Condition(field, *bounds)


def _columns(scores: Scores, aggregates: MemberAggregates) -> dict[str, npt.NDArray[Any]]:
    return {
        "r": scores.r,
        "f": scores.f,
        "m": scores.m,
        "x": scores.x,
        "recency_days": aggregates.recency_days,
        "frequency": aggregates.frequency,
        "monetary": aggregates.monetary,
        "expansion": aggregates.expansion,
    }


def _all_hold(
    conditions: Sequence[Condition], columns: Mapping[str, npt.NDArray[Any]], n: int
) -> npt.NDArray[np.bool_]:
    mask = np.ones(n, dtype=np.bool_)
    for condition in conditions:
        mask &= condition.holds(columns[condition.field])
    return mask


def assign(rules: RuleSet, scores: Scores, aggregates: MemberAggregates) -> Assignment:
    """Every member's segment (exactly one), KOC flag and the rule that decided it."""
    n = len(aggregates.frequency)
    columns = _columns(scores, aggregates)
    index_of = {segment: i for i, segment in enumerate(ALL_SEGMENTS)}
    segment = np.full(n, index_of[rules.default], dtype=np.int8)
    rule_used = np.full(n, -1, dtype=np.int16)
    decided = ~aggregates.active
    segment[decided] = index_of[rules.no_orders]
    rule_used[decided] = -2
    for number, rule in enumerate(rules.rules):
        hit = _all_hold(rule.conditions, columns, n) & ~decided
        segment[hit] = index_of[rule.segment]
        rule_used[hit] = number
        decided |= hit
    koc = _all_hold(rules.koc, columns, n)
    return Assignment(segment=segment, koc=koc, rule=rule_used)
