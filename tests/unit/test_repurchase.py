"""30-day repurchase and LTV by circle (console.domain.repurchase), worked by hand."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from console.domain.repurchase import (
    DAY_S,
    NO_CIRCLE,
    Purchase,
    ltv_by_circle,
    ltv_rows,
    repurchase_caption,
    repurchase_rows,
    session_repurchase,
)
from console.domain.segments import Segment

T0 = 1_750_000_000.0  # the session's orders, about 2025-06-15
X = "sX"


def day(n: float) -> float:
    return T0 + n * DAY_S


END = day(0) + 2 * 3600  # session X ends 2 hours after its orders: the window is (END, END+30d]


# The session X table, worked by hand (amounts in fen):
#
# member circle  orders                                   buyer?  repurchased?
# a      S1      X t0 100; X t0+1h 100 (same session)     yes     no  - same session only
# b      S1      X t0 100; shop END + 30 days exactly 50  yes     yes - day 30 counts
# c      S3      X t0 100; shop END + 30 days + 1 s 50    yes     no  - day 31 does not
# d      S3      X t0 100; session Y day 5 200            yes     yes - later live order
# e      S3      X t0 100; shop day 3 cancelled 80        yes     no  - cancelled is no order
# f      -       X t0 100; shop day 2 60; return day 4 -60 yes    yes - the day-2 order stood
# g      S4      X t0 cancelled 100; shop day 1 50        no      -   - no standing order in X
# h      S4      shop day 1 50 (never bought in X)        no      -
# i      S1      shop day -3 70; X t0 100                 yes     no  - an order before t0
#
# buyers: S1 {a, b, i} = 3, S3 {c, d, e} = 3, none {f} = 1 -> 7
# repurchasers: S1 {b} = 1 -> 1/3; S3 {d} = 1 -> 1/3; none {f} = 1 -> 1/1; total 3/7.
PURCHASES = [
    Purchase("a", day(0), 100, X),
    Purchase("a", day(0) + 3600, 100, X),
    Purchase("b", day(0), 100, X),
    Purchase("b", END + 30 * DAY_S, 50),
    Purchase("c", day(0), 100, X),
    Purchase("c", END + 30 * DAY_S + 1, 50),
    Purchase("d", day(0), 100, X),
    Purchase("d", day(5), 200, "sY"),
    Purchase("e", day(0), 100, X),
    Purchase("e", day(3), 80, standing=False),
    Purchase("f", day(0), 100, X),
    Purchase("f", day(2), 60),
    Purchase("f", day(4), -60),
    Purchase("g", day(0), 100, X, standing=False),
    Purchase("g", day(1), 50),
    Purchase("h", day(1), 50),
    Purchase("i", day(-3), 70),
    Purchase("i", day(0), 100, X),
]
CIRCLES: dict[str, Segment | None] = {
    "a": Segment.S1,
    "b": Segment.S1,
    "c": Segment.S3,
    "d": Segment.S3,
    "e": Segment.S3,
    "f": None,
    "g": Segment.S4,
    "h": Segment.S4,
    "i": Segment.S1,
}


def stamped(purchases: list[Purchase]) -> list[Purchase]:
    """The session's orders with their member's circle, as the store stamps them."""
    return [replace(p, circle=CIRCLES.get(p.member_id)) if p.session_id else p for p in purchases]


def in_circles(purchases: list[Purchase]) -> list[Purchase]:
    """Every order in its member's circle (as the loader fills them; nobody moved circle)."""
    return [replace(p, circle=CIRCLES.get(p.member_id)) for p in purchases]


def test_repurchase_per_circle_worked_by_hand() -> None:
    result = session_repurchase(X, stamped(PURCHASES), now=day(40), ended_at=END)
    assert result.buyers == {"a", "b", "c", "d", "e", "f", "i"}
    assert result.repurchasers == {"b", "d", "f"}
    s1, s3, none = (result.by_circle[k] for k in ("S1", "S3", NO_CIRCLE))
    assert (s1.repurchasers, s1.buyers) == (1, 3)
    assert (s3.repurchasers, s3.buyers) == (1, 3)
    assert (none.repurchasers, none.buyers) == (1, 1)
    assert (result.total.repurchasers, result.total.buyers) == (3, 7)
    assert result.by_circle["S4"].buyers == 0
    assert result.by_circle["S4"].rate.value is None
    assert result.complete
    assert result.days_observed == 30
    body = result.to_json()
    assert body["total"] == {"buyers": 7, "repurchasers": 3, "repurchase_rate": round(3 / 7, 4)}
    assert body["by_segment"]["S1"]["repurchase_rate"] == round(1 / 3, 4)
    assert body["by_segment"]["S2"] == {"buyers": 0, "repurchasers": 0, "repurchase_rate": None}
    assert body["label"] == "30天已满"


def test_window_not_complete_says_so_and_counts_days() -> None:
    # now = t0 + 12.5 days: the window (END, END+30d] is not over; 12 whole days observed
    # (END is 2 hours after t0). b's and c's orders are in the future of this clock.
    early = [p for p in PURCHASES if p.ts <= day(12.5)]
    result = session_repurchase(X, stamped(early), now=day(12.5), ended_at=END)
    assert not result.complete
    assert result.days_observed == 12
    assert result.label() == "未满30天（已观察12天）"
    assert result.repurchasers == {"d", "f"}  # so far: a floor, marked incomplete
    assert result.to_json()["complete"] is False


def test_window_closes_30_days_after_the_sessions_end() -> None:
    # Two buyers, first orders at t0 and t0 + 1 hour; the session ends at END: the window
    # ends at END + 30 days, whoever bought first.
    rows = [Purchase("p", day(0), 100, X), Purchase("q", day(0) + 3600, 100, X)]
    assert not session_repurchase(X, rows, now=END + 30 * DAY_S - 1, ended_at=END).complete
    done = session_repurchase(X, rows, now=END + 30 * DAY_S, ended_at=END)
    assert done.complete
    assert done.window_ends == END + 30 * DAY_S
    assert done.days_observed == 30
    assert done.by_circle[NO_CIRCLE].buyers == 2  # no circle known: 未分圈


def test_an_order_before_the_sessions_end_is_no_repurchase() -> None:
    # p bought in X at t0 and in the shop an hour later, while X was still on (END = t0+2h):
    # the same visit. q's shop order a second after END repurchases.
    rows = [
        Purchase("p", day(0), 100, X),
        Purchase("p", day(0) + 3600, 60),
        Purchase("q", day(0), 100, X),
        Purchase("q", END + 1, 60),
    ]
    result = session_repurchase(X, rows, now=day(40), ended_at=END)
    assert result.repurchasers == {"q"}


def test_a_session_not_ended_has_no_window_yet_whatever_the_clock() -> None:
    # X is still on: no window yet, so the figure is the same at any moment until it ends.
    rows = [Purchase("p", day(0), 100, X), Purchase("p", day(0) + 60, 60)]
    result = session_repurchase(X, rows, now=day(0) + 120, ended_at=None)
    assert result.repurchasers == frozenset()
    assert not result.complete
    assert result.days_observed == 0
    assert result.window_ends is None
    assert result.label() == "本场未结束，30天窗口未开始"
    later = session_repurchase(X, rows, now=day(0) + 7_200, ended_at=None)
    assert later.to_json() == result.to_json()


def test_a_shop_export_repeating_the_live_orders_counts_them_once() -> None:
    # The shop's export holds p's live order o-1 (same order id) and a real shop order o-9.
    # Repurchase: o-1's copy is not a second order (it is the live order, at its shop time
    # after END); LTV: p 100 + q 100 + 50 = 250, not 350.
    rows = [
        Purchase("p", day(0), 100, X, circle=Segment.S2, order_id="o-1"),
        Purchase("p", END + 60, 100, order_id="o-1", circle=Segment.S2),
        Purchase("q", day(0), 100, X, circle=Segment.S2, order_id="o-2"),
        Purchase("q", day(3), 50, order_id="o-9", circle=Segment.S2),
    ]
    assert session_repurchase(X, rows, now=day(40), ended_at=END).repurchasers == {"q"}
    ltv = ltv_by_circle(rows, {"p": Segment.S2, "q": Segment.S2})
    assert (ltv.total.spend, ltv.by_circle["S2"].spend) == (250, 250)
    assert ltv.by_circle["S2"].members == 2


def test_ltv_counts_spend_in_the_circle_it_was_made_in() -> None:
    # m spent 300 as S4 (a live order stamped S4, an imported one the loader found in S4),
    # then 900 as S1 (now S1); n is S1 and never bought. S4: m only, 300; S1: m and n,
    # 900 / 2 = 450; total: 2 members, 1200, 600.
    rows = [
        Purchase("m", day(0), 100, X, circle=Segment.S4),
        Purchase("m", day(1), 200, circle=Segment.S4),
        Purchase("m", day(60), 900, "sY", circle=Segment.S1),
    ]
    result = ltv_by_circle(rows, {"m": Segment.S1, "n": Segment.S1})
    s1, s4 = result.by_circle["S1"], result.by_circle["S4"]
    assert (s4.members, s4.buyers, s4.spend, s4.ltv) == (1, 1, 300, 300)
    assert (s1.members, s1.buyers, s1.spend, s1.ltv) == (2, 1, 900, 450)
    assert (result.total.members, result.total.spend, result.total.ltv) == (2, 1200, 600)


def test_a_session_without_buyers_has_no_rate() -> None:
    result = session_repurchase(X, [Purchase("h", day(1), 50)], now=day(2), ended_at=END)
    assert result.total.buyers == 0
    assert result.total.rate.value is None
    assert result.window_ends is None
    assert result.label() == "无买家"


def test_ltv_by_circle_worked_by_hand() -> None:
    # Net spend per member (fen), standing rows only, returns subtract:
    # a S1: 100 + 100            = 200
    # b S1: 100 + 50             = 150
    # i S1: 70 + 100             = 170   -> S1: 3 members, 520, LTV 520/3 = 173.33 -> 173
    # c S3: 150; d S3: 300; e S3: 100 (the 80 was cancelled) -> S3: 3 members, 550, 183.33 -> 183
    # f none: 100 + 60 - 60      = 100   -> none: 1 member, 100
    # g S4: 50 (the X order was cancelled); h S4: 50 -> S4: 2 members, 100, LTV 50
    # z S2: never bought          = 0     -> S2: 1 member, 0, LTV 0, 0 buyers
    # total: 10 members, 520 + 550 + 100 + 100 + 0 = 1270, LTV 127
    circles = {**CIRCLES, "z": Segment.S2}
    result = ltv_by_circle(in_circles(PURCHASES), circles)
    s1, s2, s3, s4, none = (result.by_circle[k] for k in ("S1", "S2", "S3", "S4", NO_CIRCLE))
    assert (s1.members, s1.spend, s1.ltv) == (3, 520, 173)
    assert (s3.members, s3.spend, s3.ltv) == (3, 550, 183)
    assert (s4.members, s4.spend, s4.ltv, s4.buyers) == (2, 100, 50, 2)
    assert (s2.members, s2.spend, s2.ltv, s2.buyers) == (1, 0, 0, 0)
    assert (none.members, none.spend, none.ltv) == (1, 100, 100)
    assert (result.total.members, result.total.spend, result.total.ltv) == (10, 1270, 127)
    assert result.by_circle["S5"].ltv is None  # an empty circle has no average
    body = result.to_json()
    assert body["by_segment"]["S1"] == {"members": 3, "buyers": 3, "spend": 5.2, "ltv": 1.73}
    assert body["by_segment"]["S6"]["ltv"] is None


def test_ltv_of_a_member_known_only_from_orders_counts_without_circle() -> None:
    result = ltv_by_circle([Purchase("stranger", day(0), 990)], {"a": Segment.S1})
    assert result.by_circle[NO_CIRCLE].members == 1
    assert result.by_circle[NO_CIRCLE].ltv == 990
    assert result.by_circle["S1"].members == 1
    assert result.by_circle["S1"].ltv == 0


# -- properties ------------------------------------------------------------------------------

_members = st.sampled_from(["a", "b", "c", "d", "e"])
_purchases = st.lists(
    st.builds(
        Purchase,
        member_id=_members,
        ts=st.floats(min_value=day(-40), max_value=day(80)),
        amount=st.integers(min_value=-500, max_value=5_000),
        session_id=st.sampled_from([X, "sY", None]),
        standing=st.booleans(),
        circle=st.sampled_from([*Segment, None]),
    ),
    max_size=30,
)
_circles = st.dictionaries(_members, st.sampled_from([*Segment, None]))


@given(
    _purchases,
    st.floats(min_value=day(-40), max_value=day(120)),
    st.none() | st.floats(min_value=day(-1), max_value=day(1)),
)
def test_rates_are_fractions_and_repurchasers_are_buyers(
    purchases: list[Purchase], now: float, ended_at: float | None
) -> None:
    result = session_repurchase(X, purchases, now, ended_at)
    assert result.repurchasers <= result.buyers
    assert sum(c.buyers for c in result.by_circle.values()) == result.total.buyers
    assert sum(c.repurchasers for c in result.by_circle.values()) == result.total.repurchasers
    for tally in (*result.by_circle.values(), result.total):
        assert 0 <= tally.repurchasers <= tally.buyers
        value = tally.rate.value
        assert value is None or 0.0 <= value <= 1.0
    assert 0 <= result.days_observed <= 30
    if ended_at is None:
        assert result.window_ends is None
        assert result.complete == (not result.buyers)
    else:
        assert result.complete == (result.window_ends is None or now >= result.window_ends)


@given(_purchases, _circles)
def test_ltv_totals_add_up(purchases: list[Purchase], circles: dict[str, Segment | None]) -> None:
    result = ltv_by_circle(purchases, circles)
    # A member whose spend fell in two circles counts in both, once in the total.
    assert sum(c.members for c in result.by_circle.values()) >= result.total.members
    assert sum(c.spend for c in result.by_circle.values()) == result.total.spend
    assert result.total.spend == sum(p.amount for p in purchases if p.standing)
    for tally in result.by_circle.values():
        assert tally.buyers <= tally.members


def test_the_circle_is_the_one_stamped_on_the_first_order_in_the_session() -> None:
    # m ordered in X twice: at t0 stamped S4, at t0+1h stamped S3 (re-segmented meanwhile);
    # a cancelled order at t0-1h stamped S6 is no order. m counts once, in S4.
    rows = [
        Purchase("m", day(0) - 3600, 100, X, standing=False, circle=Segment.S6),
        Purchase("m", day(0) + 3600, 100, X, circle=Segment.S3),
        Purchase("m", day(0), 100, X, circle=Segment.S4),
    ]
    result = session_repurchase(X, rows, now=day(1), ended_at=END)
    assert result.by_circle["S4"].buyers == 1
    assert result.total.buyers == 1
    assert result.total.repurchasers == 0


def test_rows_as_printed() -> None:
    result = session_repurchase(X, stamped(PURCHASES), now=day(40), ended_at=END)
    rows = repurchase_rows(result.to_json())
    assert rows[0] == ["合计", "7", "3", "42.9% (3/7)"]
    assert rows[1] == ["S1 钻石核心", "3", "1", "33.3% (1/3)"]
    assert rows[-1] == ["未分圈", "1", "1", "100.0% (1/1)"]
    assert len(rows) == 4  # total, S1, S3, none: circles without buyers are left out
    assert repurchase_caption(result.to_json()) == "30天复购 · 30天已满"
    ltv = ltv_rows(ltv_by_circle(in_circles(PURCHASES), CIRCLES).to_json())
    assert ltv[0] == ["合计", "9", "9", "12.70", "1.41"]  # 1270 fen over 9 members: 141.1 fen


def test_imported_yuan_become_whole_fen_exactly() -> None:
    from console.store.repurchase import _fen

    assert [_fen(v) for v in (59.9, 0.07, 1.005, -12.3, 298)] == [5990, 7, 101, -1230, 29800]
