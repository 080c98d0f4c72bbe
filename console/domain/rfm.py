"""RFM+X scoring (分层打分): recency, frequency, money and social expansion, 1-5.

Vectorised with numpy and pure: inputs are per-member aggregates, outputs are score arrays.

Methods. Each letter is scored by one of three methods, chosen per letter in the rules file
(``[scoring]``, see ``Method``): ``quintiles`` (the place among the scored population, below),
``thresholds`` (absolute cut points, e.g. F as orders per month over the window, seed 001's
月均下单频次) and ``distinct_quantiles`` (the place among the population's *distinct* values,
so a huge tie such as "one order" or "never shared" takes one step, not four). All three are
monotone: a member whose own value improves never scores lower, and of two members the one
with the better raw value never scores lower. Each run reports, per letter, the raw value at
which each score from 2 to 5 begins (``Scores.cuts``), so an explanation can name them.

Ties. A score is fixed by how many members of the scored population are strictly below a
value: ``1 + floor(5 * below / n)``. Equal values therefore always score alike, a huge tie
cannot straddle two scores, and it scores where its lowest member stands: when most members
have exactly one order, all of them are F1 (not a mix of F1 and F2 decided by row order),
and members who never shared are X1. A member whose own value improves never scores lower.

Population. Scores are set by the members active in the window (at least one purchase). A
member with no purchase in the window gets R1 F1 M1 and the X score their expansion would
earn among the active members.

Units. R counts whole days, M whole yuan and X tenths (the rules' weights are in tenths):
smaller differences say nothing about a customer, and on whole units a score is a count
over a small range (``bincount``), with no sort.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

SCORES = 5
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ScoreArray = npt.NDArray[np.int8]
LETTERS = ("r", "f", "m", "x")
DAYS_PER_MONTH = 365.25 / 12
Cuts = tuple[float | None, ...]  # raw value where scores 2, 3, 4, 5 begin (None: unreached)


class Method(StrEnum):
    """How one letter turns raw values into 1-5."""

    QUINTILES = "quintiles"
    THRESHOLDS = "thresholds"
    DISTINCT_QUANTILES = "distinct_quantiles"


@dataclass(frozen=True)
class LetterScoring:
    """One letter's method. ``cuts`` (thresholds only): the raw values where scores 2, 3, 4
    and 5 begin; for R they are days, a score reached at *or under* its cut (so decreasing).
    ``per_month`` (F only): thresholds count orders per month over the window."""

    method: Method = Method.QUINTILES
    cuts: tuple[float, ...] = ()
    per_month: bool = False


@dataclass(frozen=True)
class Scoring:
    """The method of each letter (default: quintiles for all, as before rules chose)."""

    r: LetterScoring = LetterScoring()
    f: LetterScoring = LetterScoring()
    m: LetterScoring = LetterScoring()
    x: LetterScoring = LetterScoring()

    def letter(self, name: str) -> LetterScoring:
        result: LetterScoring = getattr(self, name)
        return result


@dataclass(frozen=True)
class MemberAggregates:
    """Per-member facts as of the run date, one entry per member (same order everywhere).

    ``recency_days`` is days since the last purchase in the window (NaN: none);
    ``frequency`` purchases in the window; ``monetary`` net spend in the window (returns
    deducted, never below 0); ``expansion`` weighted social actions in the window.
    """

    recency_days: FloatArray
    frequency: IntArray
    monetary: FloatArray
    expansion: FloatArray

    def __post_init__(self) -> None:
        sizes = {
            len(self.recency_days),
            len(self.frequency),
            len(self.monetary),
            len(self.expansion),
        }
        if len(sizes) != 1:
            raise ValueError(f"aggregate arrays differ in length: {sorted(sizes)}")

    @property
    def active(self) -> npt.NDArray[np.bool_]:
        return self.frequency > 0


@dataclass(frozen=True)
class Scores:
    """R, F, M, X scores (1-5) per member, in the aggregates' order."""

    r: ScoreArray
    f: ScoreArray
    m: ScoreArray
    x: ScoreArray
    cuts: Mapping[str, Cuts] = field(default_factory=dict)


def quintile_scores(population: npt.ArrayLike, values: npt.ArrayLike | None = None) -> ScoreArray:
    """Score ``values`` (default: the population itself) 1-5 against ``population``.

    Higher values score higher. Values outside the population get the score of the place
    they would take in it. An empty population scores everything 1.
    """
    pop = np.asarray(population, dtype=np.float64)
    vals = pop if values is None else np.asarray(values, dtype=np.float64)
    if pop.size == 0:
        return np.ones(vals.shape, dtype=np.int8)
    below = _count_below(pop, vals)
    return np.clip(1 + (SCORES * below) // pop.size, 1, SCORES).astype(np.int8)


def _count_below(pop: FloatArray, vals: FloatArray) -> IntArray:
    """For each value, how many of the population are strictly smaller.

    Whole numbers are counted (``bincount``) over a range of at most ``4n`` above the
    smallest; the few population values beyond it (a wholesale buyer's spend) are sorted on
    their own. Anything else is sorted.
    """
    if not (np.array_equal(pop, np.floor(pop)) and np.array_equal(vals, np.floor(vals))):
        found: IntArray = np.searchsorted(np.sort(pop), vals, side="left")
        return found
    low = min(pop.min(), vals.min())
    width = max(4 * pop.size, 4096)
    in_range = pop - low < width
    counts = np.bincount((pop[in_range] - low).astype(np.int64), minlength=width)
    below_value = np.cumsum(counts) - counts
    offsets = vals - low
    near = offsets < width
    below = np.empty(vals.shape, dtype=np.int64)
    below[near] = below_value[offsets[near].astype(np.int64)]
    if not near.all():
        beyond = np.sort(pop[~in_range])
        below[~near] = int(in_range.sum()) + np.searchsorted(beyond, vals[~near], side="left")
    return below


def distinct_quantile_scores(
    population: npt.ArrayLike, values: npt.ArrayLike | None = None
) -> ScoreArray:
    """Score 1-5 by the place among the population's distinct values.

    ``1 + floor(5 * below / d)`` with ``below`` the distinct population values strictly
    smaller and ``d`` how many distinct values there are: one order, two orders and three
    orders are three steps however many members share each.
    """
    pop = np.asarray(population, dtype=np.float64)
    vals = pop if values is None else np.asarray(values, dtype=np.float64)
    if pop.size == 0:
        return np.ones(vals.shape, dtype=np.int8)
    distinct = np.unique(pop)
    below = np.searchsorted(distinct, vals, side="left")
    return np.clip(1 + (SCORES * below) // distinct.size, 1, SCORES).astype(np.int8)


def threshold_scores(cuts: tuple[float, ...], values: npt.ArrayLike) -> ScoreArray:
    """``1 +`` how many of the (increasing) cuts the value reaches."""
    vals = np.asarray(values, dtype=np.float64)
    found = np.searchsorted(np.asarray(cuts, dtype=np.float64), vals, side="right")
    return (1 + found).astype(np.int8)


def months(window_days: float) -> float:
    return window_days / DAYS_PER_MONTH


def _letter_scores(
    how: LetterScoring, pop: FloatArray, vals: FloatArray | None = None
) -> ScoreArray:
    """Scores of ``vals`` (default: ``pop``) by ``how``; higher values are better here."""
    if how.method is Method.THRESHOLDS:
        return threshold_scores(how.cuts, pop if vals is None else vals)
    if how.method is Method.DISTINCT_QUANTILES:
        return distinct_quantile_scores(pop, vals)
    return quintile_scores(pop, vals)


def _cuts(pop: FloatArray, scored: ScoreArray) -> Cuts:
    """The smallest population value that reaches each score 2..5 (None: nobody does)."""
    # One pass: the lowest value at each score, then the lowest at that score or above.
    lowest = np.full(SCORES + 1, np.inf)
    np.minimum.at(lowest, scored, pop)
    reached = np.minimum.accumulate(lowest[::-1])[::-1]
    return tuple(float(v) if np.isfinite(v) else None for v in reached[2:])


def score(
    aggregates: MemberAggregates, scoring: Scoring | None = None, window_days: float = 365
) -> Scores:
    """R, F, M, X for every member (see the module notes on methods, ties and inactive
    members); ``window_days`` turns F into orders per month where the rules ask for it."""
    scoring = scoring or Scoring()
    active = aggregates.active
    n = len(aggregates.frequency)
    letters = {name: np.ones(n, dtype=np.int8) for name in LETTERS}
    cuts: dict[str, Cuts] = {}
    if active.any():
        # Recency is reversed: fewer days since the last purchase is better, so days are
        # scored negated (and thresholds on days negated with them).
        days = -np.floor(aggregates.recency_days[active])
        r_how = scoring.r
        if r_how.method is Method.THRESHOLDS:
            r_how = LetterScoring(Method.THRESHOLDS, tuple(-c for c in r_how.cuts))
        frequency = aggregates.frequency[active].astype(np.float64)
        if scoring.f.per_month:
            frequency = frequency / months(window_days)
        raw = {"r": days, "f": frequency, "m": np.floor(aggregates.monetary[active])}
        for name, how in (("r", r_how), ("f", scoring.f), ("m", scoring.m)):
            scored = _letter_scores(how, raw[name])
            letters[name][active] = scored
            cuts[name] = _cuts(raw[name], scored)
        cuts["r"] = tuple(None if c is None else -c for c in cuts["r"])
    tenths = np.round(aggregates.expansion * 10)
    if scoring.x.method is Method.THRESHOLDS:
        letters["x"] = threshold_scores(scoring.x.cuts, aggregates.expansion)
        cuts["x"] = tuple(scoring.x.cuts)
    else:
        letters["x"] = _letter_scores(scoring.x, tenths[active], tenths)
        x_cuts = _cuts(tenths[active], letters["x"][active])
        cuts["x"] = tuple(None if c is None else c / 10 for c in x_cuts)
    for name in LETTERS:
        how = scoring.letter(name)
        if how.method is Method.THRESHOLDS:
            cuts[name] = tuple(how.cuts)  # the rules' own figures, even where nobody reaches
    return Scores(r=letters["r"], f=letters["f"], m=letters["m"], x=letters["x"], cuts=cuts)


def explain(segment: str, r: int, f: int, m: int, x: int, koc: bool = False) -> str:
    """One line a person can check: ``S3: R3 F3 M3 X5 · KOC``."""
    text = f"{segment}: R{r} F{f} M{m} X{x}"
    return text + " · KOC" if koc else text
