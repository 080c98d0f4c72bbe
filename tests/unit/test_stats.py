"""Review figures on a hand-built log; every expected number is worked out by hand below."""

from __future__ import annotations

from typing import Any

import pytest

from console.domain.events import Event, EventType
from console.domain.segments import Segment
from console.domain.stats import RATE_PARTS, rate_from_json, session_stats

S1, S2, S3, S4, S6 = Segment.S1, Segment.S2, Segment.S3, Segment.S4, Segment.S6

# Reached: a, b (S1), c (S3), d, e (S6), f (S4). g (S2) watches without being invited;
# x (S4) orders through the group link without ever joining the room.
AUDIENCE = {"a": S1, "b": S1, "c": S3, "d": S6, "e": S6, "f": S4}
LEADERS = {"p1": "王团长", "p2": "李团长", "p3": ""}


def order(order_id: str, member: str, segment: Segment, amount: int, **data: Any) -> tuple:
    return (
        EventType.ORDER_PLACED,
        member,
        segment,
        {"order_id": order_id, "amount": amount, **data},
    )


STORY = [
    (EventType.VIEWER_JOINED, "a", S1, {}),
    (EventType.VIEWER_JOINED, "c", S3, {}),
    (EventType.VIEWER_JOINED, "d", S6, {}),
    (EventType.VIEWER_JOINED, "g", S2, {}),
    (EventType.COMMENT, "a", S1, {"text": "冰杯是什么颜色？"}),
    (EventType.LIKE, "c", S3, {"count": 3}),
    (EventType.SHARE, "g", S2, {}),
    (EventType.CHAIN_OPENED, None, None, {"chain_id": "c1"}),
    order("o1", "a", S1, 25330, pickup_point="p1", chain_id="c1"),
    order(
        "o2", "d", S6, 990, pickup_point="p2", new_customer=True, referrer="g", referrer_koc=True
    ),
    (EventType.CHAIN_FORMED, None, None, {"chain_id": "c1"}),
    order("o3", "g", S2, 29800, pickup_point="p1", new_customer=True),
    (EventType.ORDER_CANCELLED, "g", S2, {"order_id": "o3", "amount": 29800}),
    order("o4", "x", S4, 3990, pickup_point="p3", new_customer=True, referrer="h"),
    (EventType.CHAIN_OPENED, None, None, {"chain_id": "c2"}),
]


@pytest.fixture(scope="module")
def stats() -> dict[str, Any]:
    events = [
        Event(n, f"e{n}", kind, 1000.0 + n, member, segment, False, "", data)
        for n, (kind, member, segment, data) in enumerate(STORY, start=1)
    ]
    return session_stats(events, AUDIENCE, LEADERS, {"g": "郭*", "h": "黄*"})


def test_total_funnel(stats: dict[str, Any]) -> None:
    total = stats["total"]
    assert total["reached"] == 6
    assert total["audience_watched"] == 3  # a, c, d; g came uninvited
    assert total["watched"] == 4  # a, c, d, g
    assert total["watch_conversion"] == 0.5  # a, c, d of the 6 reached
    assert total["interacted"] == 3  # a commented, c liked, g shared
    assert total["interaction_rate"] == 0.75  # 3 of 4 watchers
    assert total["chain_entrants"] == 2  # a and d; g's order was cancelled, x never watched
    assert total["chain_conversion"] == 0.5  # 2 of 4 watchers


def test_total_money(stats: dict[str, Any]) -> None:
    total = stats["total"]
    assert total["orders"] == 3  # o1, o2, o4 (o3 cancelled)
    assert total["gmv"] == 303.1  # 253.30 + 9.90 + 39.90
    assert total["buyers"] == 3  # a, d, x
    assert total["aov"] == 101.03  # 303.10 / 3


def test_session_wide_rates(stats: dict[str, Any]) -> None:
    total = stats["total"]
    assert total["new_customers"] == 3  # d, g, x
    # d stands at p2 (李团长); g's order was cancelled; x's point p3 has no 团长.
    assert total["new_customers_retained"] == 1
    assert total["new_customer_retention"] == 0.3333
    assert (total["s6_woken"], total["s6_reached"]) == (1, 2)
    assert total["wakeup_rate"] == 0.5  # d of the S6 reached (d, e)
    assert (total["koc_new_customer_orders"], total["new_customer_orders"]) == (1, 2)
    assert total["koc_share"] == 0.5  # o2 names a KOC (g), o4 names h, who is not one
    assert total["chains_opened"] == 2
    assert total["chains_formed_count"] == 1
    assert total["chains_formed"] == 0.5  # c1 formed, c2 did not


def test_every_rate_is_its_own_figures_divided(stats: dict[str, Any]) -> None:
    columns = [stats["total"], *stats["by_segment"].values()]
    for figures in columns:
        for key in RATE_PARTS:
            if key not in figures:
                continue  # the session-wide rates are in the total only
            rate = rate_from_json(figures, key)
            assert (rate.rounded() if rate else None) == figures[key], key


def test_a_circle_never_converts_more_than_it_reached() -> None:
    """A member re-segmented after the audience was set (a: S1 then, S2 now) and an uninvited
    S1 member (u) who joined: S1 still converts 1 of 1 reached, not 2 of 1."""
    events = [
        Event(1, "e1", EventType.VIEWER_JOINED, 1.0, "a", S2),
        Event(2, "e2", EventType.VIEWER_JOINED, 2.0, "u", S1),
    ]
    s1 = session_stats(events, {"a": S1}, {})["by_segment"]["S1"]
    assert (s1["reached"], s1["audience_watched"], s1["watch_conversion"]) == (1, 1, 1.0)
    assert s1["watched"] == 1  # u: every viewer stamped S1, labelled apart


def test_per_circle(stats: dict[str, Any]) -> None:
    s1, s2, s4, s6 = (stats["by_segment"][s] for s in ("S1", "S2", "S4", "S6"))
    assert s1 == {
        "reached": 2,
        "audience_watched": 1,  # a (b never came)
        "watched": 1,
        "watch_conversion": 0.5,
        "interacted": 1,
        "interaction_rate": 1.0,
        "chain_entrants": 1,
        "chain_conversion": 1.0,
        "gmv": 253.3,
        "orders": 1,
        "buyers": 1,
        "aov": 253.3,
    }
    # g watched uninvited: S2 reached nobody, so its watch conversion is undefined.
    assert (s2["reached"], s2["watched"], s2["watch_conversion"]) == (0, 1, None)
    assert (s2["orders"], s2["gmv"], s2["aov"], s2["chain_entrants"]) == (0, 0.0, None, 0)
    # x bought (S4) without watching: an order, but no watcher to convert.
    assert (s4["reached"], s4["watched"], s4["watch_conversion"]) == (1, 0, 0.0)
    assert (s4["orders"], s4["gmv"], s4["chain_conversion"]) == (1, 39.9, None)
    assert (s6["reached"], s6["watched"], s6["interaction_rate"], s6["aov"]) == (2, 1, 0.0, 9.9)
    assert stats["by_segment"]["S3"]["chain_conversion"] == 0.0  # c watched, did not buy
    assert stats["by_segment"]["S5"]["watch_conversion"] is None


def test_circle_columns_add_up_to_the_total(stats: dict[str, Any]) -> None:
    columns = stats["by_segment"].values()
    for key in ("reached", "watched", "orders", "buyers", "chain_entrants"):
        assert sum(c[key] for c in columns) == stats["total"][key]
    assert round(sum(c["gmv"] for c in columns), 2) == stats["total"]["gmv"]


def test_koc_leaderboard_and_new_neighbours(stats: dict[str, Any]) -> None:
    assert stats["koc_leaderboard"] == [
        {
            "member_id": "h",
            "nick": "黄*",
            "koc": False,
            "orders": 1,
            "gmv": 39.9,
            "new_customers": 1,
        },
        {"member_id": "g", "nick": "郭*", "koc": True, "orders": 1, "gmv": 9.9, "new_customers": 1},
    ]
    assert stats["new_neighbours"] == [
        {"pickup_point": "p2", "leader": "李团长", "new_neighbours": 1},
        {"pickup_point": "p3", "leader": "", "new_neighbours": 1},
    ]


def test_an_empty_session_has_no_rates() -> None:
    empty = session_stats([], {}, {})
    assert empty["total"]["watch_conversion"] is None
    assert empty["total"]["aov"] is None
    assert empty["total"]["chains_formed"] is None
    assert empty["koc_leaderboard"] == []
