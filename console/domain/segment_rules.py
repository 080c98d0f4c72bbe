"""Segment rules (分层规则): which circle a member falls in, from their scores and aggregates.

Rules are data (``resources/segments/rules.toml``, parsed by the caller). Rules are tried in
file order and the first match wins, so precedence is the order in the file; members who
match nothing get ``default``, members without a purchase in the window ``no_orders``. The
KOC flag is separate: it overlaps the segments (seed 001) and never changes pricing.

Order of the circles. For a member who buys more, more recently, spends more and shares
more than another (better or equal on every raw value) never to land in a circle that
precedes the other's in ``WORSE_ORDER`` (S6, then S4, S3, S2, S5, S1), the rules must be
*monotone*: the rules of the "good" circles (S1, S5, S2, S3) only ask for at least so much
(``r >= 4``, ``monetary >= 2000``, ``recency_days <= 30``), those of the "low" circle S6
only for at most so much, every good rule comes before every low one, and a circle's rules
follow the order of ``WORSE_ORDER`` backwards. ``monotone_problems`` checks a rule set for
exactly that; the shipped rules pass it, and a property test holds them to it.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from console.domain.rfm import LETTERS, LetterScoring, MemberAggregates, Method, Scores, Scoring
from console.domain.segment_run import MAX_WINDOW_DAYS
from console.domain.segments import ALL_SEGMENTS, Segment

SCORE_FIELDS = ("r", "f", "m", "x")
RAW_FIELDS = ("recency_days", "frequency", "monetary", "expansion")
_CONDITION = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)\s*$")


# Worst first; S5 (influencers, any value) stands where the rules put it: after S1.
WORSE_ORDER: tuple[Segment, ...] = (
    Segment.S6,
    Segment.S4,
    Segment.S3,
    Segment.S2,
    Segment.S5,
    Segment.S1,
)
LOW_SEGMENTS = frozenset({Segment.S6})
# Fields where more is better; recency_days is the one where less is better.
_LOWER_IS_BETTER = frozenset({"recency_days"})


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
    name: str = ""  # the rule's Chinese name for explanations (最近购买且常买)


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
    scoring: Scoring = dataclasses.field(default_factory=Scoring)

    def with_window(self, window_days: int | None) -> RuleSet:
        """The same rules over another window (an operator's ``--window-days``)."""
        if window_days is None or window_days == self.window_days:
            return self
        if not 1 <= window_days <= MAX_WINDOW_DAYS:
            raise RulesError(f"window_days must be 1..{MAX_WINDOW_DAYS}")
        return replace(self, window_days=window_days)


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
                name=str(entry.get("name", "")),
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
    scoring = _scoring(raw.get("scoring", {}))
    return RuleSet(version, window_days, tuple(rules), default, no_orders, koc, expansion, scoring)


def _scoring(raw: Any) -> Scoring:
    """``[scoring]``: per letter ``{ method = "...", cuts = [...], per = "month" }``."""
    if not isinstance(raw, Mapping):
        raise RulesError("scoring: must be a table of letter = { method = ... }")
    letters: dict[str, LetterScoring] = {}
    for name, entry in raw.items():
        where = f"scoring.{name}"
        if name not in LETTERS:
            raise RulesError(f"{where}: unknown letter; one of {', '.join(LETTERS)}")
        if not isinstance(entry, Mapping):
            raise RulesError(f'{where}: must be a table like {{ method = "quintiles" }}')
        unknown = set(entry) - {"method", "cuts", "per"}
        if unknown:
            raise RulesError(f"{where}: unknown key {sorted(unknown)[0]}")
        try:
            method = Method(entry.get("method", "quintiles"))
        except ValueError:
            known = ", ".join(m.value for m in Method)
            raise RulesError(f"{where}.method: one of {known}") from None
        letters[name] = LetterScoring(
            method, _cuts(entry, name, method, where), _per(entry, name, where)
        )
    return Scoring(**letters)


def _cuts(entry: Mapping[str, Any], name: str, method: Method, where: str) -> tuple[float, ...]:
    raw = entry.get("cuts")
    if method is not Method.THRESHOLDS:
        if raw is not None:
            raise RulesError(f'{where}.cuts: only for method = "thresholds"')
        return ()
    if not isinstance(raw, list):
        raise RulesError(f"{where}.cuts: four numbers, where scores 2, 3, 4 and 5 begin")
    try:
        cuts = tuple(float(c) for c in raw)
    except (TypeError, ValueError):
        raise RulesError(f"{where}.cuts: four numbers, where scores 2, 3, 4 and 5 begin") from None
    if len(cuts) != 4:
        raise RulesError(f"{where}.cuts: four numbers, where scores 2, 3, 4 and 5 begin")
    steps = [b - a for a, b in itertools.pairwise(cuts)]
    if name == "r" and not all(step < 0 for step in steps):
        raise RulesError(f"{where}.cuts: days must fall (R5 is the most recent)")
    if name != "r" and not all(step > 0 for step in steps):
        raise RulesError(f"{where}.cuts: must rise")
    return cuts


def _per(entry: Mapping[str, Any], name: str, where: str) -> bool:
    per = entry.get("per")
    if per is None:
        return False
    if name != "f" or per != "month" or entry.get("method") != Method.THRESHOLDS:
        raise RulesError(f'{where}.per: only per = "month" on F thresholds')
    return True


def monotone_problems(rules: RuleSet) -> list[str]:
    """Why a better member could land in a worse circle under these rules (empty: never).

    See the module notes: good circles' rules only ask for "at least", the low circle's
    only for "at most", and rules come in the order of their circles, best first."""
    problems: list[str] = []
    rank = {segment: WORSE_ORDER.index(segment) for segment in WORSE_ORDER}
    if rank[rules.default] <= max(rank[s] for s in LOW_SEGMENTS):
        problems.append(f"default {rules.default} must rank above the low circles")
    last = len(WORSE_ORDER)
    for number, rule in enumerate(rules.rules):
        low = rule.segment in LOW_SEGMENTS
        if rank[rule.segment] > last:
            problems.append(f"rule {number} ({rule.segment}) comes after a worse circle's rule")
        last = rank[rule.segment]
        if not low and rank[rule.segment] <= rank[rules.default]:
            problems.append(f"rule {number} ({rule.segment}) ranks under the default")
        for condition in rule.conditions:
            lower_better = condition.field in _LOWER_IS_BETTER
            at_least = condition.high == np.inf
            at_most = condition.low == -np.inf
            wants_more = at_most if lower_better else at_least
            wants_less = at_least if lower_better else at_most
            # "frequency <= 1" also reads "== 1": members without orders are decided first.
            if condition.field == "frequency" and condition.low == condition.high == 1:
                wants_less = True
            if not (wants_less if low else wants_more):
                kind = "at most" if low else "at least"
                problems.append(
                    f"rule {number} ({rule.segment}): {condition.describe()} is not {kind}"
                )
    return problems


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
