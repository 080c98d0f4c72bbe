"""接龙 chains in the store: opened and closed by assistant commands, formed by orders,
ended by their deadline. Every change is an event in the session's log.

Commands carry an id: a repeated command gets the first answer and changes nothing.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

import orjson
import sqlite_utils

from console.store.errors import Refused
from console.store.repository import append_in, require_live
from console.store.schema import transaction

MAX_DEADLINE_S = 24 * 3600.0


def _replay(
    conn: sqlite3.Connection, sid: str, command_id: str, request: str
) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT request, response FROM commands WHERE session_id = ? AND command_id = ?",
        [sid, command_id],
    ).fetchone()
    if row is None:
        return None
    if row[0] != request:
        raise Refused(409, "command_id", "already used for a different command")
    return dict(orjson.loads(row[1]))


def _remember(
    conn: sqlite3.Connection,
    sid: str,
    command_id: str,
    request: str,
    response: dict[str, Any],
    actor: str,
) -> None:
    conn.execute(
        "INSERT INTO commands (session_id, command_id, request, response, actor, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [sid, command_id, request, orjson.dumps(response).decode(), actor, time.time()],
    )


def _event(kind: str, data: dict[str, Any], ts: float) -> dict[str, Any]:
    return {"id": f"{kind}-{secrets.token_hex(8)}", "type": kind, "ts": ts, "data": data}


def open_chain(
    db: sqlite_utils.Database,
    sid: str,
    command_id: str,
    product_id: str,
    threshold: int,
    cap: int,
    deadline_s: float,
    gift_first: int,
    gift: str,
    actor: str,
) -> tuple[dict[str, Any], bool]:
    """Open a chain on a product of the session's lineup; its deadline is ``deadline_s`` away."""
    request = orjson.dumps(
        ["open", product_id, threshold, cap, deadline_s, gift_first, gift]
    ).decode()
    now = time.time()
    with transaction(db) as conn:
        if (replay := _replay(conn, sid, command_id, request)) is not None:
            return replay, False
        require_live(conn, sid)
        if (
            conn.execute(
                "SELECT 1 FROM session_products WHERE session_id = ? AND product_id = ?",
                [sid, product_id],
            ).fetchone()
            is None
        ):
            raise Refused(404, "product_id", f"{product_id!r} is not in the lineup")
        if cap < threshold:
            raise Refused(422, "cap", f"cap {cap} is below the threshold {threshold}")
        if conn.execute(
            "SELECT 1 FROM chains WHERE session_id = ? AND product_id = ? AND "
            "status IN ('open', 'formed')",
            [sid, product_id],
        ).fetchone():
            raise Refused(409, "product_id", "a chain on this product is already open")
        chain_id = "c_" + secrets.token_hex(4)
        deadline = now + deadline_s
        conn.execute(
            "INSERT INTO chains (id, session_id, product_id, threshold, cap, deadline, "
            "gift_first, gift, opened_by, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [chain_id, sid, product_id, threshold, cap, deadline, gift_first, gift, actor, now],
        )
        data = {
            "chain_id": chain_id,
            "product_id": product_id,
            "threshold": threshold,
            "cap": cap,
            "deadline": deadline,
            "gift_first": gift_first,
            "gift": gift,
            "by": actor,
        }
        seq = append_in(conn, sid, [_event("chain_opened", data, now)]).last_seq
        response = {**data, "status": "open", "seq": seq}
        _remember(conn, sid, command_id, request, response, actor)
    return response, True


def close_chain(
    db: sqlite_utils.Database, sid: str, chain_id: str, command_id: str, actor: str
) -> tuple[dict[str, Any], bool]:
    """Close a chain by hand: a formed one closes; one that has not formed fails."""
    request = orjson.dumps(["close", chain_id]).decode()
    with transaction(db) as conn:
        if (replay := _replay(conn, sid, command_id, request)) is not None:
            return replay, False
        row = conn.execute(
            "SELECT status FROM chains WHERE id = ? AND session_id = ?", [chain_id, sid]
        ).fetchone()
        if row is None:
            raise Refused(404, "chain_id", f"chain {chain_id!r} not found")
        if row[0] not in ("open", "formed"):
            raise Refused(409, "chain_id", f"chain is already {row[0]}")
        status, seq = _end_chain(conn, sid, chain_id, row[0], time.time(), actor)
        response = {"chain_id": chain_id, "status": status, "seq": seq}
        _remember(conn, sid, command_id, request, response, actor)
    return response, True


def _end_chain(
    conn: sqlite3.Connection, sid: str, chain_id: str, status: str, now: float, actor: str
) -> tuple[str, int]:
    """Close a formed chain, or fail an open one: cancel its entries, return their stock."""
    events = []
    if status == "formed":
        ended = "closed"
    else:
        ended = "failed"
        entries = conn.execute(
            "UPDATE live_orders SET status = 'cancelled' WHERE chain_id = ? AND status = 'placed' "
            "RETURNING id, member_id, product_id, quantity, amount, pickup_point",
            [chain_id],
        ).fetchall()
        for order_id, member, product, quantity, amount, point in entries:
            left = conn.execute(
                "UPDATE products SET stock = stock + ? WHERE id = ? RETURNING stock",
                [quantity, product],
            ).fetchone()[0]
            events.append(
                {
                    **_event(
                        "order_cancelled",
                        {
                            "order_id": order_id,
                            "product_id": product,
                            "quantity": quantity,
                            "amount": amount,
                            "chain_id": chain_id,
                            "pickup_point": point,
                            "stock_left": left,
                            "reason": "chain_failed",
                        },
                        now,
                    ),
                    "member_id": member,
                }
            )
    conn.execute("UPDATE chains SET status = ? WHERE id = ?", [ended, chain_id])
    events.append(_event(f"chain_{ended}", {"chain_id": chain_id, "by": actor}, now))
    return ended, append_in(conn, sid, events).last_seq


def any_due(db: sqlite_utils.Database, now: float | None = None) -> bool:
    """Whether some chain has reached its deadline (a read, so the check costs no lock)."""
    now = time.time() if now is None else now
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM chains WHERE status IN ('open', 'formed') AND deadline <= ?)",
        [now],
    ).fetchone()
    return bool(row[0])


def end_due_chains(db: sqlite_utils.Database, now: float | None = None) -> list[tuple[str, int]]:
    """End every chain whose deadline has passed; (session, last seq) for each one ended."""
    now = time.time() if now is None else now
    ended = []
    with transaction(db) as conn:
        due = conn.execute(
            "SELECT id, session_id, status FROM chains WHERE status IN ('open', 'formed') "
            "AND deadline <= ? ORDER BY deadline",
            [now],
        ).fetchall()
        for chain_id, sid, status in due:
            _, seq = _end_chain(conn, sid, chain_id, status, now, "deadline")
            ended.append((sid, seq))
    return ended


def join_chain(
    conn: sqlite3.Connection, sid: str, chain_id: str, product_id: str
) -> tuple[int, int, str]:
    """Check a chain takes an order for ``product_id``; returns (entry rank, threshold, gift)."""
    row = conn.execute(
        "SELECT product_id, status, entries, cap, threshold, gift_first, gift FROM chains "
        "WHERE id = ? AND session_id = ?",
        [chain_id, sid],
    ).fetchone()
    if row is None:
        raise Refused(404, "chain_id", f"chain {chain_id!r} not found")
    product, status, entries, cap, threshold, gift_first, gift = row
    if product != product_id:
        raise Refused(422, "chain_id", f"that chain is for {product}, not {product_id}")
    if status not in ("open", "formed"):
        raise Refused(409, "chain_id", f"chain is {status}")
    if entries >= cap:
        raise Refused(409, "chain_id", f"chain is full ({cap} entries)")
    rank = entries + 1
    conn.execute("UPDATE chains SET entries = ? WHERE id = ?", [rank, chain_id])
    return rank, threshold, gift if rank <= gift_first else ""


def formed_now(conn: sqlite3.Connection, sid: str, chain_id: str, now: float) -> dict[str, Any]:
    """Mark a chain formed (成团) and return its event."""
    conn.execute("UPDATE chains SET status = 'formed' WHERE id = ? AND status = 'open'", [chain_id])
    return _event("chain_formed", {"chain_id": chain_id}, now)
