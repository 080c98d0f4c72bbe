"""Offers per circle, worked out by hand."""

from __future__ import annotations

import pytest

from console.domain.catalog import Offer, Product, cards_for, fen_from_yuan, offer_for, price_ladder
from console.domain.segments import Segment

YOGURT = Product("p-yogurt", "莫吉托风味冰酸奶", 3990, "🥤")
LIMITED = Product("p-limited", "联名款礼盒", 19900)
TRIAL = Product("p-trial", "9.9元尝鲜装", 990)

OFFERS = {
    "p-yogurt": {
        Segment.S1: Offer("p-yogurt", Segment.S1, 3392, "定制冰杯", limit=2),  # 85折
        Segment.S2: Offer("p-yogurt", Segment.S2, 3590, "双倍积分"),
    },
    # S1 only: invisible to everyone else, the standard offer included.
    "p-limited": {
        Segment.S1: Offer("p-limited", Segment.S1, 16900, "限量编号", limit=1),
        None: Offer("p-limited", None, 19900, visible=False),
    },
}


@pytest.mark.parametrize(
    ("segment", "opted_out", "price", "perk", "tier"),
    [
        (Segment.S1, False, 3392, "定制冰杯", Segment.S1),
        (Segment.S2, False, 3590, "双倍积分", Segment.S2),
        (Segment.S4, False, 3990, "", None),  # no terms of its own: standard
        (Segment.S1, True, 3990, "", None),  # opted out: standard, whatever the circle
        (None, False, 3990, "", None),  # not a member: standard
    ],
)
def test_each_viewer_sees_their_own_price(segment, opted_out, price, perk, tier) -> None:  # type: ignore[no-untyped-def]
    card = offer_for(YOGURT, OFFERS["p-yogurt"], segment, opted_out)
    assert card is not None
    assert (card.price, card.perk, card.tier) == (price, perk, tier)


def test_limited_edition_is_for_s1_only() -> None:
    lineup = [YOGURT, LIMITED, TRIAL]
    s1 = [c.product.id for c in cards_for(lineup, OFFERS, Segment.S1)]
    s4 = [c.product.id for c in cards_for(lineup, OFFERS, Segment.S4)]
    opted = [c.product.id for c in cards_for(lineup, OFFERS, Segment.S1, opted_out=True)]
    assert s1 == ["p-yogurt", "p-limited", "p-trial"]
    assert s4 == ["p-yogurt", "p-trial"]
    assert opted == ["p-yogurt", "p-trial"]


def test_price_ladder_for_the_host() -> None:
    ladder = price_ladder(YOGURT, OFFERS["p-yogurt"])
    assert [(step["segment"], step["price"], step["perk"]) for step in ladder] == [
        ("S1", 33.92, "定制冰杯"),
        ("S2", 35.9, "双倍积分"),
        ("S3", 39.9, ""),
        ("S4", 39.9, ""),
        ("S5", 39.9, ""),
        ("S6", 39.9, ""),
        (None, 39.9, ""),
    ]
    assert [step["visible"] for step in price_ladder(LIMITED, OFFERS["p-limited"])] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
    ]


def test_money_in_fen() -> None:
    assert fen_from_yuan("29.90") == 2990
    assert fen_from_yuan(0.1 + 0.2) == 30
    with pytest.raises(ValueError, match="negative"):
        fen_from_yuan(-1)
