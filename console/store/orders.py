"""Placing an order (下单) in the store: load the facts, let the domain decide, persist.

Everything happens in one transaction on the writer: the order row, the stock, the chain
and the ``order_placed`` (and ``chain_formed``) events commit together or not at all. A
request repeated with its idempotency key gets the first answer back and changes nothing.
The rules themselves are ``console.domain.orders.place_order``.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import sqlite_utils

from console.domain import orders as rules
from console.domain.catalog import Product
from console.domain.decisions import RefusalKind, Refused
from console.domain.events import EventType
from console.domain.order_status import NOT_COUNTED
from console.domain.orders import Buyer, OrderFacts, OrderStatus, Referrer
from console.domain.segments import parse_segment
from console.domain.sessions import parse_status
from console.store import facts
from console.store.catalog import PRODUCT_OFFERS, nearest_point_for, product_offers
from console.store.facts import load_chain, save_chain, set_stock
from console.store.postgres import prefetched
from console.store.repository import append_new
from console.store.schema import transaction

PLACED = OrderStatus.PLACED.value
# An imported order cancelled or refunded is no purchase: its buyer is still a new customer.
_NOT_COUNTED = ", ".join(f"'{status.value}'" for status in NOT_COUNTED)


@dataclass(frozen=True)
class OrderRequest:
    member_id: str
    product_id: str
    quantity: int
    pickup_point: str | None
    idempotency_key: str
    referrer: str = ""
    chain_id: str | None = None

    def fingerprint(self) -> str:
        fields = [
            self.member_id,
            self.product_id,
            self.quantity,
            self.pickup_point,
            self.referrer,
            self.chain_id,
        ]
        return orjson.dumps(fields).decode()

    def to_domain(self) -> rules.OrderRequest:
        return rules.OrderRequest(
            self.member_id,
            self.product_id,
            self.quantity,
            self.pickup_point,
            self.referrer,
            self.chain_id,
        )


def place_order(
    db: sqlite_utils.Database, sid: str, request: OrderRequest, clock: Callable[[], float]
) -> tuple[dict[str, Any], bool]:
    """The order's answer, and whether it is new (False: a replay of the same key)."""
    with transaction(db) as conn:
        now = facts.session_now(conn, sid, clock())  # a rehearsal's is its script time
        return place_in(conn, sid, request, now)


def place_in(
    conn: sqlite3.Connection, sid: str, request: OrderRequest, now: float
) -> tuple[dict[str, Any], bool]:
    """``place_order`` inside a transaction the caller holds (a 接龙 comment at ingest)."""
    with prefetched(conn, _order_reads(sid, request)):  # one round trip on PostgreSQL
        replay = conn.execute(_REPLAY, [sid, request.idempotency_key]).fetchone()
        if replay is not None:
            if replay[0] != request.fingerprint():
                raise Refused(RefusalKind.CONFLICT, "idempotency_key", "该幂等键已用于另一笔订单")
            return dict(orjson.loads(replay[1])), False
        order_facts = load_order_facts(conn, sid, request)
    decision = rules.place_order(request.to_domain(), order_facts, _order_id(), now)
    order = decision.order
    set_stock(conn, order.product_id, decision.stock_left)
    if decision.chain is not None:
        save_chain(conn, decision.chain)
    # The order's event is first but for a 秒杀 seen over before it (``flash_sale_ended``).
    at = next(n for n, e in enumerate(decision.events) if e.type is EventType.ORDER_PLACED)
    ids = [
        f"order-{order.order_id}" if n == at else f"{e.type.value}-{secrets.token_hex(8)}"
        for n, e in enumerate(decision.events)
    ]
    seq = append_new(conn, sid, decision.events, ids).last_seq - (len(decision.events) - 1 - at)
    answer = {
        "order_id": order.order_id,
        "seq": seq,
        "product_id": order.product_id,
        "quantity": order.quantity,
        "unit_price": order.unit_price / 100,
        "amount": order.amount / 100,
        "perk": order.perk,
        "tier": order.tier.value if order.tier else None,
        "pickup_point": order.pickup_point,
        "stock_left": decision.stock_left,
        "chain_id": order.chain_id,
        "entry": order.entry,
        "gift": order.gift,
        "chain_formed": decision.formed,
        "referrer": order.referrer,
        "new_customer": order.new_customer,
    }
    conn.execute(
        "INSERT INTO live_orders (id, session_id, idempotency_key, request, member_id, "
        "product_id, quantity, unit_price, amount, tier, pickup_point, referrer, chain_id, "
        "gift, status, created_at, seq, response) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            order.order_id,
            sid,
            request.idempotency_key,
            request.fingerprint(),
            order.member_id,
            order.product_id,
            order.quantity,
            order.unit_price,
            order.amount,
            answer["tier"],
            order.pickup_point,
            order.referrer,
            order.chain_id,
            order.gift,
            PLACED,
            now,
            seq,
            orjson.dumps(answer).decode(),
        ],
    )
    return answer, True


def _order_id() -> str:
    return "o_" + secrets.token_hex(6)


_REPLAY = "SELECT request, response FROM live_orders WHERE session_id = ? AND idempotency_key = ?"
_STATUS = "SELECT status FROM sessions WHERE id = ?"
_POINT_KNOWN = "SELECT 1 FROM pickup_points WHERE id = ?"
_LINEUP_PRODUCT = (
    "SELECT p.id, p.name, p.base_price, p.emoji, p.category, p.stock "
    "FROM session_products AS s JOIN products AS p ON p.id = s.product_id "
    "WHERE s.session_id = ? AND s.product_id = ?"
)
_MEMBER = "SELECT segment, opted_out FROM members WHERE id = ?"
_HISTORY = (
    "SELECT EXISTS (SELECT 1 FROM orders WHERE member_id = ? AND amount > 0 "
    f"AND status NOT IN ({_NOT_COUNTED})), "
    "EXISTS (SELECT 1 FROM live_orders WHERE member_id = ? AND status = ? "
    "AND session_id != ?), "
    "EXISTS (SELECT 1 FROM live_orders WHERE member_id = ? AND status = ? "
    "AND session_id = ?)"
)
_BOUGHT = (
    "SELECT coalesce(sum(quantity), 0) FROM live_orders WHERE session_id = ? "
    "AND member_id = ? AND product_id = ? AND status = ?"
)
_REFERRER = (
    "SELECT r.member_id, coalesce(m.nick, ''), coalesce(m.koc, 0) FROM referral_codes AS r "
    "LEFT JOIN members AS m ON m.id = r.member_id WHERE r.code = ? AND r.session_id = ?"
)


def _order_reads(sid: str, request: OrderRequest) -> list[tuple[str, list[Any]]]:
    """The reads an order makes before deciding, sent together (``postgres.prefetched``):
    the same statements and parameters as below; whatever is not needed goes unread."""
    member, product = request.member_id, request.product_id
    reads: list[tuple[str, list[Any]]] = [
        (_REPLAY, [sid, request.idempotency_key]),
        (_STATUS, [sid]),
        (_LINEUP_PRODUCT, [sid, product]),
        (PRODUCT_OFFERS, [sid, product]),
        (_MEMBER, [member]),
        (_HISTORY, [member, member, PLACED, sid, member, PLACED, sid]),
        (_BOUGHT, [sid, member, product, PLACED]),
        (facts.FLASH_STARTED, [sid, product]),
    ]
    if request.pickup_point:
        reads.append((_POINT_KNOWN, [request.pickup_point]))
    if request.chain_id:
        reads.append((facts.CHAIN_BY_ID, [request.chain_id, sid]))
    if request.referrer.strip():
        reads.append((_REFERRER, [request.referrer.strip(), sid]))
    return reads


def load_order_facts(conn: sqlite3.Connection, sid: str, request: OrderRequest) -> OrderFacts:
    """What the order rules need, read inside the order's transaction."""
    status_row = conn.execute(_STATUS, [sid]).fetchone()
    product, stock = _lineup_product(conn, sid, request.product_id)
    offers = product_offers(conn, sid, request.product_id) if product else {}
    point_known = bool(request.pickup_point) and (
        conn.execute(_POINT_KNOWN, [request.pickup_point]).fetchone() is not None
    )
    nearest = None
    if not request.pickup_point:
        found = nearest_point_for(conn, request.member_id)
        nearest = (str(found["id"]), str(found["name"])) if found else None
    # What the member already holds matters only where some circle has a limit.
    limited = any(offer.limit for offer in offers.values())
    flash = facts.running_flash_sale(conn, sid, request.product_id) if product else None
    return OrderFacts(
        session_status=parse_status(status_row[0]) if status_row else None,
        buyer=_buyer(conn, sid, request.member_id),
        product=product,
        offers=offers,
        stock=stock,
        bought=_bought(conn, sid, request.member_id, request.product_id) if limited else 0,
        point_known=point_known,
        nearest_point=nearest,
        chain=load_chain(conn, sid, request.chain_id) if request.chain_id else None,
        referrer=_referrer(conn, sid, request.referrer.strip()),
        flash=flash,
        flash_taken=facts.flash_taken(conn, sid, flash.sale_id, request.member_id) if flash else 0,
    )


def _lineup_product(
    conn: sqlite3.Connection, sid: str, product_id: str
) -> tuple[Product | None, int]:
    """The product if it is in the session's lineup, and its stock now."""
    row = conn.execute(_LINEUP_PRODUCT, [sid, product_id]).fetchone()
    if row is None:
        return None, 0
    return Product(str(row[0]), str(row[1]), int(row[2]), str(row[3]), str(row[4])), int(row[5])


def _buyer(conn: sqlite3.Connection, sid: str, member_id: str) -> Buyer | None:
    row = conn.execute(_MEMBER, [member_id]).fetchone()
    if row is None:
        return None
    history, elsewhere, here = conn.execute(
        _HISTORY, [member_id, member_id, PLACED, sid, member_id, PLACED, sid]
    ).fetchone()
    before_session = bool(history or elsewhere)
    return Buyer(
        member_id, parse_segment(row[0]), bool(row[1]), before_session or bool(here), before_session
    )


def _bought(conn: sqlite3.Connection, sid: str, member_id: str, product_id: str) -> int:
    """Units of the product the member holds in this session (standing orders)."""
    return int(conn.execute(_BOUGHT, [sid, member_id, product_id, PLACED]).fetchone()[0])


def _referrer(conn: sqlite3.Connection, sid: str, code: str) -> Referrer | None:
    """The owner of a referral code issued in this session (at their first share)."""
    if not code:
        return None
    row = conn.execute(_REFERRER, [code, sid]).fetchone()
    return None if row is None else Referrer(str(row[0]), str(row[1]), bool(row[2]))
