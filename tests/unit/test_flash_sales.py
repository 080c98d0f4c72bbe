"""秒杀 in the domain: nobody pays more than their tier price, the sale's units and per-member
limit hold, and it ends by its units or its time (hypothesis over order sequences)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.catalog import Offer, Product
from console.domain.commands import LineupProduct
from console.domain.decisions import Refused
from console.domain.events import Event, EventType
from console.domain.flash import (
    FlashRequest,
    FlashSale,
    due_sales,
    flash_line,
    shows_countdown,
    start_flash_sale,
)
from console.domain.orders import Buyer, OrderFacts, OrderRequest, place_order
from console.domain.room import RoomState
from console.domain.segments import Segment
from console.domain.sessions import SessionStatus

NOW = 1_800_000_000.0
PACK = Product("p-pack", "夏日轻食能量包", 29800, "🥗")
OFFERS = {
    Segment.S1: Offer("p-pack", Segment.S1, 25330, "定制冰杯"),
    Segment.S4: Offer("p-pack", Segment.S4, 990, "尝鲜装"),  # already below the flash price
    None: Offer("p-pack", None, 29800),
}
TIER = {Segment.S1: 25330, Segment.S4: 990}


def sale(**changes: Any) -> FlashSale:
    base = FlashSale("fs1", "p-pack", 19900, units=3, ends_at=NOW + 60, limit_per_member=2)
    return replace(base, **changes)


def facts(segment: Segment | None = Segment.S1, **changes: Any) -> OrderFacts:
    base = OrderFacts(
        session_status=SessionStatus.LIVE,
        buyer=Buyer("m1", segment, opted_out=False, bought_before=True),
        product=PACK,
        offers=OFFERS,
        stock=100,
        bought=0,
        point_known=True,
        nearest_point=None,
        flash=sale(),
    )
    return replace(base, **changes)


def buy(quantity: int = 1, **changes: Any) -> Any:
    return place_order(
        OrderRequest("m1", "p-pack", quantity, "pt-xihu"), facts(**changes), "o1", NOW
    )


def test_an_eligible_member_pays_the_flash_price_and_nobody_pays_more() -> None:
    assert buy().order.unit_price == 19900
    assert buy(segment=Segment.S4).order.unit_price == 990  # their own price is lower
    assert buy(segment=Segment.S2).order.unit_price == 19900  # standard 298: the sale's
    outside = buy(flash=sale(circles=frozenset({Segment.S2})))
    assert outside.order.unit_price == 25330
    [placed] = outside.events
    assert "flash_sale_id" not in placed.data


def test_the_per_member_limit_and_the_units_left_are_refused_in_chinese() -> None:
    with pytest.raises(Refused) as caught:
        buy(quantity=2, flash_taken=1)
    assert caught.value.refusal.reason == "超过秒杀每人限购 2 件（已抢 1 件）"
    with pytest.raises(Refused) as caught:
        buy(quantity=2, flash=sale(sold=2))
    assert caught.value.refusal.reason == "秒杀只剩 1 件"


def test_the_last_unit_ends_the_sale_and_time_ends_it_at_the_next_order() -> None:
    last = buy(flash=sale(sold=2))
    assert [e.type for e in last.events] == [EventType.ORDER_PLACED, EventType.FLASH_SALE_ENDED]
    assert last.events[1].data["reason"] == "sold_out"
    late = place_order(OrderRequest("m1", "p-pack", 1, "pt-xihu"), facts(), "o2", NOW + 61)
    assert [e.type for e in late.events] == [EventType.FLASH_SALE_ENDED, EventType.ORDER_PLACED]
    assert late.events[0].data["reason"] == "time"
    assert late.order.unit_price == 25330


def test_starting_a_sale_checks_its_terms_and_logs_its_end_time() -> None:
    product = LineupProduct("p-pack", "夏日轻食能量包", 5)
    ask = FlashRequest("p-pack", 1990, 5, 1.5, 1, frozenset({Segment.S4, Segment.S6}))
    [started] = start_flash_sale(product, ask, None, "fs9", "场控", NOW)
    assert started.data["ends_at"] == NOW + 90
    assert started.data["countdown"] is False  # S4/S6 only: no countdown pressure
    with pytest.raises(Refused, match="库存只有 5 件"):
        start_flash_sale(product, replace(ask, units=6), None, "fs9", "场控", NOW)
    with pytest.raises(Refused, match="已有秒杀进行中"):
        start_flash_sale(product, ask, sale(), "fs9", "场控", NOW)
    ended, _started = start_flash_sale(product, ask, sale(), "fs9", "场控", NOW + 60)
    assert ended.data["reason"] == "time"
    assert shows_countdown(frozenset())
    assert shows_countdown(frozenset({Segment.S1, Segment.S4}))
    assert not shows_countdown(frozenset({Segment.S6}))


def test_the_card_line_counts_down_except_for_an_s4_s6_only_sale() -> None:
    running = {"price": 19.9, "units_left": 12, "ends_at": NOW + 83, "countdown": True}
    assert flash_line(running, NOW) == "秒杀 ¥19.9 · 剩 12 件 · 01:23"
    assert flash_line({**running, "countdown": False, "price": 9.9}, NOW) == "限时特价 ¥9.9"
    assert flash_line(running, NOW + 83) == ""
    assert flash_line({**running, "units_left": 0}, NOW) == ""
    assert flash_line(None, NOW) == ""


orders_strategy = st.lists(
    st.tuples(
        st.sampled_from([Segment.S1, Segment.S2, Segment.S4, None]),
        st.integers(0, 4),  # which member
        st.integers(1, 3),  # quantity
        st.floats(0, 20),  # seconds since the previous order
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    orders_strategy,
    st.integers(1, 8),
    st.integers(1, 3),
    st.frozensets(st.sampled_from(list(Segment)), max_size=3),
)
def test_any_order_sequence_respects_price_units_limit_and_end(
    orders: list[tuple[Segment | None, int, int, float]],
    units: int,
    limit: int,
    circles: frozenset[Segment],
) -> None:
    running: FlashSale | None = sale(units=units, limit_per_member=limit, circles=circles)
    taken: dict[str, int] = {}
    now = NOW
    room = RoomState()
    started = {
        "sale_id": "fs1",
        "product_id": "p-pack",
        "price": 199.0,
        "units": units,
        "ends_at": NOW + 60,
        "countdown": shows_countdown(circles),
    }
    seq = 1
    room.apply(Event(seq=seq, id="e1", type=EventType.FLASH_SALE_STARTED, ts=NOW, data=started))
    ended = 0
    for n, (segment, who, quantity, gap) in enumerate(orders):
        now += gap
        member = f"m{who}"
        order_facts = replace(
            facts(segment),
            buyer=Buyer(member, segment, False, True),
            flash=running,
            flash_taken=taken.get(member, 0),
        )
        try:
            decision = place_order(
                OrderRequest(member, "p-pack", quantity, "pt-xihu"), order_facts, f"o{n}", now
            )
        except Refused:
            assert running is not None
            assert running.over(now) is None
            continue
        tier = TIER.get(segment, 29800) if segment is not None else 29800
        assert decision.order.unit_price <= tier  # nobody ever pays more
        for new in decision.events:
            seq += 1
            room.apply(Event(seq=seq, id=f"e{seq}", type=new.type, ts=new.ts, data=new.data))
            if new.type is EventType.ORDER_PLACED and "flash_sale_id" in new.data:
                assert running is not None
                assert now < running.ends_at
                assert segment is not None
                assert not circles or segment in circles
                taken[member] = taken.get(member, 0) + quantity
                running = replace(running, sold=running.sold + quantity)
            elif new.type is EventType.FLASH_SALE_ENDED:
                ended += 1
                running = None
        assert sum(taken.values()) <= units
        assert all(t <= limit for t in taken.values())
        sale_state = room.flash_sales.get("p-pack")
        if running is None:
            assert sale_state is None
        else:
            assert sale_state is not None
            assert sale_state["units_left"] == running.units_left
    assert ended <= 1
    if sum(taken.values()) == units:
        assert ended == 1


@settings(max_examples=200, deadline=None)
@given(
    ends=st.lists(st.floats(-120, 120, allow_nan=False), max_size=8),
    ended=st.sets(st.integers(0, 7)),
    now=st.floats(-120, 120, allow_nan=False),
)
def test_a_sale_is_due_on_its_timer_iff_its_time_is_over_and_it_has_not_ended(
    ends: list[float], ended: set[int], now: float
) -> None:
    sales = [sale(sale_id=f"fs{n}", ends_at=NOW + end) for n, end in enumerate(ends)]
    ended_ids = {f"fs{n}" for n in ended}
    due = due_sales(iter(sales), ended_ids, NOW + now)
    expected = {s.sale_id for s in sales if s.ends_at <= NOW + now and s.sale_id not in ended_ids}
    assert {s.sale_id for s in due} == expected
    assert len(due) == len(expected)  # each once
    assert [s.ends_at for s in due] == sorted(s.ends_at for s in due)
    assert all(s.over(NOW + now) == "time" for s in due)  # the order path agrees
