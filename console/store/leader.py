"""The 团长's page in the store: one pickup point's orders, new neighbours, tasks and 接龙.

Every read and write here takes the point from the caller's token, never from the request:
another point's order, task or neighbour is "not found" to them. What the page shows is
decided in ``console.domain.leader``; SQL here only loads and writes.
"""

from __future__ import annotations

import time
from typing import Any

from console.domain import leader as page
from console.domain.decisions import RefusalKind, Refused
from console.domain.followups import CompleteRequest
from console.domain.orders import OrderStatus
from console.domain.sessions import SessionStatus
from console.store import followups
from console.store.dialect import json_is_true
from console.store.schema import transaction
from console.store.segmentation import audit

CANCELLED = OrderStatus.CANCELLED.value
HIDDEN = page.HIDDEN_CLOCK.value  # a rehearsal's orders, neighbours and chains: not listed
SHOWN = "coalesce(s.clock, '') <> ?"  # unknown clocks are the wall's (parse_clock)


def point_of(db: Any, point: str) -> dict[str, str]:
    row = db.execute("SELECT id, name, leader, address FROM pickup_points WHERE id = ?", [point])
    found = row.fetchone()
    if found is None:
        raise Refused(RefusalKind.NOT_FOUND, "point", f"没有这个自提点：{point!r}")
    return {"id": found[0], "name": found[1], "leader": found[2] or "", "address": found[3] or ""}


def pickup_orders(db: Any, point: str, now: float) -> list[dict[str, Any]]:
    """The point's orders the page lists (``page.listed``), each with its ``state``."""
    rows = db.execute(
        f"""
        SELECT o.id, o.session_id, s.title, m.nick, o.product_id, p.name, o.quantity,
               o.amount, o.created_at, k.picked_at, coalesce(s.started_at, o.created_at),
               c.status
        FROM live_orders AS o
        JOIN sessions AS s ON s.id = o.session_id
        LEFT JOIN members AS m ON m.id = o.member_id
        LEFT JOIN products AS p ON p.id = o.product_id
        LEFT JOIN pickups AS k ON k.order_id = o.id
        LEFT JOIN chains AS c ON c.id = o.chain_id
        WHERE o.pickup_point = ? AND o.status != ? AND (o.created_at >= ? OR k.picked_at >= ?)
          AND {SHOWN}
        ORDER BY o.created_at, o.id
        """,
        [point, CANCELLED, page.orders_since(now), page.day_start(now), HIDDEN],
    ).fetchall()
    orders = []
    for r in rows:
        picked = None if r[9] is None else float(r[9])
        if not page.listed(float(r[10]), picked, now):
            continue
        state = page.pickup_state(picked, r[11])
        orders.append(
            {
                "id": r[0],
                "session_id": r[1],
                "session_title": r[2],
                "nick": r[3] or "",
                "product_id": r[4],
                "product": r[5] or r[4],
                "quantity": int(r[6]),
                "amount": int(r[7]) / 100,
                "created_at": float(r[8]),
                "picked_up_at": picked,
                "state": state.value,
                "state_label": page.PICKUP_LABELS[state],
            }
        )
    return orders


def _neighbour_rows(db: Any, point: str, since: float, member: str | None = None) -> list[Any]:
    only = " AND o.member_id = ?" if member is not None else ""
    return list(
        db.execute(
            f"""
            SELECT o.member_id, m.nick, m.phone, min(o.created_at)
            FROM live_orders AS o
            JOIN events AS e ON e.session_id = o.session_id AND e.seq = o.seq
            JOIN sessions AS s ON s.id = o.session_id
            LEFT JOIN members AS m ON m.id = o.member_id
            WHERE o.pickup_point = ? AND o.status != ? AND o.created_at >= ?
              AND {json_is_true(db, "e.data", "new_customer")} AND {SHOWN}{only}
            GROUP BY o.member_id, m.nick, m.phone
            ORDER BY min(o.created_at), o.member_id
            """,
            [point, CANCELLED, since, HIDDEN, *([member] if member is not None else [])],
        ).fetchall()
    )


def new_neighbours(db: Any, point: str, now: float) -> list[dict[str, Any]]:
    """The point's new neighbours of the last days, masked (nick and phone)."""
    return [
        {
            "member_id": member,
            "nick": nick or "",
            "phone_masked": page.mask_phone(phone or ""),
            "has_phone": bool(phone),
            "since": float(first),
        }
        for member, nick, phone, first in _neighbour_rows(db, point, page.neighbours_since(now))
    ]


def live_chains(db: Any, point: str) -> list[dict[str, Any]]:
    """The 接龙 of live shows with a standing order at ``point`` (``page.shows_chains_of``)."""
    rows = db.execute(
        f"""
        SELECT c.id, c.session_id, s.title, p.name, c.threshold, c.cap, c.entries, c.status,
               c.deadline,
               (SELECT count(*) FROM live_orders AS o
                WHERE o.chain_id = c.id AND o.pickup_point = ? AND o.status != ?),
               (SELECT count(*) FROM live_orders AS o
                WHERE o.session_id = c.session_id AND o.pickup_point = ? AND o.status != ?)
        FROM chains AS c
        JOIN sessions AS s ON s.id = c.session_id
        LEFT JOIN products AS p ON p.id = c.product_id
        WHERE s.status = ? AND {SHOWN}
        ORDER BY c.opened_at, c.id
        """,
        [point, CANCELLED, point, CANCELLED, SessionStatus.LIVE.value, HIDDEN],
    ).fetchall()
    rows = [r for r in rows if page.shows_chains_of(int(r[10]))]
    return [
        {
            "id": r[0],
            "session_id": r[1],
            "session_title": r[2],
            "product": r[3] or "",
            "threshold": int(r[4]),
            "cap": int(r[5]),
            "entries": int(r[6]),
            "status": r[7],
            "deadline": float(r[8]),
            "needed": page.still_needed(int(r[4]), int(r[6])),
            "here": int(r[9]),
        }
        for r in rows
    ]


def leader_today(db: Any, point: str, now: float) -> dict[str, Any]:
    """Everything the page shows, for ``point`` only."""
    orders = pickup_orders(db, point, now)
    return {
        "point": point_of(db, point),
        "now": now,
        "orders": orders,
        "pickups": page.pickup_summary(orders),
        "neighbours": new_neighbours(db, point, now),
        "tasks": followups.list_tasks(db, None, point, now),
        "chains": live_chains(db, point),
    }


def pick_up(db: Any, point: str, order_id: str, by: str, now: float) -> dict[str, Any]:
    """Check off an order handed out at ``point`` (idempotent: the first check-off stands)."""
    with transaction(db) as conn:
        row = conn.execute(
            "SELECT o.session_id, c.status, coalesce(s.started_at, o.created_at), k.picked_at "
            "FROM live_orders AS o JOIN sessions AS s ON s.id = o.session_id "
            "LEFT JOIN chains AS c ON c.id = o.chain_id "
            "LEFT JOIN pickups AS k ON k.order_id = o.id "
            f"WHERE o.id = ? AND o.pickup_point = ? AND o.status != ? AND {SHOWN}",
            [order_id, point, CANCELLED, HIDDEN],
        ).fetchone()
        # Only what the page lists can be checked off (not a rehearsal's, not an old one).
        if row is None or not page.listed(float(row[2]), row[3], now):
            raise Refused(
                RefusalKind.NOT_FOUND, "order_id", f"本自提点没有这个订单：{order_id[:40]!r}"
            )
        if conn.execute("SELECT 1 FROM pickups WHERE order_id = ?", [order_id]).fetchone() is None:
            page.check_pickable(order_id, row[1])
        conn.execute(
            "INSERT INTO pickups (order_id, session_id, point_id, picked_by, picked_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
            [order_id, row[0], point, by, now],
        )
        picked = conn.execute(
            "SELECT picked_by, picked_at FROM pickups WHERE order_id = ?", [order_id]
        ).fetchone()
    return {"order_id": order_id, "picked_by": picked[0], "picked_up_at": float(picked[1])}


def complete(db: Any, point: str, task_id: str, by: str, now: float) -> dict[str, Any]:
    return followups.complete_task(db, task_id, CompleteRequest(by=by, leader_point=point), now)


def reveal_phone(
    db: Any, point: str, member_id: str, by: str, now: float | None = None
) -> dict[str, Any]:
    """One new neighbour's phone for their 团长, recorded in the audit log (who, when, which
    point); only a neighbour the page lists (the last ``NEIGHBOUR_DAYS`` days,
    ``page.neighbours_since``): an older or another point's member is not found."""
    now = time.time() if now is None else now
    with transaction(db) as conn:
        rows = _neighbour_rows(conn, point, page.neighbours_since(now), member_id)
        if not rows:
            raise Refused(RefusalKind.NOT_FOUND, "member_id", "本自提点没有这位新邻居")
        _member, nick, phone, _first = rows[0]
        audit(conn, now, by, "reveal_phone", member_id, {"point": point, "via": "leader_page"})
    return {"member_id": member_id, "nick": nick or "", "phone": phone or ""}
