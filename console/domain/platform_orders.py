"""Orders paid on a live platform (平台订单), keyed by (platform, platform order id).

A paid platform order takes stock the way a shop order does (``orders.take_stock``), priced
as the platform says, and then counts like any order: an ``order_placed`` in the log, so the
room, ``/stats`` and the report count it once, by the same definitions. One the stock cannot
cover is refused and flagged (平台订单超卖): kept apart, counted, and told to the assistant
(``platform_order_flagged``). A later cancelled or refunded for the same id returns its
stock (``order_cancelled``). A status already recorded adds nothing (platforms resend); a
cancellation that arrives before the payment is remembered, so the late payment adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from console.domain.catalog import Product
from console.domain.decisions import NewEvent, Refused
from console.domain.events import EventType, PlatformOrderStatus
from console.domain.orders import OrderStatus, StandingOrder, cancel_orders, take_stock
from console.domain.platform import platform_name
from console.domain.sessions import SessionStatus, require_live


class PlatformOrderState(StrEnum):
    """What the store did with a platform order id."""

    PLACED = OrderStatus.PLACED.value  # stock taken, counted as an order
    FLAGGED = "flagged"  # refused (over the stock, or a product not in the lineup)
    CANCELLED = OrderStatus.CANCELLED.value  # cancelled or refunded (stock back, if taken)


PAID = PlatformOrderStatus.PAID.value


@dataclass(frozen=True, slots=True)
class PlatformOrder:
    """A ``platform_order`` event's facts (amount in fen)."""

    platform: str
    platform_order_id: str
    status: str  # paid, cancelled, refunded
    product_id: str
    quantity: int
    amount: int
    buyer: str  # the bound member, or the viewer's guest buyer id
    pickup_point: str = ""


@dataclass(frozen=True, slots=True)
class KnownPlatformOrder:
    state: PlatformOrderState
    standing: StandingOrder | None = None  # the order it placed, while it stands


@dataclass(frozen=True, slots=True)
class PlatformOrderFacts:
    session_status: SessionStatus | None
    known: KnownPlatformOrder | None  # what this id already did in the session
    product: Product | None  # None: not in the session's lineup
    stock: int
    new_customer: bool  # the buyer is a member with no order before


@dataclass(frozen=True, slots=True)
class PlatformOrderDecision:
    state: PlatformOrderState | None  # None: nothing changes (a repeat)
    events: list[NewEvent] = field(default_factory=list)
    stock_left: int | None = None  # the product's stock after, when it changed
    order: StandingOrder | None = None  # the order placed (or cancelled)
    reason: str = ""  # why it was flagged


def decide_platform_order(
    order: PlatformOrder, facts: PlatformOrderFacts, order_id: str, now: float
) -> PlatformOrderDecision:
    """Place, flag or cancel a platform order (see the module)."""
    require_live(facts.session_status)
    known = facts.known
    if order.status == PAID:
        if known is not None:
            return PlatformOrderDecision(None)  # paid again, or paid after its cancellation
        return _paid(order, facts, order_id, now)
    # cancelled or refunded
    if known is None or known.state is PlatformOrderState.FLAGGED:
        return PlatformOrderDecision(PlatformOrderState.CANCELLED)
    if known.state is PlatformOrderState.CANCELLED or known.standing is None:
        return PlatformOrderDecision(None)
    standing = known.standing
    cancellation = cancel_orders(
        [standing], {standing.product_id: facts.stock}, {}, f"platform_{order.status}", now
    )
    return PlatformOrderDecision(
        PlatformOrderState.CANCELLED,
        cancellation.events,
        cancellation.stock.get(standing.product_id),
        standing,
    )


def _paid(
    order: PlatformOrder, facts: PlatformOrderFacts, order_id: str, now: float
) -> PlatformOrderDecision:
    product = facts.product
    if product is None:
        return _flagged(order, "商品不在本场", now)
    try:
        stock_left = take_stock(facts.stock, order.quantity)
    except Refused as refused:
        return _flagged(order, refused.refusal.reason, now)
    data = {
        "order_id": order_id,
        "product_id": product.id,
        "product_name": product.name,
        "quantity": order.quantity,
        "unit_price": order.amount // order.quantity,
        "amount": order.amount,
        "tier": None,
        "pickup_point": order.pickup_point,
        "referrer": "",
        "referral_code": "",
        "referrer_nick": "",
        "referrer_koc": False,
        "new_customer": facts.new_customer,
        "returning": False,
        "stock_left": stock_left,
        "chain_id": None,
        "entry": 0,
        "gift": "",
        "platform": order.platform,
        "platform_order_id": order.platform_order_id,
    }
    standing = StandingOrder(
        order_id,
        order.buyer,
        product.id,
        order.quantity,
        order.amount,
        order.pickup_point,
        None,
    )
    event = NewEvent(EventType.ORDER_PLACED, now, data, order.buyer)
    return PlatformOrderDecision(PlatformOrderState.PLACED, [event], stock_left, standing)


def _flagged(order: PlatformOrder, reason: str, now: float) -> PlatformOrderDecision:
    data = {
        "platform": order.platform,
        "platform_order_id": order.platform_order_id,
        "product_id": order.product_id,
        "quantity": order.quantity,
        "amount": order.amount,
        "reason": reason,
    }
    event = NewEvent(EventType.PLATFORM_ORDER_FLAGGED, now, data, order.buyer)
    return PlatformOrderDecision(PlatformOrderState.FLAGGED, [event], reason=reason)


def flagged_line(platform: str, product: str, quantity: int, reason: str) -> str:
    """平台订单超卖：抖音 冰酸奶 ×3（已售罄）."""
    return f"平台订单超卖：{platform_name(platform)} {product} ×{quantity}（{reason}）"
