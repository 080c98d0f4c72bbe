"""Floor-assistant commands (场控指令) in the store: checked, applied and logged at once.

Every command carries a ``command_id`` chosen by the console. The first time the store sees
it, ``run`` loads the facts, lets the domain decide (``console.domain.commands``,
``chains``, ``orders``), appends the events and persists what changed, in one transaction;
the answer is remembered. The same id again returns that first answer and changes nothing
(an outbox may resend after a lost reply); the same id with a different command is refused.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import orjson
import sqlite_utils

from console.domain import commands as rules
from console.domain import draws, flash
from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.orders import OrderStatus, cancel_by_hand, cancel_orders
from console.domain.sessions import parse_status, require_live
from console.store import facts
from console.store.repository import append_new
from console.store.schema import transaction

Applied = tuple[list[NewEvent], dict[str, Any]]
"""What a command did: the events to log, and the answer's fields."""
Apply = Callable[[sqlite3.Connection, float], Applied]


@dataclass(frozen=True)
class Command:
    """One command: who asked, its id, and the request as the console sent it."""

    session_id: str
    command_id: str
    actor: str
    request: tuple[Any, ...]

    def fingerprint(self) -> str:
        return orjson.dumps(list(self.request)).decode()


def run(
    db: sqlite_utils.Database,
    command: Command,
    apply: Apply,
    clock: Callable[[], float],
) -> tuple[dict[str, Any], bool]:
    """Apply ``command`` once; (answer, True) the first time, (first answer, False) after."""
    sid = command.session_id
    with transaction(db) as conn:
        now = facts.session_now(conn, sid, clock())  # a rehearsal's is its script time
        row = conn.execute(
            "SELECT request, response FROM commands WHERE session_id = ? AND command_id = ?",
            [sid, command.command_id],
        ).fetchone()
        if row is not None:
            if row[0] != command.fingerprint():
                raise Refused(RefusalKind.CONFLICT, "command_id", "该指令编号已用于另一条指令")
            return dict(orjson.loads(row[1])), False
        # Every command, closing a 接龙 too: a show's end has already ended its chains.
        require_live(parse_status(facts.session_status(conn, sid)))
        events, answer = apply(conn, now)
        answer["seq"] = append_new(conn, sid, events).last_seq if events else None
        conn.execute(
            "INSERT INTO commands (session_id, command_id, request, response, actor, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                sid,
                command.command_id,
                command.fingerprint(),
                orjson.dumps(answer).decode(),
                command.actor,
                now,
            ],
        )
    return answer, True


# -- the commands ---------------------------------------------------------------------------


def present_product(command: Command, product_id: str | None) -> Apply:
    """讲解中: the product the host presents now (None: none)."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        found = facts.lineup_product(conn, command.session_id, product_id) if product_id else None
        event = rules.present_product(found, product_id, command.actor, now)
        return [event], dict(event.data)

    return apply


def adjust_stock(command: Command, product_id: str, delta: int, reason: str) -> Apply:
    """Add stock (a new batch arrived) or take it back (damaged); never below zero."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        found = facts.lineup_product(conn, command.session_id, product_id)
        left, event = rules.adjust_stock(found, product_id, delta, reason, command.actor, now)
        facts.set_stock(conn, product_id, left)
        return [event], dict(event.data)

    return apply


def post_notice(command: Command, text: str) -> Apply:
    """A notice for the host's screen (公告), e.g. 19:30 抽奖 or 冰杯赠完即止."""

    def apply(_conn: sqlite3.Connection, now: float) -> Applied:
        event = rules.post_notice(text, command.actor, now)
        return [event], dict(event.data)

    return apply


def mark_shoutout(
    command: Command,
    shoutout_id: str,
    waiting: Callable[[sqlite3.Connection], Collection[str]],
    pinned: bool | None = None,
) -> Apply:
    """Acknowledge a shout-out (``pinned`` None) or pin/unpin it; it must be waiting.

    ``waiting(conn)`` gives the ids on the board as of the log's end, read inside the
    transaction so two consoles cannot both acknowledge the same one.
    """

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        event = rules.mark_shoutout(waiting(conn), shoutout_id, pinned, command.actor, now)
        return [event], dict(event.data)

    return apply


def cancel_order(command: Command, order_id: str, reason: str) -> Apply:
    """Cancel a placed order by hand (退单): its stock returns, its chain entry goes."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        order = cancel_by_hand(facts.load_order(conn, command.session_id, order_id), order_id)
        chains = {}
        if order.chain_id:
            chain = facts.load_chain(conn, command.session_id, order.chain_id)
            chains = {chain.id: chain} if chain else {}
        stock = facts.stock_of(conn, [order.product_id])
        cancellation = cancel_orders([order], stock, chains, reason, now)
        facts.save_cancellation(conn, cancellation)
        answer = {"order_id": order_id, "status": OrderStatus.CANCELLED.value, "reason": reason}
        return cancellation.events, answer

    return apply


def start_draw(command: Command, criteria: draws.DrawCriteria) -> Apply:
    """抽奖: draws among the members the log makes eligible now, with a fresh 128-bit seed
    logged beside the winners (``draws.rerun_draw`` recomputes them from the log)."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        seed = secrets.randbits(draws.SEED_BITS)
        log = facts.draw_log(conn, command.session_id)
        event = draws.start_draw(log, criteria, seed, command.actor, now)
        return [event], dict(event.data)

    return apply


def start_flash_sale(command: Command, request: flash.FlashRequest) -> Apply:
    """秒杀 on a product of the lineup, for a while, within units of its stock; its end time
    is ``now`` (the session's clock: a rehearsal's script time) plus its minutes."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        found = facts.lineup_product(conn, command.session_id, request.product_id)
        running = facts.running_flash_sale(conn, command.session_id, request.product_id)
        sale_id = "fs_" + secrets.token_hex(6)
        events = flash.start_flash_sale(found, request, running, sale_id, command.actor, now)
        return events, dict(events[-1].data)

    return apply
