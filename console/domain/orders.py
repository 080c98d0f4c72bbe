"""Orders (下单) and cancellations (退单), decided from facts the store loads.

The store never trusts a client's price: ``place_order`` prices an order from the session's
offer for the buyer's circle, checks the member, the product, the pickup point, the
member's limit, the chain, the stock and the referral code, and returns the events and the
new stock and chain to persist. ``cancel_orders`` undoes placed orders: stock back, chain
entries down, an ``order_cancelled`` event each. Both are pure: the clock and the ids come in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from console.domain.catalog import Offer, Product, offer_for
from console.domain.chains import Chain, drop_entry, formed_event, take_entry
from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.events import EventType
from console.domain.flash import FlashSale, ended_event, flash_terms
from console.domain.segments import Segment
from console.domain.sessions import SessionStatus, require_live


class OrderStatus(StrEnum):
    PLACED = "placed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the shop front asks for (never a price)."""

    member_id: str
    product_id: str
    quantity: int
    pickup_point: str | None
    referral_code: str = ""
    chain_id: str | None = None


@dataclass(frozen=True, slots=True)
class Buyer:
    member_id: str
    segment: Segment | None
    opted_out: bool
    bought_before: bool  # a purchase in the imported history, or a standing live order
    bought_before_session: bool = False  # the same, leaving out this session's own orders


@dataclass(frozen=True, slots=True)
class Referrer:
    """The owner of a referral code issued in this session (推荐人)."""

    member_id: str
    nick: str
    koc: bool


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """Everything ``place_order`` needs, as the store found it inside the transaction."""

    session_status: SessionStatus | None  # None: no such session
    buyer: Buyer | None  # None: no such member
    product: Product | None  # None: not in the session's lineup
    offers: Mapping[Segment | None, Offer]
    stock: int
    bought: int  # units of this product the member holds in this session (standing orders)
    point_known: bool
    nearest_point: tuple[str, str] | None  # (id, name) near the member, for the refusal's hint
    chain: Chain | None = None  # the chain the request names, if it exists in this session
    referrer: Referrer | None = None  # the owner of the request's code, if it exists
    flash: FlashSale | None = None  # the product's 秒杀 not yet logged as ended
    flash_taken: int = 0  # units of that sale the member has taken


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An accepted order as the store keeps it (amounts in fen)."""

    order_id: str
    member_id: str
    product_id: str
    quantity: int
    unit_price: int
    amount: int
    tier: Segment | None
    perk: str
    pickup_point: str
    referrer: str
    chain_id: str | None
    entry: int
    gift: str
    new_customer: bool


@dataclass(frozen=True, slots=True)
class OrderDecision:
    order: PlacedOrder
    stock_left: int
    chain: Chain | None  # the chain after this entry
    events: list[NewEvent]
    formed: bool = False  # this order's entry formed its chain (成团)


def place_order(
    request: OrderRequest, facts: OrderFacts, order_id: str, now: float
) -> OrderDecision:
    """Decide an order: the events to log and what changes, or ``Refused`` naming the field."""
    if facts.session_status is None:
        raise Refused(RefusalKind.NOT_FOUND, "sid", "场次不存在")
    require_live(facts.session_status)
    buyer = facts.buyer
    if buyer is None:
        raise Refused(RefusalKind.NOT_FOUND, "member_id", f"会员 {request.member_id!r} 不存在")
    product = facts.product
    if product is None:
        raise Refused(
            RefusalKind.NOT_FOUND, "product_id", f"{request.product_id!r} 不在本场的商品里"
        )
    card = offer_for(product, facts.offers, buyer.segment, buyer.opted_out)
    if card is None:
        raise Refused(RefusalKind.NOT_OFFERED, "product_id", "该商品不向此会员的圈层开放")
    point = _pickup_point(request, facts)
    if card.limit and facts.bought + request.quantity > card.limit:
        raise Refused(
            RefusalKind.CONFLICT,
            "quantity",
            f"超过每人限购 {card.limit} 件（已买 {facts.bought} 件）",
        )
    entry = None
    if request.chain_id:
        if facts.chain is None:
            raise Refused(RefusalKind.NOT_FOUND, "chain_id", f"接龙 {request.chain_id!r} 不存在")
        entry = take_entry(facts.chain, product.id, now)
    stock_left = take_stock(facts.stock, request.quantity)
    referrer = _referrer(request, facts)
    events: list[NewEvent] = []
    terms = None
    flash = facts.flash
    if flash is not None:
        over = flash.over(now)
        if over is not None:
            events.append(ended_event(flash, over, now))  # seen over by this order
        else:
            terms = flash_terms(
                flash,
                buyer.segment,
                buyer.opted_out,
                card.price,
                request.quantity,
                facts.flash_taken,
                now,
            )
    unit_price = terms.unit_price if terms else card.price
    order = PlacedOrder(
        order_id=order_id,
        member_id=buyer.member_id,
        product_id=product.id,
        quantity=request.quantity,
        unit_price=unit_price,
        amount=unit_price * request.quantity,
        tier=card.tier,
        perk=card.perk,
        pickup_point=point,
        referrer=referrer.member_id if referrer else "",
        chain_id=request.chain_id or None,
        entry=entry.rank if entry else 0,
        gift=entry.gift if entry else "",
        new_customer=not buyer.bought_before,
    )
    placed = NewEvent(
        EventType.ORDER_PLACED,
        now,
        {
            "order_id": order.order_id,
            "product_id": product.id,
            "product_name": product.name,
            "quantity": order.quantity,
            "unit_price": order.unit_price,
            "amount": order.amount,
            "tier": order.tier.value if order.tier else None,
            "pickup_point": point,
            "referrer": order.referrer,
            "referral_code": request.referral_code.strip() if referrer else "",
            "referrer_nick": referrer.nick if referrer else "",
            "referrer_koc": referrer.koc if referrer else False,
            "new_customer": order.new_customer,
            # 老友回归 is only for a member who bought before this session (not a first order).
            "returning": buyer.bought_before_session,
            "stock_left": stock_left,
            "chain_id": order.chain_id,
            "entry": order.entry,
            "gift": order.gift,
            **(
                {"flash_sale_id": terms.sale_id, "flash_units_left": terms.units_left}
                if terms
                else {}
            ),
        },
        buyer.member_id,
    )
    formed = entry is not None and entry.formed
    events.append(placed)
    if flash is not None and terms is not None and terms.units_left <= 0:
        events.append(ended_event(flash, "sold_out", now))  # its last units
    if entry is not None and formed:
        events.append(formed_event(entry.chain, now))  # 成团
    return OrderDecision(order, stock_left, entry.chain if entry else None, events, formed)


def take_stock(stock: int, quantity: int) -> int:
    """The stock left after taking ``quantity``; ``Refused`` (sold out, only N left) when it
    is not there. Every order takes stock through here: the shop's, a 接龙 comment's, a
    platform's (``platform_orders``)."""
    if quantity > stock:
        reason = "已售罄" if stock <= 0 else f"只剩 {stock} 件"
        raise Refused(RefusalKind.CONFLICT, "product_id", reason)
    return stock - quantity


def _pickup_point(request: OrderRequest, facts: OrderFacts) -> str:
    if not request.pickup_point:
        hint = ""
        if facts.nearest_point is not None:
            hint = f"；离会员最近的是 {facts.nearest_point[0]}（{facts.nearest_point[1]}）"
        raise Refused(RefusalKind.INVALID, "pickup_point", "必填：每笔订单都要选自提点" + hint)
    if not facts.point_known:
        raise Refused(
            RefusalKind.NOT_FOUND, "pickup_point", f"自提点 {request.pickup_point!r} 不存在"
        )
    return request.pickup_point


def _referrer(request: OrderRequest, facts: OrderFacts) -> Referrer | None:
    """The member credited with the order: the owner of the session's code, never oneself."""
    code = request.referral_code.strip()
    if not code:
        return None
    if facts.referrer is None:
        raise Refused(RefusalKind.NOT_FOUND, "referrer", f"本场没有推荐码 {code!r}")
    if facts.referrer.member_id == request.member_id:
        raise Refused(RefusalKind.INVALID, "referrer", "不能推荐自己的订单")
    return facts.referrer


# -- cancellations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StandingOrder:
    """A placed order as a cancellation needs it."""

    order_id: str
    member_id: str
    product_id: str
    quantity: int
    amount: int
    pickup_point: str
    chain_id: str | None
    status: OrderStatus = OrderStatus.PLACED


@dataclass(frozen=True, slots=True)
class Cancellation:
    """What cancelling some orders changes: their ids, stock and chains after, the events."""

    order_ids: list[str]
    stock: dict[str, int]  # product -> stock after
    chains: dict[str, Chain]  # chain id -> chain after
    events: list[NewEvent] = field(default_factory=list)


def cancel_orders(
    orders: Sequence[StandingOrder],
    stock: Mapping[str, int],
    chains: Mapping[str, Chain],
    reason: str,
    now: float,
) -> Cancellation:
    """Cancel standing orders: each one's units back to stock once, its chain entry out.
    Orders already cancelled are skipped (a refund is never given twice)."""
    stock_after = dict(stock)
    chains_after = dict(chains)
    done: list[str] = []
    seen: set[str] = set()
    events: list[NewEvent] = []
    for order in orders:
        if order.status is not OrderStatus.PLACED or order.order_id in seen:
            continue
        seen.add(order.order_id)
        left = stock_after.get(order.product_id, 0) + order.quantity
        stock_after[order.product_id] = left
        if order.chain_id and order.chain_id in chains_after:
            chains_after[order.chain_id] = drop_entry(chains_after[order.chain_id])
        done.append(order.order_id)
        data = {
            "order_id": order.order_id,
            "product_id": order.product_id,
            "quantity": order.quantity,
            "amount": order.amount,
            "chain_id": order.chain_id,
            "pickup_point": order.pickup_point,
            "stock_left": left,
            "reason": reason,
        }
        events.append(NewEvent(EventType.ORDER_CANCELLED, now, data, order.member_id))
    return Cancellation(done, stock_after, chains_after, events)


def cancel_by_hand(order: StandingOrder | None, order_id: str) -> StandingOrder:
    """退单 by the floor assistant: the order must exist in this session and still stand."""
    if order is None:
        raise Refused(RefusalKind.NOT_FOUND, "order_id", f"本场没有订单 {order_id!r}")
    if order.status is not OrderStatus.PLACED:
        raise Refused(RefusalKind.CONFLICT, "order_id", "订单已取消")
    return order
