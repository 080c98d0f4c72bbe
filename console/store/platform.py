"""The store's reactions to platform events at ingest, inside the ingest's transaction.

- A viewer named by ``data.platform_user`` whose handle is bound gets their ``member_id``
  (so their circle, price and shout-outs follow); an unbound one stays a guest.
- A comment "绑定 123456" from an unbound handle binds it (``domain.identities``).
- A comment matching the open 接龙's pattern joins it through the order decision
  (``domain.comment_chain``, ``orders.place_in``); one that cannot is noted for the assistant.
- A ``platform_order`` places, flags or cancels an order (``domain.platform_orders``).

Each reacting event is appended first; only when it is new (not a repeat of a stored id) do
its reactions run, so a resent comment never joins twice. Everything commits with the batch.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from console.domain import comment_chain, identities, platform_orders
from console.domain.decisions import NewEvent, Refused
from console.domain.events import PLATFORM_USER, EventType
from console.domain.orders import OrderStatus, StandingOrder
from console.domain.platform import guest_buyer, platform_user
from console.domain.platform_orders import (
    KnownPlatformOrder,
    PlatformOrder,
    PlatformOrderFacts,
    PlatformOrderState,
)
from console.store import facts
from console.store import identities as store_identities
from console.store import orders as store_orders
from console.store.catalog import nearest_point_for
from console.store.repository import AppendResult, append_in, append_new, session_status

Originals = Mapping[str, Mapping[str, Any]]
_COMMENT = EventType.COMMENT.value
_PLATFORM_ORDER = EventType.PLATFORM_ORDER.value


class Reactor:
    """Appends a live session's platform events with the store's reactions to them."""

    def __init__(self, originals: Originals, clock: Callable[[], float]) -> None:
        self.originals = originals
        self.clock = clock
        self._chains_open: dict[str, bool] = {}
        self._patterns: list[str | None] = []  # the open 接龙s' comment patterns, this batch

    def append(
        self, conn: sqlite3.Connection, sid: str, events: Sequence[Mapping[str, Any]]
    ) -> AppendResult:
        """``repository.append_in`` with reactions (the fast path when none reacts).

        Events that cannot react go in runs, one append each: on PostgreSQL an append is
        a few round trips, and a room's comments are mostly chatter, not 接龙 entries."""
        if any(e["type"] == _COMMENT for e in events) and self._chains_open.get(sid) is not False:
            self._patterns = [c.comment_pattern for c in facts.open_chains_for_comments(conn, sid)]
            self._chains_open[sid] = bool(self._patterns)
        else:
            self._patterns = []
        if not any(self._reacts(e) for e in events):
            return append_in(conn, sid, events)
        accepted = duplicates = 0
        run: list[Mapping[str, Any]] = []

        def flush() -> None:
            nonlocal accepted, duplicates
            if run:
                part = append_in(conn, sid, run)
                accepted, duplicates = accepted + part.accepted, duplicates + part.duplicates
                run.clear()

        for event in events:
            if not self._reacts(event):
                run.append(event)
                continue
            flush()
            sent = self.originals.get(str(event["id"])) or event.get("data") or {}
            resolved = self._resolved(conn, event, sent)
            part = append_in(conn, sid, [resolved])
            accepted, duplicates = accepted + part.accepted, duplicates + part.duplicates
            if part.accepted:
                self._react(conn, sid, resolved, sent)
        flush()
        # The reactions' own events follow their event in the log; the seq is the last one.
        return AppendResult(accepted, duplicates, append_in(conn, sid, []).last_seq)

    def _reacts(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` may need a reaction (or its platform user resolved): a
        platform order; a comment with a bind code, or one that reads as an entry of an
        open 接龙 (by its pattern); any event carrying a platform user."""
        data = event.get("data") or {}
        if event["type"] == _PLATFORM_ORDER or PLATFORM_USER in data:
            return True
        if event["type"] != _COMMENT:
            return False
        sent = self.originals.get(str(event["id"])) or data
        text = str(sent.get("text", ""))
        if identities.bind_code_in(text) is not None:
            return True
        return any(comment_chain.join_quantity(text, p) is not None for p in self._patterns)

    # -- identity ------------------------------------------------------------------------

    def _resolved(
        self, conn: sqlite3.Connection, event: Mapping[str, Any], sent: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        if event.get("member_id"):
            return event
        user = platform_user(sent)
        if user is None:
            return event
        member = store_identities.member_of(conn, user.platform, user.handle)
        return {**event, "member_id": member} if member else event

    # -- reactions -----------------------------------------------------------------------

    def _react(
        self,
        conn: sqlite3.Connection,
        sid: str,
        event: Mapping[str, Any],
        sent: Mapping[str, Any],
    ) -> None:
        """Append what ``event`` asks for, if anything."""
        if event["type"] == _COMMENT:
            text = str(sent.get("text", ""))
            code = identities.bind_code_in(text)
            if code is not None:
                self._bind(conn, sid, event, sent, code)
            else:
                self._join_chain(conn, sid, event, text)
        elif event["type"] == _PLATFORM_ORDER:
            self._platform_order(conn, sid, event, sent)

    def _bind(
        self,
        conn: sqlite3.Connection,
        sid: str,
        event: Mapping[str, Any],
        sent: Mapping[str, Any],
        code: str,
    ) -> None:
        user = platform_user(sent)
        if user is None:
            return  # a member's own comment: nothing to bind
        handle = store_identities.load_handle(conn, user.platform, user.handle)
        now = self.clock()  # codes expire on the wall clock, whatever the session's
        try:
            binding = identities.decide_bind(
                handle, store_identities.load_code(conn, code), code, now, user.tag
            )
        except Refused:
            return  # the comment is in the feed with its code hidden; nothing binds
        store_identities.save_binding(conn, handle, binding.member_id, store_identities.CODE, now)
        store_identities.use_code(conn, code, now)
        bound = NewEvent(
            binding.event.type,
            facts.session_now(conn, sid, now),
            binding.event.data,
            binding.member_id,
        )
        append_new(conn, sid, [bound], [f"bound-{event['id']}"])

    def _join_chain(
        self, conn: sqlite3.Connection, sid: str, event: Mapping[str, Any], text: str
    ) -> None:
        if self._chains_open.get(sid) is False:
            return
        chains = facts.open_chains_for_comments(conn, sid)
        self._chains_open[sid] = bool(chains)
        if not chains:
            return
        chosen = comment_chain.chain_for_comment(chains, facts.presenting(conn, sid))
        if chosen is None:
            return
        quantity = comment_chain.join_quantity(text, chosen.comment_pattern)
        if quantity is None:
            return
        member = event.get("member_id")
        now = facts.session_now(conn, sid, self.clock())
        refusal = ""
        if not member:
            refusal = comment_chain.GUEST_REASON
        else:
            point = _pickup_point_for(conn, str(member))
            if point is None:
                refusal = comment_chain.NO_POINT_REASON
            else:
                request = store_orders.OrderRequest(
                    member_id=str(member),
                    product_id=chosen.chain.product_id,
                    quantity=quantity,
                    pickup_point=point,
                    idempotency_key=f"comment-{event['id']}",
                    chain_id=chosen.chain.id,
                )
                try:
                    store_orders.place_in(conn, sid, request, now)
                except Refused as refused:
                    refusal = refused.refusal.reason
                else:
                    return
        note = comment_chain.join_refused(
            str(member) if member else None, chosen.chain, quantity, refusal, str(event["id"]), now
        )
        append_new(conn, sid, [note], [f"join-refused-{event['id']}"])

    def _platform_order(
        self,
        conn: sqlite3.Connection,
        sid: str,
        event: Mapping[str, Any],
        sent: Mapping[str, Any],
    ) -> None:
        data = event.get("data") or {}
        platform = str(data["platform"])
        order_key = str(data["platform_order_id"])
        member = event.get("member_id")
        user = platform_user(sent)
        if member:
            buyer = str(member)
        elif user is not None:
            buyer = guest_buyer(user.platform, user.handle)
        else:
            buyer = guest_buyer(platform, f"order:{order_key}")
        order = PlatformOrder(
            platform,
            order_key,
            str(data["status"]),
            str(data["product_id"]),
            int(data["quantity"]),
            round(float(data["amount"]) * 100),
            buyer,
            str(data.get("pickup_point") or ""),
        )
        known = _known_platform_order(conn, sid, platform, order_key)
        product, stock = store_orders._lineup_product(conn, sid, order.product_id)
        buyer_facts = store_orders._buyer(conn, sid, buyer) if member else None
        decision = platform_orders.decide_platform_order(
            order,
            PlatformOrderFacts(
                session_status(conn, sid),
                known,
                product,
                stock,
                buyer_facts is not None and not buyer_facts.bought_before,
            ),
            "o_" + secrets.token_hex(6),
            facts.session_now(conn, sid, self.clock()),
        )
        if decision.state is None:
            return
        if decision.stock_left is not None and decision.order is not None:
            facts.set_stock(conn, decision.order.product_id, decision.stock_left)
        order_id = known.standing.order_id if known and known.standing else None
        last = None
        if decision.events:
            ids = [f"{event['id']}-{n}" for n in range(len(decision.events))]
            last = append_new(conn, sid, decision.events, ids).last_seq
        if decision.state is PlatformOrderState.PLACED and decision.order is not None:
            order_id = decision.order.order_id
            assert last is not None
            placed = decision.events[0]
            _insert_live_order(conn, sid, decision.order, placed, last, str(event["id"]))
        elif decision.state is PlatformOrderState.CANCELLED and order_id:
            facts.mark_cancelled(conn, [order_id])
        _save_platform_order(conn, sid, order, decision.state, order_id, decision.reason)


def _pickup_point_for(conn: sqlite3.Connection, member_id: str) -> str | None:
    """A 接龙 comment's pickup point: the member's default (the point of their latest order,
    any session), else the one nearest them."""
    row = conn.execute(
        "SELECT pickup_point FROM live_orders WHERE member_id = ? AND pickup_point != '' "
        "ORDER BY created_at DESC LIMIT 1",
        [member_id],
    ).fetchone()
    if row is not None:
        return str(row[0])
    nearest = nearest_point_for(conn, member_id)
    return str(nearest["id"]) if nearest else None


def _known_platform_order(
    conn: sqlite3.Connection, sid: str, platform: str, order_key: str
) -> KnownPlatformOrder | None:
    row = conn.execute(
        "SELECT state, order_id FROM platform_orders WHERE session_id = ? AND platform = ? "
        "AND platform_order_id = ?",
        [sid, platform, order_key],
    ).fetchone()
    if row is None:
        return None
    standing = facts.load_order(conn, sid, str(row[1])) if row[1] else None
    if standing is not None and standing.status is not OrderStatus.PLACED:
        standing = None
    return KnownPlatformOrder(PlatformOrderState(row[0]), standing)


def _save_platform_order(
    conn: sqlite3.Connection,
    sid: str,
    order: PlatformOrder,
    state: PlatformOrderState,
    order_id: str | None,
    reason: str,
) -> None:
    conn.execute(
        "INSERT INTO platform_orders (session_id, platform, platform_order_id, state, "
        "order_id, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (session_id, platform, platform_order_id) DO UPDATE SET "
        "state = excluded.state, "
        "order_id = coalesce(excluded.order_id, platform_orders.order_id), "
        "updated_at = excluded.updated_at",
        [sid, order.platform, order.platform_order_id, state.value, order_id, reason, 0.0],
    )


def _insert_live_order(
    conn: sqlite3.Connection,
    sid: str,
    standing: StandingOrder,
    placed: NewEvent,
    seq: int,
    event_id: str,
) -> None:
    """The platform order as a live order: the assistant may cancel it (退单) like any."""
    data = placed.data
    answer = {
        "order_id": standing.order_id,
        "seq": seq,
        "platform": data["platform"],
        "platform_order_id": data["platform_order_id"],
    }
    conn.execute(
        "INSERT INTO live_orders (id, session_id, idempotency_key, request, member_id, "
        "product_id, quantity, unit_price, amount, tier, pickup_point, referrer, chain_id, "
        "gift, status, created_at, seq, response) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, '', NULL, '', ?, ?, ?, ?)",
        [
            standing.order_id,
            sid,
            f"platform-{data['platform']}-{data['platform_order_id']}",
            orjson.dumps({"event_id": event_id}).decode(),
            standing.member_id,
            standing.product_id,
            standing.quantity,
            int(data["unit_price"]),
            standing.amount,
            standing.pickup_point,
            OrderStatus.PLACED.value,
            placed.ts,
            seq,
            orjson.dumps(answer).decode(),
        ],
    )
