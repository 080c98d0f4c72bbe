"""抽奖: eligibility from the log, a seeded draw, a re-run from the log, and its fairness."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chisquare

from console.domain.decisions import NewEvent, Refused
from console.domain.draws import (
    DrawCriteria,
    draw,
    eligible,
    parse_seed,
    rerun_draw,
    seed_text,
    start_draw,
)
from console.domain.events import Event, EventType
from console.domain.feed import describe
from console.domain.room import fold
from console.domain.segments import Segment


class Log:
    """A session's log built by hand: numbered events, one member's circle and nick each."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(
        self,
        kind: EventType,
        member: str | None,
        ts: float,
        segment: Segment | None = Segment.S2,
        opted_out: bool = False,
        nick: str = "",
        **data: Any,
    ) -> Event:
        seq = len(self.events) + 1
        made = Event(
            seq,
            f"e{seq}",
            kind,
            ts,
            member,
            segment,
            nick=nick or (f"{member[0]}*{member[-1]}" if member else ""),
            data=data,
            opted_out=opted_out,
        )
        self.events.append(made)
        return made

    def logged(self, new: NewEvent) -> Event:
        seq = len(self.events) + 1
        made = Event(seq, f"e{seq}", new.type, new.ts, data=new.data)
        self.events.append(made)
        return made


ALL = DrawCriteria("定制冰杯", 1)


def room() -> Log:
    log = Log()
    log.add(EventType.VIEWER_JOINED, "m-vip", 0, Segment.S1, nick="林*薇")
    log.add(EventType.VIEWER_JOINED, "m-loyal", 0, Segment.S2)
    log.add(EventType.COMMENT, "m-loyal", 60, Segment.S2, text="好喝吗？")
    log.add(EventType.VIEWER_LEFT, "m-loyal", 300, Segment.S2)  # 5 minutes
    log.add(EventType.VIEWER_JOINED, "m-quiet", 500, Segment.S6, opted_out=True)
    log.add(EventType.VIEWER_JOINED, "guest-1", 10, None)  # not in the member base
    log.add(EventType.COMMENT, "m-gone", 20, Segment.S4, text="+1")  # commented, never joined
    return log


def test_eligibility_reads_circles_watch_time_comments_and_presence() -> None:
    events = room().events
    now = 600.0
    assert eligible(events, ALL, now) == ["m-gone", "m-loyal", "m-quiet", "m-vip"]
    s1_s6 = DrawCriteria("杯", 1, frozenset({Segment.S1, Segment.S6}))
    assert eligible(events, s1_s6, now) == ["m-quiet", "m-vip"]  # opted out: still eligible
    five = DrawCriteria("杯", 1, min_watch_minutes=5)
    assert eligible(events, five, now) == ["m-loyal", "m-vip"]  # m-quiet: 100 s so far
    assert eligible(events, DrawCriteria("杯", 1, must_comment=True), now) == ["m-gone", "m-loyal"]
    here = DrawCriteria("杯", 1, in_room_now=True)
    assert eligible(events, here, now) == ["m-quiet", "m-vip"]
    # Watch time counts only up to the draw: at 200 s nobody has watched 5 minutes.
    assert eligible(events[:3], five, 200.0) == []


def test_rejoining_and_out_of_order_times_never_count_twice_or_negative() -> None:
    log = Log()
    log.add(EventType.VIEWER_JOINED, "m-a", 0)
    log.add(EventType.VIEWER_JOINED, "m-a", 100)  # a duplicate join keeps the first start
    log.add(EventType.VIEWER_LEFT, "m-a", 120)
    log.add(EventType.VIEWER_LEFT, "m-a", 500)  # not online: nothing
    log.add(EventType.VIEWER_JOINED, "m-b", 900)
    log.add(EventType.VIEWER_LEFT, "m-b", 850)  # left "before" joining: zero, not negative
    two = DrawCriteria("杯", 1, min_watch_minutes=2)
    assert eligible(log.events, two, 1000.0) == ["m-a"]
    assert eligible(log.events, DrawCriteria("杯", 1), 1000.0) == ["m-a", "m-b"]


@given(
    ids=st.lists(st.text(min_size=1, max_size=6), max_size=40, unique=True),
    count=st.integers(min_value=1, max_value=60),
    seed=st.integers(min_value=0, max_value=2**128 - 1),
)
def test_winners_are_distinct_eligible_and_as_many_as_possible(
    ids: list[str], count: int, seed: int
) -> None:
    pool = sorted(ids)
    winners = draw(pool, count, seed)
    assert set(winners) <= set(pool)
    assert len(winners) == len(set(winners)) == min(count, len(pool))
    assert draw(pool, count, seed) == winners  # deterministic given the list and the seed


def test_a_count_below_one_is_not_a_draw() -> None:
    with pytest.raises(ValueError, match="count"):
        draw(["a"], 0, 1)


@given(seed=st.integers(min_value=0, max_value=2**128 - 1))
def test_the_seed_survives_the_log(seed: int) -> None:
    assert parse_seed(seed_text(seed)) == seed
    assert len(seed_text(seed)) == 32


def test_a_draw_is_logged_and_re_runs_from_the_log_prefix() -> None:
    log = room()
    seed = 0x1234_5678_9ABC_DEF0_1357_9BDF_2468_ACE0
    criteria = DrawCriteria(" 定制冰杯 ", 2, frozenset({Segment.S1, Segment.S6}))
    new = start_draw(log.events, criteria, seed, "场控小王", 600.0)
    assert new.type is EventType.DRAW_DRAWN
    data = new.data
    assert data["prize"] == "定制冰杯"
    assert data["eligible"] == 2
    assert data["seed"] == seed_text(seed)
    assert data["circles"] == ["S1", "S6"]
    winners = {w["member_id"]: w for w in data["winners"]}
    assert set(winners) == {"m-vip", "m-quiet"}
    assert winners["m-vip"]["circle"] == "S1"
    assert winners["m-quiet"]["circle"] is None  # opted out: never named by circle
    drawn = log.logged(new)
    # Later events (a late comer, anything) change nothing about the re-run.
    log.add(EventType.VIEWER_JOINED, "m-late", 700, Segment.S1)
    rerun = rerun_draw(log.events, drawn)
    assert rerun.agrees
    assert rerun.winners == [w["member_id"] for w in data["winners"]]
    # A tampered log (another winner written in) is caught.
    forged = Event(
        drawn.seq,
        drawn.id,
        drawn.type,
        drawn.ts,
        data={**data, "winners": [{"member_id": "m-late", "nick": "x"}]},
    )
    assert not rerun_draw(log.events, forged).agrees


def test_nobody_eligible_is_refused_and_logs_nothing() -> None:
    with pytest.raises(Refused) as refused:
        start_draw(room().events, DrawCriteria("杯", 1, frozenset({Segment.S5})), 7, "a", 600.0)
    assert str(refused.value) == "circles: 没有符合条件的观众，未抽奖"
    with pytest.raises(Refused, match="prize"):
        start_draw(room().events, DrawCriteria("  ", 1), 7, "a", 600.0)


def test_winners_are_shown_masked_on_the_board_and_in_the_feed() -> None:
    log = room()
    new = start_draw(log.events, DrawCriteria("定制冰杯", 1, frozenset({Segment.S1})), 3, "a", 600)
    drawn = log.logged(new)
    board = fold(log.events).shoutouts.ordered()
    assert (board[0].kind.value, board[0].text) == ("draw_winner", "恭喜 林*薇 抽中 定制冰杯")
    assert describe(drawn) == "抽奖「定制冰杯」：林*薇 中奖（符合条件 1 人）"
    opted = start_draw(log.events, DrawCriteria("杯", 1, frozenset({Segment.S6})), 3, "a", 600)
    describe(log.logged(opted))
    # The opted-out winner (S6): by masked nick alone, like every winner.
    texts = [s.text for s in fold(log.events).shoutouts.ordered()]
    assert "恭喜 m*t 抽中 杯" in texts


def test_the_draw_is_fair_over_ten_thousand_seeds() -> None:
    """Seeds 0..9999, 2 winners of 25: each viewer should win 2/25 of the draws (800 each).
    Fixed seeds make the chi-square deterministic; p > 0.001 says no viewer is favoured."""
    pool = sorted(f"m{n:05d}" for n in range(25))
    wins: Counter[str] = Counter()
    for seed in range(10_000):
        wins.update(draw(pool, 2, seed))
    observed = [wins[m] for m in pool]
    assert sum(observed) == 20_000
    result = chisquare(observed)  # expected: uniform, 800 each
    assert result.pvalue > 0.001, (result, observed)
    # The first pick alone is uniform too (the order the host reads them out).
    firsts = Counter(draw(pool, 2, seed)[0] for seed in range(10_000))
    assert chisquare([firsts[m] for m in pool]).pvalue > 0.001


_KINDS = (EventType.VIEWER_JOINED, EventType.VIEWER_LEFT, EventType.COMMENT)
_MEMBERS = ("m-a", "m-b", "m-c", "m-d", "guest")


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(_KINDS),
            st.sampled_from(_MEMBERS),
            st.floats(min_value=0, max_value=3600),
            st.sampled_from(list(Segment)),
            st.booleans(),
        ),
        max_size=40,
    ),
    circles=st.frozensets(st.sampled_from(list(Segment)), max_size=3),
    minutes=st.floats(min_value=0, max_value=30),
    must_comment=st.booleans(),
    in_room_now=st.booleans(),
    count=st.integers(min_value=1, max_value=6),
    seed=st.integers(min_value=0, max_value=2**128 - 1),
)
def test_any_logged_draw_re_runs_and_a_stricter_one_draws_from_fewer(
    steps: list[tuple[EventType, str, float, Segment, bool]],
    circles: frozenset[Segment],
    minutes: float,
    must_comment: bool,
    in_room_now: bool,
    count: int,
    seed: int,
) -> None:
    log = Log()
    for kind, member, ts, segment, opted_out in steps:
        log.add(kind, member, ts, None if member == "guest" else segment, opted_out)
    now = 3600.0
    criteria = DrawCriteria("杯", count, circles, minutes, must_comment, in_room_now)
    pool = eligible(log.events, criteria, now)
    assert "guest" not in pool
    strict = DrawCriteria("杯", count, circles, minutes + 1, True, True)
    assert set(eligible(log.events, strict, now)) <= set(pool)
    if not pool:
        with pytest.raises(Refused):
            start_draw(log.events, criteria, seed, "a", now)
        return
    drawn = log.logged(start_draw(log.events, criteria, seed, "a", now))
    log.add(EventType.COMMENT, "m-a", now + 1, Segment.S1)  # after the draw: no effect
    rerun = rerun_draw(log.events, drawn)
    assert rerun.agrees
    assert rerun.eligible == pool
    assert len(rerun.winners) == min(count, len(pool))
