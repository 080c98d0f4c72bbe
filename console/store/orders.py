"""Placing an order (下单): priced by the store, stock-safe, idempotent, logged as an event.

Everything happens in one transaction on the writer: the order row, the stock decrement and
the ``order_placed`` event commit together or not at all. A request repeated with its
idempotency key gets the first answer back and changes nothing.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson
import sqlite_utils

from console.domain.catalog import offer_for
from console.store.catalog import member_profile, nearest_point_for, session_catalog
from console.store.chains import formed_now, join_chain
from console.store.errors import Refused
from console.store.repository import append_in, require_live
from console.store.schema import transaction


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


def place_order(
    db: sqlite_utils.Database, sid: str, request: OrderRequest
) -> tuple[dict[str, Any], bool]:
    """The order's answer, and whether it is new (False: a replay of the same key)."""
    now = time.time()
    with transaction(db) as conn:
        replay = conn.execute(
            "SELECT request, response FROM live_orders "
            "WHERE session_id = ? AND idempotency_key = ?",
            [sid, request.idempotency_key],
        ).fetchone()
        if replay is not None:
            if replay[0] != request.fingerprint():
                raise Refused(409, "idempotency_key", "already used for a different order")
            return dict(orjson.loads(replay[1])), False
        require_live(conn, sid)
        if (
            conn.execute("SELECT 1 FROM members WHERE id = ?", [request.member_id]).fetchone()
            is None
        ):
            raise Refused(404, "member_id", f"member {request.member_id!r} not found")
        lineup, offers = session_catalog(conn, sid)
        product = next((p for p in lineup if p.id == request.product_id), None)
        if product is None:
            raise Refused(404, "product_id", f"{request.product_id!r} is not on sale here")
        segment, opted_out = member_profile(conn, request.member_id)
        card = offer_for(product, offers.get(product.id, {}), segment, opted_out)
        if card is None:
            raise Refused(403, "product_id", "not offered to this member's circle")
        point = _pickup_point(conn, request)
        _check_limit(conn, sid, request, card.limit)
        rank, threshold, gift = 0, 0, ""
        if request.chain_id:
            rank, threshold, gift = join_chain(conn, sid, request.chain_id, product.id)
        stock_left = _take_stock(conn, product.id, request.quantity)
        new_customer = _first_order(conn, request.member_id)
        referrer = _referrer(conn, sid, request)
        order_id = "o_" + secrets.token_hex(6)
        amount = card.price * request.quantity
        event = {
            "id": f"order-{order_id}",
            "type": "order_placed",
            "ts": now,
            "member_id": request.member_id,
            "data": {
                "order_id": order_id,
                "product_id": product.id,
                "product_name": product.name,
                "quantity": request.quantity,
                "unit_price": card.price,
                "amount": amount,
                "tier": card.tier.value if card.tier else None,
                "pickup_point": point,
                "referrer": referrer,
                "referral_code": request.referrer.strip() if referrer else "",
                "referrer_nick": _nick(conn, referrer),
                "referrer_koc": _is_koc(conn, referrer),
                "new_customer": new_customer,
                "stock_left": stock_left,
                "chain_id": request.chain_id,
                "entry": rank,
                "gift": gift,
            },
        }
        formed = bool(request.chain_id) and rank == threshold
        events = [event]
        if formed and request.chain_id:
            events.append(formed_now(conn, sid, request.chain_id, now))  # 成团
        seq = append_in(conn, sid, events).last_seq - (len(events) - 1)
        answer = {
            "order_id": order_id,
            "seq": seq,
            "product_id": product.id,
            "quantity": request.quantity,
            "unit_price": card.price / 100,
            "amount": amount / 100,
            "perk": card.perk,
            "tier": card.tier.value if card.tier else None,
            "pickup_point": point,
            "stock_left": stock_left,
            "chain_id": request.chain_id,
            "entry": rank,
            "gift": gift,
            "chain_formed": formed,
            "referrer": referrer,
            "new_customer": new_customer,
        }
        conn.execute(
            "INSERT INTO live_orders (id, session_id, idempotency_key, request, member_id, "
            "product_id, quantity, unit_price, amount, tier, pickup_point, referrer, chain_id, "
            "gift, created_at, seq, response) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                order_id,
                sid,
                request.idempotency_key,
                request.fingerprint(),
                request.member_id,
                product.id,
                request.quantity,
                card.price,
                amount,
                answer["tier"],
                point,
                referrer,
                request.chain_id,
                gift,
                now,
                seq,
                orjson.dumps(answer).decode(),
            ],
        )
    return answer, True


def _pickup_point(conn: Any, request: OrderRequest) -> str:
    if not request.pickup_point:
        nearest = nearest_point_for(conn, request.member_id)
        hint = f"; the nearest is {nearest['id']} ({nearest['name']})" if nearest else ""
        raise Refused(422, "pickup_point", "required: every order names its pickup point" + hint)
    if (
        conn.execute("SELECT 1 FROM pickup_points WHERE id = ?", [request.pickup_point]).fetchone()
        is None
    ):
        raise Refused(404, "pickup_point", f"unknown pickup point {request.pickup_point!r}")
    return request.pickup_point


def _check_limit(conn: Any, sid: str, request: OrderRequest, limit: int) -> None:
    if not limit:
        return
    bought = conn.execute(
        "SELECT coalesce(sum(quantity), 0) FROM live_orders WHERE session_id = ? "
        "AND member_id = ? AND product_id = ? AND status = 'placed'",
        [sid, request.member_id, request.product_id],
    ).fetchone()[0]
    if bought + request.quantity > limit:
        raise Refused(
            409, "quantity", f"over the limit of {limit} per member (already bought {bought})"
        )


def _take_stock(conn: Any, product_id: str, quantity: int) -> int:
    """Take ``quantity`` from stock in one statement (no oversell); the stock left."""
    left = conn.execute(
        "UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ? RETURNING stock",
        [quantity, product_id, quantity],
    ).fetchone()
    if left is None:
        remaining = conn.execute(
            "SELECT stock FROM products WHERE id = ?", [product_id]
        ).fetchone()[0]
        raise Refused(409, "product_id", "sold out" if remaining == 0 else f"only {remaining} left")
    return int(left[0])


def _first_order(conn: Any, member_id: str) -> bool:
    """A new customer: no purchase in the imported history and none placed live before."""
    bought = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM orders WHERE member_id = ? AND amount > 0) "
        "OR EXISTS (SELECT 1 FROM live_orders WHERE member_id = ? AND status = 'placed')",
        [member_id, member_id],
    ).fetchone()[0]
    return not bought


def _nick(conn: Any, member_id: str) -> str:
    """A member's masked nick, for the shout-out thanking them; empty when none."""
    if not member_id:
        return ""
    row = conn.execute("SELECT nick FROM members WHERE id = ?", [member_id]).fetchone()
    return str(row[0] or "") if row else ""


def _is_koc(conn: Any, member_id: str) -> bool:
    if not member_id:
        return False
    row = conn.execute("SELECT koc FROM members WHERE id = ?", [member_id]).fetchone()
    return bool(row and row[0])


def _referrer(conn: Any, sid: str, request: OrderRequest) -> str:
    """The member credited with the order: the owner of the referral code, never oneself.

    A code is issued to a member at their first share in the session (in the share event's
    ``data.referral_code``); a code from another session does not count here.
    """
    code = request.referrer.strip()
    if not code:
        return ""
    row = conn.execute(
        "SELECT member_id FROM referral_codes WHERE code = ? AND session_id = ?", [code, sid]
    ).fetchone()
    if row is None:
        raise Refused(404, "referrer", f"unknown referral code {code!r} in this session")
    if row[0] == request.member_id:
        raise Refused(422, "referrer", "a member cannot refer their own order")
    return str(row[0])
