"""Scoring methods, monotone rules, explanations and the run decision (tracker issue 15)."""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.decisions import RefusalKind
from console.domain.rfm import (
    LetterScoring,
    MemberAggregates,
    Method,
    Scores,
    Scoring,
    distinct_quantile_scores,
    score,
    threshold_scores,
)
from console.domain.segment_explain import describe_run, explain_member
from console.domain.segment_rules import (
    WORSE_ORDER,
    RulesError,
    RuleSet,
    assign,
    monotone_problems,
    parse_rules,
)
from console.domain.segment_run import RunBlocker, RunFacts, RunRequest, decide_run
from console.domain.segments import ALL_SEGMENTS, Segment
from console.resources import resource_path


def shipped_raw() -> dict[str, Any]:
    return tomllib.loads(resource_path("segments/rules.toml").read_text("utf-8"))


SHIPPED = parse_rules(shipped_raw())


def heavy_tail(repeaters: list[int], singles: int = 95) -> MemberAggregates:
    """``singles`` one-order members, then one member per entry with that many orders."""
    n = singles + len(repeaters)
    rng = np.random.default_rng(3)
    return MemberAggregates(
        rng.uniform(0, 300, n),
        np.array([1] * singles + repeaters),
        rng.lognormal(4, 1, n),
        np.zeros(n),
    )


# -- methods ---------------------------------------------------------------------------------


def test_quintiles_make_two_orders_f5_on_a_heavy_tail_and_thresholds_do_not() -> None:
    agg = heavy_tail([2, 2, 3, 2, 30])
    assert score(agg).f[95:].tolist() == [5, 5, 5, 5, 5]  # the issue's finding
    f = score(agg, SHIPPED.scoring, SHIPPED.window_days).f
    # Orders per month over 365 days: 2 -> 0.16 (F2), 3 -> 0.25 (F2), 30 -> 2.5 (F5).
    assert f[95:].tolist() == [2, 2, 2, 2, 5]
    assert set(f[:95].tolist()) == {1}


def test_per_month_thresholds_follow_the_window() -> None:
    monthly = Scoring(f=LetterScoring(Method.THRESHOLDS, (0.15, 0.3, 0.5, 1.0), per_month=True))
    agg = MemberAggregates(np.array([1.0]), np.array([11]), np.array([100.0]), np.zeros(1))
    assert score(agg, monthly, 365).f.tolist() == [4]  # 11 a year: 0.92 a month
    assert score(agg, monthly, 180).f.tolist() == [5]  # 11 in half a year: 1.9 a month
    assert score(agg, monthly, 365).cuts["f"] == (0.15, 0.3, 0.5, 1.0)


def test_recency_thresholds_count_days_down() -> None:
    days = Scoring(r=LetterScoring(Method.THRESHOLDS, (180, 90, 30, 7)))
    agg = MemberAggregates(
        np.array([3.0, 7.5, 30.0, 100.0, 400.0]), np.ones(5, dtype=int), np.ones(5), np.zeros(5)
    )
    assert score(agg, days).r.tolist() == [5, 5, 4, 2, 1]


def test_distinct_quantiles_give_a_big_tie_one_step() -> None:
    population = [1] * 95 + [2, 2, 3, 4, 9]
    # Distinct 1, 2, 3, 4, 9: one score each however many share a value.
    assert distinct_quantile_scores(population, [1, 2, 3, 4, 9]).tolist() == [1, 2, 3, 4, 5]
    assert threshold_scores((1, 3, 8, 15), [0, 1, 2.9, 8, 100]).tolist() == [1, 2, 2, 4, 5]


def test_quintile_cut_points_are_reported() -> None:
    agg = MemberAggregates(
        np.arange(1.0, 11.0), np.arange(1, 11), np.arange(10.0, 110.0, 10), np.zeros(10)
    )
    cuts = score(agg).cuts
    assert cuts["f"] == (3.0, 5.0, 7.0, 9.0)  # ten distinct: two per score
    assert cuts["r"] == (8.0, 6.0, 4.0, 2.0)  # days: R2 within 8 days ... R5 within 2


@pytest.mark.parametrize(
    ("scoring", "message"),
    [
        ({"q": {"method": "quintiles"}}, "scoring.q: unknown letter"),
        ({"f": {"method": "deciles"}}, "scoring.f.method: one of"),
        ({"f": {"method": "thresholds"}}, "scoring.f.cuts: four numbers"),
        ({"f": {"method": "thresholds", "cuts": [1, 2, 3]}}, "four numbers"),
        ({"m": {"method": "thresholds", "cuts": [1, 5, 3, 9]}}, "scoring.m.cuts: must rise"),
        ({"r": {"method": "thresholds", "cuts": [7, 30, 90, 180]}}, "days must fall"),
        ({"m": {"method": "quintiles", "cuts": [1, 2, 3, 4]}}, "only for method"),
        ({"m": {"method": "thresholds", "cuts": [1, 2, 3, 4], "per": "month"}}, "per"),
    ],
)
def test_malformed_scoring_is_named(scoring: dict[str, Any], message: str) -> None:
    with pytest.raises(RulesError, match=message):
        parse_rules({**shipped_raw(), "scoring": scoring})


# -- the shipped default ---------------------------------------------------------------------


def test_the_shipped_rules_are_monotone_and_the_old_ones_were_not() -> None:
    assert monotone_problems(SHIPPED) == []
    old = shipped_raw()
    old["segments"] = [
        {"id": "S2", "when": {"r": ">=4", "f": ">=5"}},
        {"id": "S3", "when": {"r": ">=3", "f": "2..4", "m": ">=3"}},  # an upper bound on F
        {"id": "S6", "when": {"frequency": "==1", "r": "<=2"}},
    ]
    problems = monotone_problems(parse_rules(old))
    assert problems == ["rule 1 (S3): f 2..4 is not at least"]
    reordered = shipped_raw()
    reordered["segments"] = [reordered["segments"][2], reordered["segments"][0]]
    assert "comes after a worse circle's rule" in " ".join(
        monotone_problems(parse_rules(reordered))
    )


def test_heavy_tail_top_spenders_are_not_price_sensitive() -> None:
    # The issue's base: one order each; the five biggest spenders bought recently.
    agg = heavy_tail([1, 1, 1, 1, 1])
    agg.monetary[95:] = [900, 1500, 2600, 4000, 6000]
    agg.recency_days[95:] = [40, 20, 10, 5, 2]
    scores = score(agg, SHIPPED.scoring, SHIPPED.window_days)
    segments = assign(SHIPPED, scores, agg).segments()
    assert segments[95:] == [Segment.S3] * 5  # 高潜成长: a recent big first order
    assert {Segment.S3, Segment.S4, Segment.S6} == set(segments)
    # Repeat buyers among them: loyal, and the biggest of them diamond core.
    agg.frequency[95:] = [2, 3, 8, 14, 20]
    agg.monetary[97] = 1800
    scores = score(agg, SHIPPED.scoring, SHIPPED.window_days)
    segments = assign(SHIPPED, scores, agg).segments()[95:]
    assert segments == [Segment.S3, Segment.S3, Segment.S2, Segment.S1, Segment.S1]
    # (Quintiles over these 100 members made all five F5 and S1 or S2, two orders alike.)


# -- property: who buys more, more recently, never lands lower ------------------------------


def test_the_old_s3_rule_put_a_member_who_buys_more_below_one_who_buys_less() -> None:
    # B: three orders, mid recency, mid spend; A: the same and ten more orders.
    agg = MemberAggregates(
        np.array([100.0, 100.0]), np.array([3, 13]), np.array([300.0, 300.0]), np.zeros(2)
    )
    scores = Scores(
        r=np.array([3, 3], dtype=np.int8),
        f=np.array([3, 5], dtype=np.int8),
        m=np.array([3, 3], dtype=np.int8),
        x=np.array([1, 1], dtype=np.int8),
    )
    old = shipped_raw()
    old["segments"] = [
        {"id": "S2", "when": {"r": ">=4", "f": ">=5"}},
        {"id": "S3", "when": {"r": ">=3", "f": "2..4", "m": ">=3"}},
    ]
    assert assign(parse_rules(old), scores, agg).segments() == [Segment.S3, Segment.S4]
    assert assign(SHIPPED, scores, agg).segments() == [Segment.S3, Segment.S3]


letter_methods = st.sampled_from(
    [
        LetterScoring(),
        LetterScoring(Method.DISTINCT_QUANTILES),
        LetterScoring(Method.THRESHOLDS, (0.5, 1, 3, 8)),
    ]
)


@st.composite
def scorings(draw: st.DrawFn) -> Scoring:
    recency = draw(
        st.sampled_from([LetterScoring(), LetterScoring(Method.THRESHOLDS, (200, 90, 30, 7))])
    )
    return Scoring(
        r=recency, f=draw(letter_methods), m=draw(letter_methods), x=draw(letter_methods)
    )


@st.composite
def populations(draw: st.DrawFn) -> MemberAggregates:
    n = draw(st.integers(1, 40))
    orders = st.sampled_from([0, 1, 1, 1, 2, 3, 4, 6, 13, 30])  # mostly one, a long tail
    frequency = np.array(draw(st.lists(orders, min_size=n, max_size=n)))
    recency = np.array(draw(st.lists(st.floats(0, 365), min_size=n, max_size=n)))
    recency[frequency == 0] = np.nan
    return MemberAggregates(
        recency,
        frequency,
        np.array(draw(st.lists(st.floats(0, 5000), min_size=n, max_size=n))),
        np.array(
            draw(st.lists(st.sampled_from([0.0, 0.2, 1, 2, 4, 9, 20]), min_size=n, max_size=n))
        ),
    )


@settings(max_examples=300, deadline=None)
@given(populations(), scorings(), st.data())
def test_a_member_who_buys_more_more_recently_never_lands_lower(
    agg: MemberAggregates, scoring: Scoring, data: st.DataObject
) -> None:
    """The property, as the rules module states it: if A is at least as good as B on every
    raw value (days since the last order, orders, spend, expansion), A scores at least as
    high on every letter and A's circle never precedes B's in WORSE_ORDER (S6 < S4 < S3 <
    S2 < S5 < S1), whichever method each letter uses."""
    b = data.draw(st.integers(0, len(agg.frequency) - 1))
    frequency = int(agg.frequency[b]) + data.draw(st.sampled_from([0, 1, 3, 12]))
    if frequency == 0:
        recency = np.nan
    elif agg.frequency[b] == 0:
        recency = data.draw(st.floats(0, 365))
    else:
        recency = max(0.0, float(agg.recency_days[b]) - data.draw(st.sampled_from([0, 5, 60])))
    both = MemberAggregates(
        np.append(agg.recency_days, recency),
        np.append(agg.frequency, frequency),
        np.append(agg.monetary, agg.monetary[b] + data.draw(st.floats(0, 3000))),
        np.append(agg.expansion, agg.expansion[b] + data.draw(st.sampled_from([0, 1, 10]))),
    )
    a = len(both.frequency) - 1
    rules = RuleSet(**{**SHIPPED.__dict__, "scoring": scoring})
    scores = score(both, scoring, rules.window_days)
    for letter in (scores.r, scores.f, scores.m, scores.x):
        assert letter[a] >= letter[b]
    assignment = assign(rules, scores, both)
    circle_a, circle_b = (ALL_SEGMENTS[assignment.segment[i]] for i in (a, b))
    assert WORSE_ORDER.index(circle_a) >= WORSE_ORDER.index(circle_b)


# -- explanations ----------------------------------------------------------------------------


def explained(recency: list[float], frequency: list[int], monetary: list[float]) -> list[str]:
    n = len(frequency)
    agg = MemberAggregates(
        np.array(recency, dtype=float), np.array(frequency), np.array(monetary), np.zeros(n)
    )
    scores = score(agg, SHIPPED.scoring, SHIPPED.window_days)
    assignment = assign(SHIPPED, scores, agg)
    run = describe_run(SHIPPED, scores.cuts)
    return [
        explain_member(
            run,
            int(assignment.rule[i]),
            ALL_SEGMENTS[assignment.segment[i]].value,
            {k: int(getattr(scores, k)[i]) for k in "rfmx"},
            {
                "recency_days": None if np.isnan(recency[i]) else recency[i],
                "frequency": frequency[i],
                "monetary": monetary[i],
                "expansion": 0.0,
            },
        )
        for i in range(n)
    ]


def test_explanations_name_the_rule_its_thresholds_and_the_members_values() -> None:
    recency = [12.0, 3.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 320.0, np.nan]
    frequency = [9, 2, 1, 1, 1, 1, 1, 1, 1, 0]
    monetary = [500.0, 80, 30, 40, 50, 60, 20, 10, 5, 0]
    lines = explained(recency, frequency, monetary)
    loyal = lines[0]
    assert loyal.startswith("S2 忠诚复购：规则『最近购买且常买』命中")
    assert "F≥4（每月≥0.5单）：每月0.75单（9单）" in loyal
    assert "R≥4（≤" in loyal
    assert "12天前" in loyal
    assert lines[-1] == "S6 沉睡新客：窗口内没有订单（近 365 天无购买）"
    assert "只买过一次" in lines[-2]  # an old single order: the S6 rule, named
    default = [line for line in lines if line.startswith("S4")]
    assert default
    assert default[0].startswith("S4 价格敏感：未命中任何规则")


# -- may a run go ----------------------------------------------------------------------------


def facts(**overrides: Any) -> RunFacts:
    values: dict[str, Any] = {
        "today": date(2026, 11, 30),
        "live_sessions": 0,
        "newest_order": date(2018, 9, 3),
        "buyers_in_window": 0,
        **overrides,
    }
    return RunFacts(**values)


def test_a_window_without_orders_is_refused_naming_the_newest_order() -> None:
    verdict = decide_run(RunRequest(None, 365), facts())
    assert not verdict.go
    assert verdict.blocker is RunBlocker.EMPTY_WINDOW
    assert verdict.reason_cli().startswith("最新订单是 2018-09-03；")
    assert "请用 --as-of 2018-09-03，或加大窗口（--window-days）" in verdict.reason_cli()
    assert verdict.reason_zh().startswith("最新订单是 2018-09-03")
    refusal = verdict.refusal().refusal
    assert (refusal.kind, refusal.field) == (RefusalKind.CONFLICT, "as_of")
    ok = decide_run(RunRequest(date(2018, 9, 3), 365), facts(buyers_in_window=41))
    assert ok.go
    assert ok.as_of == date(2018, 9, 3)
    assert ok.window_start == date(2017, 9, 4)
    # A store without any order at all: every member is honestly without one.
    assert decide_run(RunRequest(None, 365), facts(newest_order=None)).go


def test_a_live_session_blocks_a_run_unless_forced() -> None:
    verdict = decide_run(RunRequest(None, 365), facts(live_sessions=2, buyers_in_window=5))
    assert verdict.blocker is RunBlocker.LIVE_SESSION
    assert verdict.field == "force"
    assert "有 2 场直播正在进行" in verdict.reason_zh()
    assert "--force" in verdict.reason_cli()
    assert decide_run(
        RunRequest(None, 365, force=True), facts(live_sessions=2, buyers_in_window=5)
    ).go


def test_a_window_out_of_bounds_is_invalid() -> None:
    verdict = decide_run(RunRequest(None, 0), facts(buyers_in_window=5))
    assert verdict.blocker is RunBlocker.BAD_WINDOW
    assert verdict.refusal().refusal.kind is RefusalKind.INVALID
    with pytest.raises(RulesError, match="window_days"):
        SHIPPED.with_window(0)
    assert SHIPPED.with_window(3650).window_days == 3650
