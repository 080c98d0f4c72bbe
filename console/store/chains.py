"""接龙 chains in the store: opened and closed by assistant commands, formed by orders,
ended by their deadline. Every change is an event in the session's log.

Commands carry an id: a repeated command gets the first answer and changes nothing.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

import sqlite_utils

from console.store.commands import Applied, Command, cancel_placed, event, lineup_product, run
from console.store.errors import Refused
from console.store.repository import append_in
from console.store.schema import transaction


def open_chain(
    db: sqlite_utils.Database,
    command: Command,
    product_id: str,
    threshold: int,
    cap: int,
    deadline_s: float,
    gift_first: int,
    gift: str,
) -> tuple[dict[str, Any], bool]:
    """Open a chain on a product of the session's lineup; its deadline is ``deadline_s`` away."""
    sid = command.session_id

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        name, _stock = lineup_product(conn, sid, product_id)
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
            [
                chain_id,
                sid,
                product_id,
                threshold,
                cap,
                deadline,
                gift_first,
                gift,
                command.actor,
                now,
            ],
        )
        data = {
            "chain_id": chain_id,
            "product_id": product_id,
            "product_name": name,
            "threshold": threshold,
            "cap": cap,
            "deadline": deadline,
            "gift_first": gift_first,
            "gift": gift,
            "by": command.actor,
        }
        return [event("chain_opened", data, now)], {**data, "status": "open"}

    return run(db, command, apply)


def close_chain(
    db: sqlite_utils.Database, command: Command, chain_id: str
) -> tuple[dict[str, Any], bool]:
    """Close a chain by hand: a formed one closes; one that has not formed fails."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        row = conn.execute(
            "SELECT status FROM chains WHERE id = ? AND session_id = ?",
            [chain_id, command.session_id],
        ).fetchone()
        if row is None:
            raise Refused(404, "chain_id", f"chain {chain_id!r} not found")
        if row[0] not in ("open", "formed"):
            raise Refused(409, "chain_id", f"chain is already {row[0]}")
        status, events = _end_chain(conn, chain_id, row[0], now, command.actor)
        return events, {"chain_id": chain_id, "status": status}

    return run(db, command, apply, live_only=False)


def _end_chain(
    conn: sqlite3.Connection, chain_id: str, status: str, now: float, actor: str
) -> tuple[str, list[dict[str, Any]]]:
    """Close a formed chain, or fail an open one: cancel its entries, return their stock."""
    events = []
    if status == "formed":
        ended = "closed"
    else:
        ended = "failed"
        entries = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM live_orders WHERE chain_id = ? AND status = 'placed' "
                "ORDER BY created_at",
                [chain_id],
            )
        ]
        events = cancel_placed(conn, entries, "chain_failed", now)
    conn.execute("UPDATE chains SET status = ? WHERE id = ?", [ended, chain_id])
    events.append(event(f"chain_{ended}", {"chain_id": chain_id, "by": actor}, now))
    return ended, events


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
            _, events = _end_chain(conn, chain_id, status, now, "deadline")
            ended.append((sid, append_in(conn, sid, events).last_seq))
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
    return event("chain_formed", {"chain_id": chain_id}, now)
