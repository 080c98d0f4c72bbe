"""RFM+X scores and segment rules, on cases worked out by hand and on generated ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.rfm import MemberAggregates, explain, quintile_scores, score
from console.domain.segment_rules import RulesError, assign, parse_rules
from console.domain.segments import Segment


def aggregates(
    recency: list[float], frequency: list[int], monetary: list[float], expansion: list[float]
) -> MemberAggregates:
    return MemberAggregates(
        np.array(recency, dtype=float),
        np.array(frequency),
        np.array(monetary, dtype=float),
        np.array(expansion, dtype=float),
    )


def test_ten_distinct_values_make_two_per_score() -> None:
    # below = 0..9 of n = 10: 1 + floor(5 * below / 10) -> 1,1,2,2,3,3,4,4,5,5
    assert quintile_scores(range(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_a_big_tie_shares_the_score_of_its_lowest_place() -> None:
    # 6 members with one order, 2 with two, 1 with three, 1 with nine (n = 10):
    # one order: nobody below -> F1; two: 6 below -> 1 + 3 = F4; three: 8 below -> F5.
    frequency = [1, 1, 1, 1, 1, 1, 2, 2, 3, 9]
    assert quintile_scores(frequency).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


def test_everybody_equal_scores_one() -> None:
    assert quintile_scores([7, 7, 7]).tolist() == [1, 1, 1]


def test_values_outside_the_population_take_their_place_in_it() -> None:
    population = [0, 0, 0, 0, 5, 10]  # 4 zeros
    assert quintile_scores(population, [0, 1, 10, 100]).tolist() == [1, 4, 5, 5]


def test_recency_is_reversed_and_members_without_orders_score_one() -> None:
    agg = aggregates(
        recency=[1, 10, 100, 200, np.nan],
        frequency=[5, 3, 2, 1, 0],
        monetary=[500, 300, 200, 100, 0],
        expansion=[0, 0, 4, 0, 9],
    )
    scores = score(agg)
    # Among the 4 active: days 1, 10, 100, 200 -> reversed below counts 3, 2, 1, 0.
    assert scores.r.tolist() == [4, 3, 2, 1, 1]
    assert scores.f.tolist() == [4, 3, 2, 1, 1]
    assert scores.m.tolist() == [4, 3, 2, 1, 1]
    # X against the active: zeros (3 of 4) -> X1; 4 -> 3 below -> X4; the inactive 9 -> X5.
    assert scores.x.tolist() == [1, 1, 4, 1, 5]


RULES = {
    "version": "test-1",
    "window_days": 365,
    "default": "S4",
    "no_orders": "S6",
    "expansion": {"share": 1, "invite": 3, "message": 0.2},
    "koc": {"x": ">=5"},
    "segments": [
        {"id": "S1", "when": {"r": ">=4", "f": ">=4", "m": ">=4"}},
        {"id": "S5", "when": {"x": ">=5"}},
        {"id": "S2", "when": {"r": ">=3", "f": ">=3"}},
    ],
}


def test_first_matching_rule_wins_and_koc_overlaps() -> None:
    rules = parse_rules(RULES)
    # Ten active members and one without orders. Worked out by hand (n = 10 active):
    # m0: most recent, most orders, most money, most sharing -> R5 F5 M5 X5: S1 (first rule)
    #     and KOC (x>=5) too.
    # m1: least recent, one order, least money -> R1 F1 M1, but X: 8 below -> X5: S5.
    # m2: recency 2 (8 members less recent) -> R5; 10 orders (8 fewer) -> F5; 15 yuan
    #     (only m1 below) -> M1: not S1, not S5 (X1), S2 (r>=3, f>=3).
    # m3-m9: one order each -> F1 -> nothing matches: default S4.
    # m10: no order in the window -> S6; X 30 among the active (8 below) -> X5 -> KOC.
    agg = aggregates(
        recency=[1, 300, 2, 200, 210, 220, 230, 240, 250, 260, np.nan],
        frequency=[20, 1, 10, 1, 1, 1, 1, 1, 1, 1, 0],
        monetary=[900, 10, 15, 20, 20, 20, 20, 20, 20, 20, 0],
        expansion=[50, 40, 0, 0, 0, 0, 0, 0, 0, 0, 30],
    )
    scores = score(agg)
    assert (scores.r[0], scores.f[0], scores.m[0], scores.x[0]) == (5, 5, 5, 5)
    assert (scores.r[1], scores.f[1], scores.m[1], scores.x[1]) == (1, 1, 1, 5)
    assert (scores.r[2], scores.f[2], scores.m[2], scores.x[2]) == (5, 5, 1, 1)
    assert scores.x[10] == 5
    result = assign(rules, scores, agg)
    segments = result.segments()
    assert segments[:3] == [Segment.S1, Segment.S5, Segment.S2]
    assert segments[3:10] == [Segment.S4] * 7
    assert segments[10] is Segment.S6
    assert result.koc.tolist() == [True, True] + [False] * 8 + [True]
    assert result.rule.tolist() == [0, 1, 2] + [-1] * 7 + [-2]


def test_every_member_gets_exactly_one_segment() -> None:
    rules = parse_rules(RULES)
    rng = np.random.default_rng(7)
    n = 500
    agg = MemberAggregates(
        rng.uniform(0, 365, n),
        rng.integers(0, 20, n),
        rng.uniform(0, 1000, n),
        rng.uniform(0, 30, n),
    )
    result = assign(rules, score(agg), agg)
    assert len(result.segment) == n
    assert set(result.segment.tolist()) <= set(range(6))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"default": "S9"}, "default: unknown segment 'S9'"),
        ({"segments": [{"id": "S1", "when": {"q": ">=4"}}]}, "segments[0].when.q: unknown field"),
        ({"segments": [{"id": "S1", "when": {"r": "about 4"}}]}, "is not like"),
        ({"segments": [{"id": "S1", "when": {"r": "4..2"}}]}, "empty range"),
        ({"segments": []}, "no [[segments]] rules"),
        ({"koc": {}}, "koc: needs at least one condition"),
        ({"expansion": {"share": 1}}, "expansion: needs a weight"),
        ({"window_days": 0}, "window_days must be positive"),
    ],
)
def test_malformed_rules_are_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(RulesError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_rules({**RULES, **change})


def test_the_shipped_rules_parse() -> None:
    import tomllib

    from console.resources import resource_path

    rules = parse_rules(tomllib.loads(resource_path("segments/rules.toml").read_text("utf-8")))
    assert rules.rules[0].segment is Segment.S1
    assert {rule.segment for rule in rules.rules} | {rules.default, rules.no_orders} == set(Segment)


def test_explanation() -> None:
    assert explain("S3", 3, 3, 3, 5) == "S3: R3 F3 M3 X5"
    assert explain("S1", 5, 5, 5, 5, koc=True) == "S1: R5 F5 M5 X5 · KOC"


# -- properties ------------------------------------------------------------------------------

members = st.integers(min_value=1, max_value=60)


@st.composite
def populations(draw: st.DrawFn) -> MemberAggregates:
    n = draw(members)
    floats = st.floats(min_value=0, max_value=1000, allow_nan=False)
    return MemberAggregates(
        np.array(draw(st.lists(st.floats(0, 365), min_size=n, max_size=n))),
        np.array(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))),
        np.array(draw(st.lists(floats, min_size=n, max_size=n))),
        np.array(draw(st.lists(st.floats(0, 50), min_size=n, max_size=n))),
    )


@given(populations())
def test_scores_stay_within_one_to_five(agg: MemberAggregates) -> None:
    scores = score(agg)
    for values in (scores.r, scores.f, scores.m, scores.x):
        assert values.min() >= 1
        assert values.max() <= 5


@given(populations(), st.data())
def test_improving_ones_own_value_never_lowers_ones_score(
    agg: MemberAggregates, data: st.DataObject
) -> None:
    who = data.draw(st.integers(0, len(agg.frequency) - 1))
    before = score(agg)
    better = MemberAggregates(
        agg.recency_days.copy(),
        agg.frequency.copy(),
        agg.monetary.copy(),
        agg.expansion.copy(),
    )
    better.frequency[who] += data.draw(st.integers(1, 10))  # more orders: also now active
    better.monetary[who] += data.draw(st.floats(0, 500))
    better.recency_days[who] = max(0.0, better.recency_days[who] - data.draw(st.floats(0, 100)))
    after = score(better)
    if agg.frequency[who] > 0:  # was already active: compared within the same population
        assert after.r[who] >= before.r[who]
    assert after.f[who] >= before.f[who]
    assert after.m[who] >= before.m[who]


@given(
    st.lists(st.integers(0, 2_000), min_size=1, max_size=80),
    st.lists(st.integers(-10, 2_100), min_size=1, max_size=20),
    st.sampled_from([1, 10_000_000]),
)
def test_counting_gives_the_same_scores_as_sorting(
    population: list[int], values: list[int], outlier: int
) -> None:
    pop = np.array([*population, population[0] * outlier], dtype=float)  # maybe a wholesale buyer
    vals = np.array(values, dtype=float)
    below = np.searchsorted(np.sort(pop), vals, side="left")
    expected = np.clip(1 + (5 * below) // pop.size, 1, 5)
    assert quintile_scores(pop, vals).tolist() == expected.tolist()
