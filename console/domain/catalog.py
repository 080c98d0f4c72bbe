"""Products and tiered offers (权益): what each circle pays and gets for a session's cards.

Money is integer fen (分, 1/100 yuan) everywhere in the domain: prices never drift. A
session offers each product of its lineup at a *standard* offer (the base price, for
opted-out members and viewers who are not members) and, per circle, optionally its own
price, perk, per-member limit and visibility (an S1-only limited edition is invisible to
the others).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from console.domain.segments import ALL_SEGMENTS, Segment


def yuan(fen: int) -> float:
    return fen / 100


def fen_from_yuan(value: float | str) -> int:
    """``29.9`` or ``"29.90"`` -> 2990; ValueError for anything else or a negative price."""
    fen = round(float(value) * 100)
    if fen < 0:
        raise ValueError(f"price must not be negative: {value!r}")
    return fen


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    base_price: int  # fen
    emoji: str = ""
    category: str = ""


@dataclass(frozen=True)
class Offer:
    """One circle's terms for one product in a session; ``segment=None`` is the standard."""

    product_id: str
    segment: Segment | None
    price: int  # fen
    perk: str = ""
    limit: int = 0  # per member and session; 0: no limit
    visible: bool = True


@dataclass(frozen=True)
class Card:
    """What one viewer sees for one product: their own price and perks (商品卡)."""

    product: Product
    price: int
    perk: str
    limit: int
    tier: Segment | None  # None: the standard offer

    def to_dict(self) -> dict[str, object]:
        return {
            "product_id": self.product.id,
            "name": self.product.name,
            "emoji": self.product.emoji,
            "price": yuan(self.price),
            "base_price": yuan(self.product.base_price),
            "perk": self.perk,
            "limit": self.limit,
            "tier": self.tier.value if self.tier else None,
        }


def standard_offer(product: Product) -> Offer:
    return Offer(product.id, None, product.base_price)


def offer_for(
    product: Product,
    offers: Mapping[Segment | None, Offer],
    segment: Segment | None,
    opted_out: bool = False,
) -> Card | None:
    """The card a viewer in ``segment`` sees, or None when the product is not for them.

    Opted-out members and non-members get the standard offer (the base price unless the
    session sets one); a circle without terms of its own also gets the standard offer.
    """
    tier = None if opted_out else segment
    chosen = offers.get(tier) if tier is not None else None
    if chosen is None:
        chosen = offers.get(None, standard_offer(product))
        tier = None
    if not chosen.visible:
        return None
    return Card(product, chosen.price, chosen.perk, chosen.limit, tier)


def price_ladder(
    product: Product, offers: Mapping[Segment | None, Offer]
) -> list[dict[str, object]]:
    """Every circle's terms for the host's card (S1 85折 + 定制冰杯 … S6 9.9元), then standard."""
    ladder: list[dict[str, object]] = []
    for segment in (*ALL_SEGMENTS, None):
        card = offer_for(product, offers, segment)
        ladder.append(
            {
                "segment": segment.value if segment else None,
                "visible": card is not None,
                "price": yuan(card.price) if card else None,
                "perk": card.perk if card else "",
                "own_terms": segment in offers,
            }
        )
    return ladder


def cards_for(
    lineup: Sequence[Product],
    offers: Mapping[str, Mapping[Segment | None, Offer]],
    segment: Segment | None,
    opted_out: bool = False,
) -> list[Card]:
    """The cards of a session's lineup that a viewer sees, in lineup order (权益匹配)."""
    cards = []
    for product in lineup:
        card = offer_for(product, offers.get(product.id, {}), segment, opted_out)
        if card is not None:
            cards.append(card)
    return cards


# 话术: a product's lines for the host, general and per circle (the catalog file's scripts).
MAX_SCRIPT_LINES = 8  # per product and circle: the host reads them one at a time
MAX_SCRIPT_CHARS = 120  # one line fits the 讲解中 card in three rows at 16 px


def script_card(
    scripts: Mapping[Segment | None, Sequence[str]],
) -> dict[str, object]:
    """A product's 话术 as a card carries it.

    ``{"general": [...], "by_segment": {"S1": [...]}}``: circles without lines are left out.
    """
    return {
        "general": list(scripts.get(None, ())),
        "by_segment": {s.value: list(scripts[s]) for s in ALL_SEGMENTS if scripts.get(s)},
    }


def script_for(
    script: Mapping[str, object] | None, focus: Sequence[Segment]
) -> tuple[list[str], list[Segment]]:
    """The lines to read now and the circles they are for (``[]``: the general lines).

    The lines of the circles most present (``focus``, largest first) that have lines of
    their own, in that order; the general lines when none of them has any.
    """
    script = script or {}
    by_segment = script.get("by_segment")
    by_segment = by_segment if isinstance(by_segment, Mapping) else {}
    lines: list[str] = []
    circles: list[Segment] = []
    for segment in focus:
        own = by_segment.get(segment.value)
        if isinstance(own, Sequence) and not isinstance(own, str) and own:
            lines.extend(str(line) for line in own)
            circles.append(segment)
    if circles:
        return lines, circles
    general = script.get("general")
    if isinstance(general, Sequence) and not isinstance(general, str):
        return [str(line) for line in general], []
    return [], []
