"""Loading the facts the domain's decisions need, and persisting what they decided.

SQL stays here and in the modules that call these: reads of rows into the domain's
dataclasses, and writes of the projections (stock, chains, order status) a decision
changed. No rule lives here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

from console.domain import session_clock as rules_clock
from console.domain.chains import ACTIVE_CHAIN_STATUSES, Chain, ChainStatus
from console.domain.commands import LineupProduct
from console.domain.comment_chain import OpenChain
from console.domain.draws import READ_TYPES
from console.domain.events import Event
from console.domain.flash import FlashSale
from console.domain.orders import Cancellation, OrderStatus, StandingOrder
from console.domain.session_clock import SessionClock, parse_clock
from console.domain.sessions import SessionStatus
from console.store.repository import EVENT_COLUMNS, event_of

_CHAIN_COLUMNS = "id, product_id, threshold, cap, deadline, gift_first, gift, status, entries"
_ORDER_COLUMNS = "id, member_id, product_id, quantity, amount, pickup_point, chain_id, status"
ACTIVE = tuple(s.value for s in ACTIVE_CHAIN_STATUSES)
_ACTIVE_IN = f"status IN ({', '.join('?' * len(ACTIVE))})"
# Deadlines are kept in live sessions only (a show's end ends its chains; an older store may
# hold a chain left open in an ended session, and its log must not grow).
_IN_LIVE_SESSION = "session_id IN (SELECT id FROM sessions WHERE status = ?)"
_LIVE = SessionStatus.LIVE.value
CHAIN_BY_ID = f"SELECT {_CHAIN_COLUMNS} FROM chains WHERE id = ? AND session_id = ?"
FLASH_STARTED = (
    "SELECT data FROM events WHERE session_id = ? AND type = 'flash_sale_started' "
    "AND data ->> 'product_id' = ? ORDER BY seq DESC LIMIT 1"
)


def _chain(row: tuple[Any, ...]) -> Chain:
    cid, product, threshold, cap, deadline, gift_first, gift, status, entries = row
    return Chain(
        cid, product, threshold, cap, deadline, gift_first, gift, ChainStatus(status), entries
    )


def load_chain(conn: sqlite3.Connection, sid: str, chain_id: str) -> Chain | None:
    row = conn.execute(CHAIN_BY_ID, [chain_id, sid]).fetchone()
    return None if row is None else _chain(row)


def active_chain_on(conn: sqlite3.Connection, sid: str, product_id: str) -> bool:
    return (
        conn.execute(
            f"SELECT 1 FROM chains WHERE session_id = ? AND product_id = ? AND {_ACTIVE_IN}",
            [sid, product_id, *ACTIVE],
        ).fetchone()
        is not None
    )


_ON_WALL_CLOCK = "session_id IN (SELECT id FROM sessions WHERE clock = 'wall')"


def due_chains(conn: sqlite3.Connection, now: float) -> list[tuple[str, Chain]]:
    """(session, chain) of every chain still taking entries whose deadline has come, in the
    sessions on the wall clock (a rehearsal's chains end on its own clock, ``rehearsal``)."""
    return [
        (str(row[0]), _chain(row[1:]))
        for row in conn.execute(
            f"SELECT session_id, {_CHAIN_COLUMNS} FROM chains WHERE {_ACTIVE_IN} "
            f"AND deadline <= ? AND {_IN_LIVE_SESSION} AND {_ON_WALL_CLOCK} "
            "ORDER BY deadline",
            [*ACTIVE, now, _LIVE],
        )
    ]


def active_chains(conn: sqlite3.Connection, sid: str) -> list[Chain]:
    """The session's chains still taking entries (open or formed), oldest first."""
    return [
        _chain(row)
        for row in conn.execute(
            f"SELECT {_CHAIN_COLUMNS} FROM chains WHERE session_id = ? AND {_ACTIVE_IN} "
            "ORDER BY opened_at, id",
            [sid, *ACTIVE],
        )
    ]


def any_chain_due(conn: sqlite3.Connection, now: float) -> bool:
    row = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM chains WHERE {_ACTIVE_IN} AND deadline <= ? "
        f"AND {_IN_LIVE_SESSION} AND {_ON_WALL_CLOCK})",
        [*ACTIVE, now, _LIVE],
    ).fetchone()
    return bool(row[0])


def next_chain_due(conn: sqlite3.Connection, sid: str) -> Chain | None:
    """The session's chain still taking entries with the nearest deadline."""
    return min(active_chains(conn, sid), key=lambda c: (c.deadline, c.id), default=None)


def session_clock(conn: sqlite3.Connection, sid: str) -> SessionClock:
    row = conn.execute("SELECT clock FROM sessions WHERE id = ?", [sid]).fetchone()
    return parse_clock(row[0] if row else None)


def session_now(conn: sqlite3.Connection, sid: str, wall_now: float) -> float:
    """The session's "now" (``console.domain.session_clock``): the wall's, or a rehearsal's
    script time, read from its newest event."""
    row = conn.execute(
        "SELECT clock, started_at, (SELECT ts FROM events WHERE session_id = s.id "
        "ORDER BY seq DESC LIMIT 1) FROM sessions AS s WHERE id = ?",
        [sid],
    ).fetchone()
    if row is None:
        return wall_now
    return rules_clock.session_now(parse_clock(row[0]), wall_now, row[2], row[1])


def insert_chain(
    conn: sqlite3.Connection,
    sid: str,
    chain: Chain,
    actor: str,
    now: float,
    comment_pattern: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO chains (id, session_id, product_id, threshold, cap, deadline, "
        "gift_first, gift, status, entries, opened_by, opened_at, comment_pattern) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            chain.id,
            sid,
            chain.product_id,
            chain.threshold,
            chain.cap,
            chain.deadline,
            chain.gift_first,
            chain.gift,
            chain.status.value,
            chain.entries,
            actor,
            now,
            comment_pattern,
        ],
    )


def open_chains_for_comments(conn: sqlite3.Connection, sid: str) -> list[OpenChain]:
    """The session's chains taking entries, with when they opened and their comment pattern."""
    return [
        OpenChain(_chain(row[:9]), float(row[9]), row[10])
        for row in conn.execute(
            f"SELECT {_CHAIN_COLUMNS}, opened_at, comment_pattern FROM chains "
            f"WHERE session_id = ? AND {_ACTIVE_IN} ORDER BY opened_at, id",
            [sid, *ACTIVE],
        )
    ]


def presenting(conn: sqlite3.Connection, sid: str) -> str | None:
    """The product being presented (讲解中), as the session's newest presentation says."""
    row = conn.execute(
        "SELECT data ->> 'product_id' FROM events "
        "WHERE session_id = ? AND type = 'product_presented' ORDER BY seq DESC LIMIT 1",
        [sid],
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def save_chain(conn: sqlite3.Connection, chain: Chain) -> None:
    conn.execute(
        "UPDATE chains SET status = ?, entries = ? WHERE id = ?",
        [chain.status.value, chain.entries, chain.id],
    )


def set_stock(conn: sqlite3.Connection, product_id: str, stock: int) -> None:
    conn.execute("UPDATE products SET stock = ? WHERE id = ?", [stock, product_id])


def stock_of(conn: sqlite3.Connection, product_ids: Iterable[str]) -> dict[str, int]:
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = conn.execute(
        f"SELECT id, stock FROM products WHERE id IN ({', '.join('?' * len(ids))})", ids
    )
    return {str(pid): int(stock) for pid, stock in rows}


def lineup_product(conn: sqlite3.Connection, sid: str, product_id: str) -> LineupProduct | None:
    row = conn.execute(
        "SELECT p.id, p.name, p.stock FROM session_products AS s JOIN products AS p "
        "ON p.id = s.product_id WHERE s.session_id = ? AND s.product_id = ?",
        [sid, product_id],
    ).fetchone()
    return None if row is None else LineupProduct(str(row[0]), str(row[1]), int(row[2]))


def _standing(row: tuple[Any, ...]) -> StandingOrder:
    oid, member, product, quantity, amount, point, chain_id, status = row
    return StandingOrder(
        oid, member, product, quantity, amount, point, chain_id or None, OrderStatus(status)
    )


def load_order(conn: sqlite3.Connection, sid: str, order_id: str) -> StandingOrder | None:
    row = conn.execute(
        f"SELECT {_ORDER_COLUMNS} FROM live_orders WHERE id = ? AND session_id = ?",
        [order_id, sid],
    ).fetchone()
    return None if row is None else _standing(row)


def chain_entries(conn: sqlite3.Connection, chain_id: str) -> list[StandingOrder]:
    """A chain's standing entries, oldest first."""
    return [
        _standing(row)
        for row in conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM live_orders WHERE chain_id = ? AND status = ? "
            "ORDER BY created_at, seq",
            [chain_id, OrderStatus.PLACED.value],
        )
    ]


def mark_cancelled(conn: sqlite3.Connection, order_ids: Iterable[str]) -> None:
    conn.executemany(
        "UPDATE live_orders SET status = ? WHERE id = ?",
        [(OrderStatus.CANCELLED.value, oid) for oid in order_ids],
    )


def session_status(conn: sqlite3.Connection, sid: str) -> str | None:
    row = conn.execute("SELECT status FROM sessions WHERE id = ?", [sid]).fetchone()
    return None if row is None else str(row[0])


def save_cancellation(conn: sqlite3.Connection, cancellation: Cancellation) -> None:
    """Persist what ``orders.cancel_orders`` decided: statuses, stock, chain entries."""
    mark_cancelled(conn, cancellation.order_ids)
    for product_id, stock in cancellation.stock.items():
        set_stock(conn, product_id, stock)
    for chain in cancellation.chains.values():
        save_chain(conn, chain)


def draw_log(conn: sqlite3.Connection, sid: str) -> list[Event]:
    """The session's events a draw's eligibility reads (``draws.READ_TYPES``), in order."""
    types = sorted(t.value for t in READ_TYPES)
    return [
        event_of(r)
        for r in conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM events "
            f"WHERE session_id = ? AND type IN ({', '.join('?' * len(types))}) "
            "AND member_id IS NOT NULL ORDER BY seq",
            [sid, *types],
        )
    ]


# -- 秒杀 (console.domain.flash), read from the log: no table of their own ----------------


def running_flash_sale(conn: sqlite3.Connection, sid: str, product_id: str) -> FlashSale | None:
    """The product's newest flash sale not yet logged as ended, with its units taken."""
    row = conn.execute(FLASH_STARTED, [sid, product_id]).fetchone()
    if row is None:
        return None
    data = orjson.loads(row[0])
    sale_id = str(data.get("sale_id", ""))
    ended = conn.execute(
        "SELECT 1 FROM events WHERE session_id = ? AND type = 'flash_sale_ended' "
        "AND data ->> 'sale_id' = ?",
        [sid, sale_id],
    ).fetchone()
    if ended is not None:
        return None
    return FlashSale.from_data(data, flash_taken(conn, sid, sale_id))


def flash_sales_on_the_wall(
    conn: sqlite3.Connection,
) -> tuple[list[tuple[str, FlashSale]], set[str]]:
    """Every flash sale logged in the live sessions on the wall clock, (session, sale), and
    the ids of those logged as ended (a rehearsal's sales end on its script's clock,
    ``rehearsal.ingest``)."""
    started: list[tuple[str, FlashSale]] = []
    ended: set[str] = set()
    for sid, kind, data in conn.execute(
        "SELECT session_id, type, data FROM events WHERE "
        f"{_IN_LIVE_SESSION} AND {_ON_WALL_CLOCK} "
        "AND type IN ('flash_sale_started', 'flash_sale_ended') ORDER BY session_id, seq",
        [_LIVE],
    ):
        sale = orjson.loads(data)
        if kind == "flash_sale_ended":
            ended.add(str(sale.get("sale_id", "")))
        else:
            started.append((str(sid), FlashSale.from_data(sale)))
    return started, ended


def flash_sales_of(conn: sqlite3.Connection, sid: str) -> tuple[list[FlashSale], set[str]]:
    """One session's flash sales as its log has them, and the ids of those logged as ended."""
    started: list[FlashSale] = []
    ended: set[str] = set()
    for kind, data in conn.execute(
        "SELECT type, data FROM events WHERE session_id = ? "
        "AND type IN ('flash_sale_started', 'flash_sale_ended') ORDER BY seq",
        [sid],
    ):
        sale = orjson.loads(data)
        if kind == "flash_sale_ended":
            ended.add(str(sale.get("sale_id", "")))
        else:
            started.append(FlashSale.from_data(sale))
    return started, ended


def flash_taken(conn: sqlite3.Connection, sid: str, sale_id: str, member_id: str = "") -> int:
    """Units a sale's orders took (a member's when given; a cancelled order's stay taken)."""
    member = "AND member_id = ? " if member_id else ""
    return int(
        conn.execute(
            "SELECT coalesce(sum(CAST(data ->> 'quantity' AS INTEGER)), 0) FROM events "
            "WHERE session_id = ? AND type = 'order_placed' "
            f"AND data ->> 'flash_sale_id' = ? {member}",
            [sid, sale_id, *([member_id] if member_id else [])],
        ).fetchone()[0]
    )
