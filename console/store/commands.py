"""Floor-assistant commands (场控指令): checked, applied and logged in one transaction.

Every command carries a ``command_id`` chosen by the console. The first time the store sees
it, the command is checked against the live session, applied, and its events appended; the
answer is remembered. The same id again returns that first answer and changes nothing (an
outbox may resend after a lost reply); the same id with a different command is refused.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import orjson
import sqlite_utils

from console.store.errors import Refused
from console.store.repository import append_in, require_live
from console.store.schema import transaction

Applied = tuple[list[dict[str, Any]], dict[str, Any]]
"""What a command did: the events to log, and the answer's fields."""


@dataclass(frozen=True)
class Command:
    """One command: who asked, its id, and the request as the console sent it."""

    session_id: str
    command_id: str
    actor: str
    request: tuple[Any, ...]

    def fingerprint(self) -> str:
        return orjson.dumps(list(self.request)).decode()


def event(
    kind: str, data: dict[str, Any], ts: float, member_id: str | None = None
) -> dict[str, Any]:
    """A store-written event (its id is random: the command id guards against repeats)."""
    raw: dict[str, Any] = {"id": f"{kind}-{secrets.token_hex(8)}", "type": kind, "ts": ts}
    if member_id is not None:
        raw["member_id"] = member_id
    raw["data"] = data
    return raw


def run(
    db: sqlite_utils.Database,
    command: Command,
    apply: Callable[[sqlite3.Connection, float], Applied],
    live_only: bool = True,
) -> tuple[dict[str, Any], bool]:
    """Apply ``command`` once; (answer, True) the first time, (first answer, False) after."""
    now = time.time()
    sid = command.session_id
    with transaction(db) as conn:
        row = conn.execute(
            "SELECT request, response FROM commands WHERE session_id = ? AND command_id = ?",
            [sid, command.command_id],
        ).fetchone()
        if row is not None:
            if row[0] != command.fingerprint():
                raise Refused(409, "command_id", "already used for a different command")
            return dict(orjson.loads(row[1])), False
        if live_only:
            require_live(conn, sid)
        events, answer = apply(conn, now)
        answer["seq"] = append_in(conn, sid, events).last_seq if events else None
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


def lineup_product(conn: sqlite3.Connection, sid: str, product_id: str) -> tuple[str, int]:
    """(name, stock) of a product in the session's lineup; Refused 404 otherwise."""
    row = conn.execute(
        "SELECT p.name, p.stock FROM session_products AS s JOIN products AS p "
        "ON p.id = s.product_id WHERE s.session_id = ? AND s.product_id = ?",
        [sid, product_id],
    ).fetchone()
    if row is None:
        raise Refused(404, "product_id", f"{product_id!r} is not in the lineup")
    return str(row[0]), int(row[1])


def present_product(
    db: sqlite_utils.Database, command: Command, product_id: str | None
) -> tuple[dict[str, Any], bool]:
    """讲解中: the product the host presents now (None: none)."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        data: dict[str, Any] = {"product_id": product_id, "by": command.actor}
        if product_id is not None:
            data["product_name"] = lineup_product(conn, command.session_id, product_id)[0]
        return [event("product_presented", data, now)], dict(data)

    return run(db, command, apply)


def adjust_stock(
    db: sqlite_utils.Database, command: Command, product_id: str, delta: int, reason: str
) -> tuple[dict[str, Any], bool]:
    """Add stock (a new batch arrived) or take it back (damaged); never below zero."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        name, stock = lineup_product(conn, command.session_id, product_id)
        if stock + delta < 0:
            raise Refused(409, "delta", f"only {stock} in stock; cannot take {-delta}")
        left = conn.execute(
            "UPDATE products SET stock = stock + ? WHERE id = ? RETURNING stock",
            [delta, product_id],
        ).fetchone()[0]
        data = {
            "product_id": product_id,
            "product_name": name,
            "delta": delta,
            "stock_left": left,
            "reason": reason,
            "by": command.actor,
        }
        return [event("stock_adjusted", data, now)], dict(data)

    return run(db, command, apply)


def post_notice(
    db: sqlite_utils.Database, command: Command, text: str
) -> tuple[dict[str, Any], bool]:
    """A notice for the host's screen (公告), e.g. 19:30 抽奖 or 冰杯赠完即止."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        data = {"text": text, "by": command.actor}
        return [event("notice_posted", data, now)], dict(data)

    return run(db, command, apply)


def mark_shoutout(
    db: sqlite_utils.Database,
    command: Command,
    shoutout_id: str,
    waiting: Callable[[sqlite3.Connection], Collection[str]],
    pinned: bool | None = None,
) -> tuple[dict[str, Any], bool]:
    """Acknowledge a shout-out (``pinned`` None) or pin/unpin it; it must be waiting.

    ``waiting(conn)`` gives the ids on the board as of the log's end, read inside the
    transaction so two consoles cannot both acknowledge the same one.
    """

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        if shoutout_id not in waiting(conn):
            raise Refused(409, "shoutout_id", f"{shoutout_id!r} is not waiting (acknowledged?)")
        data: dict[str, Any] = {"shoutout_id": shoutout_id, "by": command.actor}
        if pinned is None:
            return [event("shoutout_acknowledged", data, now)], dict(data)
        data["pinned"] = pinned
        return [event("shoutout_pinned", data, now)], dict(data)

    return run(db, command, apply)


def cancel_order(
    db: sqlite_utils.Database, command: Command, order_id: str, reason: str
) -> tuple[dict[str, Any], bool]:
    """Cancel a placed order by hand (退单): its stock returns, its chain entry goes."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        row = conn.execute(
            "SELECT status FROM live_orders WHERE id = ? AND session_id = ?",
            [order_id, command.session_id],
        ).fetchone()
        if row is None:
            raise Refused(404, "order_id", f"order {order_id!r} not found in this session")
        if row[0] != "placed":
            raise Refused(409, "order_id", f"order is already {row[0]}")
        cancelled = cancel_placed(conn, [order_id], reason, now)
        return cancelled, {"order_id": order_id, "status": "cancelled", "reason": reason}

    return run(db, command, apply)


def cancel_placed(
    conn: sqlite3.Connection, order_ids: Collection[str], reason: str, now: float
) -> list[dict[str, Any]]:
    """Cancel placed orders: status, stock back, chain entries down; their events."""
    events = []
    for order_id in order_ids:
        order = conn.execute(
            "UPDATE live_orders SET status = 'cancelled' WHERE id = ? AND status = 'placed' "
            "RETURNING member_id, product_id, quantity, amount, pickup_point, chain_id",
            [order_id],
        ).fetchone()
        if order is None:
            continue
        member, product, quantity, amount, point, chain_id = order
        left = conn.execute(
            "UPDATE products SET stock = stock + ? WHERE id = ? RETURNING stock",
            [quantity, product],
        ).fetchone()[0]
        if chain_id:
            conn.execute("UPDATE chains SET entries = max(0, entries - 1) WHERE id = ?", [chain_id])
        data = {
            "order_id": order_id,
            "product_id": product,
            "quantity": quantity,
            "amount": amount,
            "chain_id": chain_id,
            "pickup_point": point,
            "stock_left": left,
            "reason": reason,
        }
        events.append(event("order_cancelled", data, now, member_id=member))
    return events
