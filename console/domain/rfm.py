"""RFM+X scoring (分层打分): recency, frequency, money and social expansion, 1-5 by quintile.

Vectorised with numpy and pure: inputs are per-member aggregates, outputs are score arrays.

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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SCORES = 5
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ScoreArray = npt.NDArray[np.int8]


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


def score(aggregates: MemberAggregates) -> Scores:
    """R, F, M, X for every member (see the module notes on ties and inactive members)."""
    active = aggregates.active
    n = len(aggregates.frequency)
    r = np.ones(n, dtype=np.int8)
    f = np.ones(n, dtype=np.int8)
    m = np.ones(n, dtype=np.int8)
    if active.any():
        # Recency is reversed: fewer days since the last purchase is better.
        r[active] = quintile_scores(-np.floor(aggregates.recency_days[active]))
        f[active] = quintile_scores(aggregates.frequency[active])
        m[active] = quintile_scores(np.floor(aggregates.monetary[active]))
    tenths = np.round(aggregates.expansion * 10)
    x = quintile_scores(tenths[active], tenths)
    return Scores(r=r, f=f, m=m, x=x)


def explain(segment: str, r: int, f: int, m: int, x: int, koc: bool = False) -> str:
    """One line a person can check: ``S3: R3 F3 M3 X5 · KOC``."""
    text = f"{segment}: R{r} F{f} M{m} X{x}"
    return text + " · KOC" if koc else text
