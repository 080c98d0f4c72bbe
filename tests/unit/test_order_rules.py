"""The commerce rules, decided in the domain without a store: orders, chains, commands."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from console.domain import commands
from console.domain.catalog import Offer, Product
from console.domain.chains import (
    TRANSITIONS,
    Chain,
    ChainStatus,
    can_move,
    end_chain,
    open_chain,
    take_entry,
)
from console.domain.decisions import RefusalKind, Refused
from console.domain.events import EventType
from console.domain.orders import (
    Buyer,
    OrderFacts,
    OrderRequest,
    OrderStatus,
    Referrer,
    StandingOrder,
    cancel_by_hand,
    cancel_orders,
    place_order,
)
from console.domain.overrides import check_override
from console.domain.segments import Segment
from console.domain.sessions import SessionStatus

NOW = 1_800_000_000.0
PACK = Product("p-pack", "夏日轻食能量包", 29800, "🥗")
OFFERS = {
    Segment.S1: Offer("p-pack", Segment.S1, 25330, "定制冰杯", limit=2),
    None: Offer("p-pack", None, 29800),
}
CHAIN = Chain("c1", "p-pack", threshold=3, cap=5, deadline=NOW + 600, gift_first=2, gift="食谱")


def facts(**changes: Any) -> OrderFacts:
    base = OrderFacts(
        session_status=SessionStatus.LIVE,
        buyer=Buyer("m1", Segment.S1, opted_out=False, bought_before=True),
        product=PACK,
        offers=OFFERS,
        stock=10,
        bought=0,
        point_known=True,
        nearest_point=None,
    )
    return replace(base, **changes)


def request(**changes: Any) -> OrderRequest:
    return replace(OrderRequest("m1", "p-pack", 1, "pt-xihu"), **changes)


def refusal(call: Any) -> tuple[RefusalKind, str, str]:
    with pytest.raises(Refused) as caught:
        call()
    found = caught.value.refusal
    return found.kind, found.field, found.reason


# -- orders ---------------------------------------------------------------------------------


def test_an_order_is_priced_for_the_buyers_circle() -> None:
    decision = place_order(request(quantity=2), facts(), "o1", NOW)
    assert (decision.order.unit_price, decision.order.amount) == (25330, 50660)
    assert decision.order.tier is Segment.S1
    assert decision.stock_left == 8
    [event] = decision.events
    assert (event.type, event.ts, event.member_id) == (EventType.ORDER_PLACED, NOW, "m1")
    assert event.data["stock_left"] == 8


def test_an_opted_out_member_pays_the_standard_price() -> None:
    buyer = Buyer("m1", Segment.S1, opted_out=True, bought_before=True)
    decision = place_order(request(), facts(buyer=buyer), "o1", NOW)
    assert (decision.order.unit_price, decision.order.tier) == (29800, None)


@pytest.mark.parametrize(
    ("req", "fact_changes", "expected"),
    [
        ({}, {"session_status": None}, (RefusalKind.NOT_FOUND, "sid")),
        ({}, {"session_status": SessionStatus.ENDED}, (RefusalKind.CONFLICT, "sid")),
        ({}, {"session_status": SessionStatus.SCHEDULED}, (RefusalKind.CONFLICT, "sid")),
        ({}, {"buyer": None}, (RefusalKind.NOT_FOUND, "member_id")),
        ({}, {"product": None}, (RefusalKind.NOT_FOUND, "product_id")),
        ({"pickup_point": None}, {}, (RefusalKind.INVALID, "pickup_point")),
        ({}, {"point_known": False}, (RefusalKind.NOT_FOUND, "pickup_point")),
        ({"quantity": 3}, {}, (RefusalKind.CONFLICT, "quantity")),  # S1's limit is 2
        ({}, {"bought": 2}, (RefusalKind.CONFLICT, "quantity")),
        ({}, {"stock": 0}, (RefusalKind.CONFLICT, "product_id")),
        ({"quantity": 2}, {"stock": 1}, (RefusalKind.CONFLICT, "product_id")),
        ({"chain_id": "c9"}, {}, (RefusalKind.NOT_FOUND, "chain_id")),
        ({"referral_code": "R0000000001"}, {}, (RefusalKind.NOT_FOUND, "referrer")),
        (
            {"referral_code": "R0000000001"},
            {"referrer": Referrer("m1", "林*", koc=True)},
            (RefusalKind.INVALID, "referrer"),
        ),
    ],
)
def test_refusals_name_their_field(
    req: dict[str, Any], fact_changes: dict[str, Any], expected: tuple[RefusalKind, str]
) -> None:
    kind, field, reason = refusal(
        lambda: place_order(request(**req), facts(**fact_changes), "o", NOW)
    )
    assert (kind, field) == expected
    assert reason  # a sentence for the console, in Chinese
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reason)


def test_a_product_hidden_from_the_circle_is_not_offered() -> None:
    hidden = {None: Offer("p-pack", None, 29800, visible=False)}
    buyer = Buyer("m2", Segment.S4, opted_out=False, bought_before=False)
    kind, field, _ = refusal(
        lambda: place_order(request(member_id="m2"), facts(offers=hidden, buyer=buyer), "o", NOW)
    )
    assert (kind, field) == (RefusalKind.NOT_OFFERED, "product_id")


def test_the_refusal_names_the_nearest_pickup_point() -> None:
    _, _, reason = refusal(
        lambda: place_order(
            request(pickup_point=""), facts(nearest_point=("pt-xihu", "西湖店")), "o", NOW
        )
    )
    assert "pt-xihu（西湖店）" in reason


def test_first_order_ever_marks_a_new_customer_and_credits_the_referrer() -> None:
    buyer = Buyer("m2", Segment.S6, opted_out=False, bought_before=False)
    koc = Referrer("m9", "小*美", koc=True)
    decision = place_order(
        request(member_id="m2", referral_code=" R1 "), facts(buyer=buyer, referrer=koc), "o", NOW
    )
    assert decision.order.new_customer
    assert decision.order.referrer == "m9"
    data = decision.events[0].data
    assert (data["referral_code"], data["referrer_nick"], data["referrer_koc"]) == (
        "R1",
        "小*美",
        True,
    )


# -- chains: the state machine ----------------------------------------------------------------


def test_the_chain_lifecycle_is_one_state_machine() -> None:
    allowed = {(a, b) for a in ChainStatus for b in ChainStatus if can_move(a, b)}
    assert (
        allowed
        == set(TRANSITIONS)
        == {
            (ChainStatus.OPEN, ChainStatus.FORMED),
            (ChainStatus.OPEN, ChainStatus.FAILED),
            (ChainStatus.FORMED, ChainStatus.CLOSED),
        }
    )
    # Nothing moves twice, and nothing leaves an ended chain.
    for status in (ChainStatus.CLOSED, ChainStatus.FAILED):
        assert not any(can_move(status, target) for target in ChainStatus)


def test_entries_form_a_chain_once_even_after_a_cancellation() -> None:
    """The double 成团: formed at 3, one entry cancelled, a new entry reaches 3 again."""
    chain = CHAIN
    formed_count = 0
    for _ in range(3):
        entry = take_entry(chain, "p-pack", NOW)
        chain, formed_count = entry.chain, formed_count + entry.formed
    assert (chain.status, formed_count) == (ChainStatus.FORMED, 1)
    cancelled = cancel_orders(
        [StandingOrder("o3", "m3", "p-pack", 1, 100, "pt", "c1")],
        {"p-pack": 0},
        {"c1": chain},
        "assistant",
        NOW,
    )
    chain = cancelled.chains["c1"]
    assert (chain.status, chain.entries) == (ChainStatus.FORMED, 2)
    again = take_entry(chain, "p-pack", NOW)
    assert not again.formed
    assert (again.chain.status, again.chain.entries) == (ChainStatus.FORMED, 3)


def test_entries_give_the_gift_to_the_first_and_stop_at_the_cap() -> None:
    chain, gifts = CHAIN, []
    for _ in range(5):
        entry = take_entry(chain, "p-pack", NOW)
        chain = entry.chain
        gifts.append(entry.gift)
    assert gifts == ["食谱", "食谱", "", "", ""]
    kind, field, reason = refusal(lambda: take_entry(chain, "p-pack", NOW))
    assert (kind, field, reason) == (RefusalKind.CONFLICT, "chain_id", "接龙已满（5 单）")


@pytest.mark.parametrize(
    ("chain", "product", "now", "expected"),
    [
        (CHAIN, "p-other", NOW, RefusalKind.INVALID),
        (replace(CHAIN, status=ChainStatus.CLOSED), "p-pack", NOW, RefusalKind.CONFLICT),
        (replace(CHAIN, status=ChainStatus.FAILED), "p-pack", NOW, RefusalKind.CONFLICT),
        (CHAIN, "p-pack", CHAIN.deadline, RefusalKind.CONFLICT),  # the deadline has come
    ],
)
def test_a_chain_refuses_entries_it_cannot_take(
    chain: Chain, product: str, now: float, expected: RefusalKind
) -> None:
    assert refusal(lambda: take_entry(chain, product, now))[:2] == (expected, "chain_id")


def test_ending_a_chain_closes_a_formed_one_and_fails_an_open_one() -> None:
    closed, event = end_chain(replace(CHAIN, status=ChainStatus.FORMED), "deadline", NOW)
    assert (closed.status, event.type, event.data["by"]) == (
        ChainStatus.CLOSED,
        EventType.CHAIN_CLOSED,
        "deadline",
    )
    failed, event = end_chain(CHAIN, "场控", NOW)
    assert (failed.status, event.type) == (ChainStatus.FAILED, EventType.CHAIN_FAILED)
    for ended in (closed, failed):
        assert refusal(lambda chain=ended: end_chain(chain, "场控", NOW))[:2] == (
            RefusalKind.CONFLICT,
            "chain_id",
        )


def test_opening_a_chain_checks_its_terms() -> None:
    def opening(**changes: Any) -> Any:
        args: dict[str, Any] = {
            "chain_id": "c1",
            "product_id": "p-pack",
            "product_name": "能量包",
            "threshold": 3,
            "cap": 5,
            "deadline_s": 600.0,
            "gift_first": 0,
            "gift": "",
            "active_on_product": False,
            "actor": "场控",
            "now": NOW,
        }
        return open_chain(**{**args, **changes})

    chain, event = opening()
    assert (chain.deadline, chain.status, event.type) == (
        NOW + 600,
        ChainStatus.OPEN,
        EventType.CHAIN_OPENED,
    )
    assert refusal(lambda: opening(cap=2))[:2] == (RefusalKind.INVALID, "cap")
    assert refusal(lambda: opening(active_on_product=True))[:2] == (
        RefusalKind.CONFLICT,
        "product_id",
    )


# -- cancellations ----------------------------------------------------------------------------


def test_a_cancellation_returns_stock_once() -> None:
    order = StandingOrder("o1", "m1", "p-pack", 2, 50660, "pt-xihu", "c1")
    chain = replace(CHAIN, entries=1)
    done = cancel_orders([order, order], {"p-pack": 3}, {"c1": chain}, "assistant", NOW)
    assert done.order_ids == ["o1"]
    assert done.stock == {"p-pack": 5}
    assert done.chains["c1"].entries == 0
    [event] = done.events
    assert (event.type, event.member_id, event.data["stock_left"]) == (
        EventType.ORDER_CANCELLED,
        "m1",
        5,
    )
    gone = replace(order, status=OrderStatus.CANCELLED)
    assert cancel_orders([gone], {"p-pack": 3}, {}, "x", NOW).events == []
    assert refusal(lambda: cancel_by_hand(gone, "o1"))[:2] == (RefusalKind.CONFLICT, "order_id")
    assert refusal(lambda: cancel_by_hand(None, "o1"))[:2] == (RefusalKind.NOT_FOUND, "order_id")


# -- commands ---------------------------------------------------------------------------------


def test_stock_never_goes_below_zero() -> None:
    product = commands.LineupProduct("p-pack", "能量包", 3)
    left, event = commands.adjust_stock(product, "p-pack", -3, "破损", "场控", NOW)
    assert (left, event.data["stock_left"]) == (0, 0)
    assert refusal(lambda: commands.adjust_stock(product, "p-pack", -4, "", "场控", NOW))[:2] == (
        RefusalKind.CONFLICT,
        "delta",
    )
    assert refusal(lambda: commands.adjust_stock(None, "p-x", 1, "", "场控", NOW))[:2] == (
        RefusalKind.NOT_FOUND,
        "product_id",
    )


def test_only_a_waiting_shoutout_is_acknowledged_or_pinned() -> None:
    ack = commands.mark_shoutout({"s1"}, "s1", None, "场控", NOW)
    pin = commands.mark_shoutout({"s1"}, "s1", True, "场控", NOW)
    assert (ack.type, pin.type, pin.data["pinned"]) == (
        EventType.SHOUTOUT_ACKNOWLEDGED,
        EventType.SHOUTOUT_PINNED,
        True,
    )
    assert refusal(lambda: commands.mark_shoutout(set(), "s1", None, "场控", NOW))[:2] == (
        RefusalKind.CONFLICT,
        "shoutout_id",
    )


def test_presenting_and_notices() -> None:
    product = commands.LineupProduct("p-pack", "能量包", 3)
    shown = commands.present_product(product, "p-pack", "场控", NOW)
    assert shown.data == {"product_id": "p-pack", "by": "场控", "product_name": "能量包"}
    assert commands.present_product(None, None, "场控", NOW).data["product_id"] is None
    assert refusal(lambda: commands.present_product(None, "p-x", "场控", NOW))[1] == "product_id"
    assert commands.post_notice(" 19:30 抽奖 ", "场控", NOW).data["text"] == "19:30 抽奖"
    assert refusal(lambda: commands.post_notice("  ", "场控", NOW))[:2] == (
        RefusalKind.INVALID,
        "text",
    )


# -- overrides: the clock is an argument ------------------------------------------------------


def test_an_override_expiring_is_judged_by_the_clock_given() -> None:
    assert check_override(" 品牌大使 ", NOW + 1, NOW) == "品牌大使"
    assert refusal(lambda: check_override("x", NOW, NOW))[1] == "expires_at"
    assert refusal(lambda: check_override(" ", None, NOW))[1] == "reason"
