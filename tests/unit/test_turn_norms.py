"""The room-turn prompts' thresholds from the brand's past shows, entries falling, and the
presented product converting below its norm (hand-worked)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from console.domain.events import EventType
from console.domain.room import RoomState, fold, initial_state
from console.domain.segments import Segment
from console.domain.shoutouts import ShoutoutKind
from console.domain.snapshot import from_snapshot, to_snapshot
from console.domain.turn_norms import (
    DROP_SHARE,
    ENTRIES_DROP_SHARE,
    MAX_DROP_SHARE,
    PresentationResult,
    ShowSummary,
    TurnSettings,
    entries_falls,
    norm_sources,
    percentile,
    settings_from_history,
    summarize,
    window_falls,
)
from console.domain.turns import show_summary
from tests.unit.test_turns import T0, Log, raised, room, turns


def went_live_with(**data: Any) -> RoomState:
    """The empty room of a show that went live with these thresholds (the session's JSON)."""
    return initial_state({"turn_settings": TurnSettings(**data).to_data()})


# -- the definitions, worked by hand ----------------------------------------------------------


def test_percentile_is_the_nearest_rank() -> None:
    assert percentile([0.1, 0.5, 0.2, 0.4, 0.3], 0.9) == 0.5  # rank ceil(4.5) = 5
    assert percentile([0.1] * 9 + [0.9], 0.9) == 0.1  # rank 9 of 10
    assert percentile([0.3], 0.9) == 0.3


def test_window_falls_carry_a_missing_minute_forward_and_skip_small_bases() -> None:
    # Minutes 0..6 with minute 3 missing (it stood at minute 2's 16); window of 2 minutes.
    series = [(0, 20), (1, 18), (2, 16), (4, 10), (5, 4), (6, 4)]
    # m2: (20-16)/20 = .2; m3: (18-16)/18 = .111; m4: (16-10)/16 = .375;
    # m5: (16-4)/16 = .75; m6: (10-4)/10 = .6
    falls = window_falls(series, 2)
    assert [round(f, 3) for f in falls] == [0.2, 0.111, 0.375, 0.75, 0.6]
    # A base under five viewers is not judged, and a rise is no fall.
    assert window_falls([(0, 4), (1, 0), (2, 9), (3, 12)], 1) == [0.0]


def test_entries_falls_start_after_the_opening() -> None:
    # Entries so far per minute, window 1: minutes 0..5 have 10, 8, 6, 6, 3, 6 entries.
    series = [(0, 10), (1, 18), (2, 24), (3, 30), (4, 33), (5, 39)]
    # The first window before may start at minute 1 (i = 3): before = 24-18 = 6,
    # now = 30-24 = 6 -> 0; i = 4: before 6, now 3 -> .5; i = 5: before 3 (< 5) -> skipped.
    assert entries_falls(series, 1) == [0.0, 0.5]


def test_the_brand_norms_are_medians_of_its_shows_within_bounds() -> None:
    shows = [
        ShowSummary(0.20, 0.40, {"p1": (0.10, 0.30), "p2": (0.50,)}),
        ShowSummary(0.40, None, {"p1": (0.20,)}),
        ShowSummary(0.95, 0.60, {}),
    ]
    settings = settings_from_history(shows)
    assert settings.drop_share == 0.40  # median of .2, .4, .95
    assert settings.entries_drop_share == 0.50  # median of .4, .6
    assert settings.conversion_norms == {"p1": 0.20}  # p2 has one presentation: no norm
    assert settings.from_shows == 3
    assert settings_from_history([ShowSummary(0.99, 0.99, {})] * 3).drop_share == MAX_DROP_SHARE
    # One show is no norm: the defaults.
    one = settings_from_history(shows[:1])
    assert (one.drop_share, one.entries_drop_share) == (DROP_SHARE, ENTRIES_DROP_SHARE)


def test_what_the_catalog_sets_wins_over_the_norms() -> None:
    shows = [ShowSummary(0.2, 0.4, {}), ShowSummary(0.2, 0.4, {})]
    settings = settings_from_history(shows, {"drop_share": 0.5, "window_min": 3.0})
    assert (settings.drop_share, settings.window_min) == (0.5, 3)
    assert settings.entries_drop_share == 0.4
    assert settings.configured == ("drop_share", "window_min")


def test_a_logged_setting_out_of_bounds_keeps_the_default() -> None:
    data = {"window_min": 99, "drop_share": "x", "conversion_norms": {"p": 2.0, "q": 0.1}}
    settings = TurnSettings.from_data(data | {"configured": ["drop_share", "evil"]})
    assert settings.window_min == TurnSettings().window_min
    assert settings.drop_share == DROP_SHARE
    assert settings.conversion_norms == {"q": 0.1}
    assert settings.configured == ("drop_share",)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    _containers,
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(list(TurnSettings().to_data())), _json))
def test_any_logged_settings_read_without_error_and_round_trip(data: dict[str, Any]) -> None:
    settings = TurnSettings.from_data(data)
    assert TurnSettings.from_data(settings.to_data()) == settings


# -- in the fold ------------------------------------------------------------------------------


def test_fewer_entering_than_the_window_before_raises_an_entries_prompt() -> None:
    log = Log()
    log.ticks(T0, T0 + 26 * 60)
    n = 0
    for minute in range(26):  # 4 a minute until minute 15, then 1 a minute
        for _ in range(4 if minute < 15 else 1):
            log.join(T0 + minute * 60 + 1 + n % 50, f"m{n}", Segment.S2)
            n += 1
    events = log.sorted()
    # Entries so far at minute m's close: 4(m+1) up to minute 14 (60), then 60 + (m-14).
    # When minute M starts, the last window is minutes M-5..M-1 and the one before it
    # M-10..M-6. Minute 17 starts: 52-32 = 20 before, 62-52 = 10 since: 50%, not over it.
    # Minute 18 starts: 56-36 = 20 before, 63-56 = 7 since: 65%, raised.
    first = fold([e for e in events if e.ts < T0 + 18 * 60 + 1])
    (prompt,) = turns(first, ShoutoutKind.ENTRIES_DROP)
    assert prompt.text == "进房 近5分钟 7 人次，比前5分钟少了 65%（20→7），可在群里再喊一轮"
    assert raised(fold([e for e in events if e.ts < T0 + 18 * 60]), ShoutoutKind.ENTRIES_DROP) == 0
    # It refreshes while it waits, the last time when minute 22 starts: 63-52 = 11 before,
    # 67-63 = 4 since (63%); at minute 23, 64-56 = 8 -> 4 is 50%, not over the threshold.
    state = fold(events)
    (prompt,) = turns(state, ShoutoutKind.ENTRIES_DROP)
    assert prompt.text.startswith("进房 近5分钟 4 人次，比前5分钟少了 63%（11→4）")
    assert raised(state, ShoutoutKind.ENTRIES_DROP) == 1
    assert raised(state, ShoutoutKind.ONLINE_DROP) == 0


def test_the_opening_wave_fading_is_no_entries_prompt() -> None:
    log = Log()
    log.ticks(T0, T0 + 20 * 60)
    for n in range(60):  # all 60 in the first two minutes, then nobody
        log.join(T0 + n * 2, f"m{n}", Segment.S2)
    state = fold(log.sorted())
    assert raised(state, ShoutoutKind.ENTRIES_DROP) == 0


def presented_show(buyers: int, norm: float | None) -> RoomState:
    log = room(s1=10, s2=10, s4=0)  # 20 online
    log.add(
        EventType.PRODUCT_PRESENTED, T0 + 30, None, None, product_id="p1", product_name="能量包"
    )
    log.ticks(T0 + 31, T0 + 8 * 60)
    for n in range(buyers):
        log.add(
            EventType.ORDER_PLACED,
            T0 + 60 + n,
            f"a{n}",
            Segment.S1,
            product_id="p1",
            amount=100,
            quantity=1,
        )
    # An order of another product, and a second order of a buyer: neither counts again.
    log.add(
        EventType.ORDER_PLACED, T0 + 90, "b1", Segment.S2, product_id="p2", amount=100, quantity=1
    )
    if buyers:
        log.add(
            EventType.ORDER_PLACED,
            T0 + 91,
            "a0",
            Segment.S1,
            product_id="p1",
            amount=100,
            quantity=1,
        )
    norms = {} if norm is None else {"p1": norm}
    return fold(log.sorted(), went_live_with(conversion_norms=norms))


def test_a_presented_product_converting_below_half_its_norm_raises_a_prompt() -> None:
    state = presented_show(buyers=1, norm=0.20)  # 1 of 20 is 5%, under half of 20%
    (prompt,) = turns(state, ShoutoutKind.CONVERSION_LOW)
    # Raised when minute 4 starts (3.5 minutes in), refreshed each minute while it waits:
    # the last when minute 7 starts, 6.5 minutes in.
    assert prompt.text.startswith("能量包 讲了6分钟 转化 5.0%，低于品牌常态 20.0%")
    assert (prompt.fields["buyers"], prompt.fields["base"]) == (1, 20)
    assert raised(state, ShoutoutKind.CONVERSION_LOW) == 1  # refreshed, not repeated


def test_conversion_at_half_the_norm_or_without_a_norm_raises_nothing() -> None:
    assert raised(presented_show(buyers=2, norm=0.20), ShoutoutKind.CONVERSION_LOW) == 0
    assert raised(presented_show(buyers=0, norm=None), ShoutoutKind.CONVERSION_LOW) == 0


def test_a_show_summary_reconciles_with_its_log() -> None:
    log = room(s1=10, s2=10, s4=0)
    log.add(EventType.PRODUCT_PRESENTED, T0 + 30, None, None, product_id="p1")
    for n in range(3):
        log.add(
            EventType.ORDER_PLACED,
            T0 + 60 + n,
            f"a{n}",
            Segment.S1,
            product_id="p1",
            amount=1,
            quantity=1,
        )
    log.ticks(T0 + 31, T0 + 10 * 60)
    log.add(EventType.PRODUCT_PRESENTED, T0 + 10 * 60, None, None, product_id="p2")
    log.add(
        EventType.ORDER_PLACED,
        T0 + 10 * 60 + 5,
        "b1",
        Segment.S2,
        product_id="p2",
        amount=1,
        quantity=1,
    )
    log.ticks(T0 + 10 * 60 + 10, T0 + 12 * 60)  # p2 presented under 3 minutes: not judged
    state = fold(log.sorted())
    assert state.presentations == [PresentationResult("p1", T0 + 30, T0 + 600, 20, 3)]
    summary = show_summary(state)
    assert summary.conversions == {"p1": (0.15,)}
    # Through a snapshot (the replay's checkpoints) the state is the same.
    assert show_summary(from_snapshot(to_snapshot(state))) == summary
    assert summarize([], [], []) == ShowSummary(None, None, {})


def test_a_session_without_thresholds_folds_with_the_defaults() -> None:
    assert initial_state({}).turn_settings == TurnSettings()
    assert initial_state(None).turn_settings.is_default
    assert went_live_with(drop_share=0.5).turn_settings.drop_share == 0.5


def test_the_norms_come_from_real_shows_and_from_rehearsals_only_when_too_few() -> None:
    ended = [("r1", True), ("w1", False), ("r2", True), ("w2", False), ("w3", False)]
    assert norm_sources(ended, 2) == ["w1", "w2"]
    assert norm_sources([("r1", True), ("w1", False), ("r2", True)], 10) == ["w1", "r1", "r2"]
    # Too few real shows: every real one stays, rehearsals fill the rest.
    many = [(f"r{n}", True) for n in range(12)] + [("w1", False)]
    assert norm_sources(many, 10) == ["w1"] + [f"r{n}" for n in range(9)]
    assert norm_sources([], 10) == []


def test_conversion_counts_viewers_joining_during_it_and_never_exceeds_one() -> None:
    log = room(s1=4, s2=0, s4=0)  # 4 in the room when p1 is presented
    log.add(EventType.PRODUCT_PRESENTED, T0 + 30, None, None, product_id="p1")
    for n in range(6):  # 6 more join during it, and all 10 buy
        log.join(T0 + 40 + n, f"late{n}", Segment.S2)
    buyers = [f"a{n}" for n in range(4)] + [f"late{n}" for n in range(6)]
    buyers.append("never-in-the-room")  # ordered without being there: not a viewer's order
    for n, member in enumerate(buyers):
        log.add(
            EventType.ORDER_PLACED, T0 + 60 + n, member, None, product_id="p1", amount=1, quantity=1
        )
    log.ticks(T0 + 100, T0 + 5 * 60)
    log.add(EventType.PRODUCT_PRESENTED, T0 + 5 * 60, None, None, product_id="p2")
    state = fold(log.sorted())
    (p1,) = state.presentations
    assert (p1.viewers, p1.buyers, p1.conversion) == (10, 10, 1.0)
