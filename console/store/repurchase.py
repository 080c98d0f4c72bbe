"""The facts of 30-day repurchase and LTV by circle, loaded for ``console.domain.repurchase``.

SQL here only loads rows: which orders stand, who is a buyer, the window and the averages
are decided by the domain. Live orders are in fen, imported orders in yuan (converted here to
fen, the domain's unit). For LTV an imported order carries its member's circle in the
segmentation run in force at the order's time (the latest run finished by then, from
``segment_runs`` / ``member_scores``), or their circle now when no run had scored them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson

from console.domain.order_status import COUNTED, ImportedStatus
from console.domain.orders import OrderStatus
from console.domain.repurchase import (
    Ltv,
    Purchase,
    Repurchase,
    ltv_by_circle,
    session_repurchase,
)
from console.domain.segments import parse_segment
from console.domain.session_clock import SessionClock
from console.store import repository
from console.store.dialect import json_values

# A live order's circle: the one stamped on its order_placed event (the member's at the time).
# A rehearsal's (彩排) orders are a script's, not purchases: never in anyone's history, except
# a rehearsal's own buyers when it is the session asked about (``?`` is that session or '').
_LIVE = f"""
SELECT o.member_id, o.created_at, o.amount, o.session_id, o.status, e.segment, o.id
FROM live_orders AS o
JOIN sessions AS s ON s.id = o.session_id
LEFT JOIN events AS e ON e.session_id = o.session_id AND e.seq = o.seq
WHERE (coalesce(s.clock, '') <> '{SessionClock.REHEARSAL.value}' OR o.session_id = ?)
"""
_IMPORTED = "SELECT member_id, ts, amount, status, order_id, NULL FROM orders"
# The circle in force at the order's time: the latest finished run by then that scored the
# member; the member's circle now otherwise.
_IMPORTED_IN_CIRCLE = """
SELECT o.member_id, o.ts, o.amount, o.status, o.order_id,
       coalesce(
           (SELECT ms.segment FROM member_scores AS ms
            JOIN segment_runs AS r ON r.id = ms.run_id
            WHERE ms.member_id = o.member_id AND r.finished_at IS NOT NULL
              AND r.finished_at <= o.ts
            ORDER BY r.finished_at DESC, r.id DESC LIMIT 1),
           m.segment)
FROM orders AS o
LEFT JOIN members AS m ON m.id = o.member_id
"""


def _live(row: tuple[Any, ...]) -> Purchase:
    member, ts, amount, session, status, segment, order_id = row
    return Purchase(
        member_id=member,
        ts=float(ts),
        amount=int(amount),
        session_id=session,
        standing=status != OrderStatus.CANCELLED.value,
        circle=parse_segment(segment),
        order_id=str(order_id),
    )


def _fen(yuan: Any) -> int:
    """An imported amount (yuan, stored as REAL) in whole fen, rounded half up from its
    shortest decimal form (59.9 -> 5990; float arithmetic could give 5989.999…)."""
    return int((Decimal(str(yuan)) * 100).to_integral_value(ROUND_HALF_UP))


def _imported(row: tuple[Any, ...]) -> Purchase:
    member, ts, amount, status, order_id, segment = row
    return Purchase(
        member_id=member,
        ts=float(ts),
        amount=_fen(amount),
        standing=ImportedStatus(status) in COUNTED,
        circle=parse_segment(segment),
        order_id=str(order_id),
    )


def load_purchases(db: Any, members: list[str] | None = None, own: str = "") -> list[Purchase]:
    """Every order of ``members`` (all members when None), live and imported; a rehearsal's
    live orders only when it is session ``own``."""
    if members is None:
        live = db.execute(_LIVE, [own]).fetchall()
        imported = db.execute(_IMPORTED).fetchall()
    else:
        listed = orjson.dumps(members).decode()
        live = db.execute(f"{_LIVE} AND o.member_id IN {json_values(db)}", [own, listed]).fetchall()
        imported = db.execute(
            f"{_IMPORTED} WHERE member_id IN {json_values(db)}", [listed]
        ).fetchall()
    return [*map(_live, live), *map(_imported, imported)]


def repurchase_for(db: Any, sid: str, now: float) -> Repurchase:
    """Session ``sid``'s 30-day repurchase at ``now`` (NotFound for an unknown session)."""
    repository.session_created_at(db, sid)  # NotFound for an unknown session
    row = db.execute("SELECT ended_at FROM sessions WHERE id = ?", [sid]).fetchone()
    ended_at = None if row is None or row[0] is None else float(row[0])
    buyers = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT member_id FROM live_orders WHERE session_id = ?", [sid]
        ).fetchall()
    ]
    purchases = load_purchases(db, buyers, own=sid) if buyers else []
    return session_repurchase(sid, purchases, now, ended_at)


def ltv(db: Any) -> Ltv:
    """LTV by circle over the brand's whole history, spend in the circle it was made in."""
    circles = {
        member: parse_segment(segment)
        for member, segment in db.execute("SELECT id, segment FROM members").fetchall()
    }
    live = db.execute(_LIVE, [""]).fetchall()
    imported = db.execute(_IMPORTED_IN_CIRCLE).fetchall()
    return ltv_by_circle([*map(_live, live), *map(_imported, imported)], circles)


def repurchase_json(db: Any, sid: str, now: float) -> dict[str, Any]:
    return repurchase_for(db, sid, now).to_json()


def ltv_json(db: Any) -> dict[str, Any]:
    return ltv(db).to_json()
