"""When the store folds a growing log into its replay index (``IndexPacer``), with explicit
times: a quiet log at once, a burst after it is over, and never later than ``max_defer_s``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from console.store.replay_index import IndexPacer

PASS_S = 0.5  # the follower's pass


def pacer(busy_rate: float = 1_000, max_defer_s: float = 60) -> IndexPacer:
    return IndexPacer(busy_rate, max_defer_s, min_interval_s=PASS_S)


def test_a_quiet_log_is_folded_at_once_and_only_when_it_grew() -> None:
    p = pacer()
    assert p.should_fold("s", 40, 100.0)  # first seen: 40 events in one pass, 80 a second
    assert not p.should_fold("s", 40, 100.5)  # nothing new
    assert p.should_fold("s", 140, 101.0)  # 200 a second
    assert p.should_fold("s", 141, 101.001)  # a rate over less than a pass counts a pass


def test_a_burst_is_deferred_and_folded_once_it_is_over() -> None:
    p = pacer()
    assert p.should_fold("s", 100, 0.0)
    assert not p.should_fold("s", 2_600, 0.5)  # 5,000 a second: acknowledging comes first
    assert not p.should_fold("s", 5_100, 1.0)
    assert not p.should_fold("s", 7_600, 1.5)
    assert p.should_fold("s", 7_600, 2.0)  # the burst is over: all of it, now
    assert not p.should_fold("s", 7_600, 2.5)


def test_a_burst_slowing_below_the_busy_rate_is_folded() -> None:
    p = pacer()
    assert not p.should_fold("s", 10_000, 0.0)
    assert p.should_fold("s", 10_300, 0.5)  # 600 a second


def test_a_log_first_seen_big_counts_as_a_burst() -> None:
    p = pacer()
    assert not p.should_fold("s", 10_000, 50.0)  # all of it grew in one pass
    assert p.should_fold("s", 10_000, 50.5)


def test_max_defer_forces_a_fold_during_a_long_burst() -> None:
    p = pacer(max_defer_s=10)
    seq, now = 0, 0.0
    folds = []
    while now < 25:
        seq += 5_000  # 10,000 a second, without end
        if p.should_fold("s", seq, now):
            folds.append(now)
        now += PASS_S
    assert folds == [10.0, 20.5]  # deferred 10 s at most; the next deferral starts afresh


def test_sessions_are_paced_each_on_its_own() -> None:
    p = pacer()
    assert not p.should_fold("busy", 50_000, 0.0)
    assert p.should_fold("quiet", 10, 0.0)
    assert not p.should_fold("busy", 100_000, 0.5)
    assert p.should_fold("quiet", 20, 0.5)


passes = st.lists(
    st.tuples(st.floats(0.001, 5.0), st.integers(0, 20_000)),  # (seconds since, new events)
    min_size=1,
    max_size=80,
)


@settings(max_examples=200)
@given(passes, st.floats(1.0, 30.0))
def test_no_event_waits_longer_than_max_defer_and_a_pause_folds(
    steps: list[tuple[float, int]], max_defer_s: float
) -> None:
    p = pacer(max_defer_s=max_defer_s)
    now, seq, folded = 0.0, 0, 0
    unfolded_since: float | None = None  # the first pass that saw events not yet folded
    for n, (gap, grown) in enumerate(steps):
        before = now
        now += gap
        seq += grown
        interval = max(now - before, PASS_S) if n else PASS_S  # first seen: one pass
        if seq > folded and unfolded_since is None:
            unfolded_since = now
        if p.should_fold("s", seq, now):
            assert seq > folded, "folded twice at the same seq"
            folded, unfolded_since = seq, None
        elif unfolded_since is not None:
            assert now - unfolded_since < max_defer_s
            assert grown > 0, "the log paused but its fold still waits"
            assert grown / interval > 1_000, "a live room's pace was deferred"
