"""接龙 chains in the store: opened and closed by assistant commands, formed by orders
(``orders``), ended at their deadline. The rules are ``console.domain.chains``; this module
loads a chain's facts and persists what the rules decided. Every change is an event.
"""

from __future__ import annotations

import secrets
import sqlite3

import sqlite_utils

from console.domain import chains as rules
from console.domain.chains import Chain
from console.domain.commands import in_lineup
from console.domain.comment_chain import check_pattern
from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.orders import cancel_orders
from console.store import facts
from console.store.commands import Applied, Apply, Command
from console.store.repository import append_new
from console.store.schema import transaction


def open_chain(
    command: Command,
    product_id: str,
    threshold: int,
    cap: int,
    deadline_s: float,
    gift_first: int,
    gift: str,
    comment_pattern: str | None = None,
) -> Apply:
    """Open a chain on a product of the session's lineup; its deadline is ``deadline_s`` away."""
    sid = command.session_id

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        product = in_lineup(facts.lineup_product(conn, sid, product_id), product_id)
        chain, event = rules.open_chain(
            "c_" + secrets.token_hex(4),
            product.id,
            product.name,
            threshold,
            cap,
            deadline_s,
            gift_first,
            gift,
            facts.active_chain_on(conn, sid, product.id),
            command.actor,
            now,
            check_pattern(comment_pattern),
        )
        facts.insert_chain(conn, sid, chain, command.actor, now, event.data.get("comment_pattern"))
        return [event], {**event.data, "status": chain.status.value}

    return apply


def close_chain(command: Command, chain_id: str) -> Apply:
    """Close a chain by hand: a formed one closes; one that has not formed fails."""

    def apply(conn: sqlite3.Connection, now: float) -> Applied:
        chain = facts.load_chain(conn, command.session_id, chain_id)
        if chain is None:
            raise Refused(RefusalKind.NOT_FOUND, "chain_id", f"接龙 {chain_id!r} 不存在")
        ended, events = end(conn, chain, command.actor, now)
        return events, {"chain_id": chain_id, "status": ended.status.value}

    return apply


def end(
    conn: sqlite3.Connection, chain: Chain, actor: str, now: float
) -> tuple[Chain, list[NewEvent]]:
    """End a chain: a formed one closes; an open one fails, its entries cancelled and their
    stock returned. Persists the chain, the orders and the stock; returns the events."""
    ended, event = rules.end_chain(chain, actor, now)
    events = []
    if ended.status is rules.ChainStatus.FAILED:
        entries = facts.chain_entries(conn, chain.id)
        stock = facts.stock_of(conn, [o.product_id for o in entries])
        cancellation = cancel_orders(entries, stock, {chain.id: ended}, "chain_failed", now)
        facts.save_cancellation(conn, cancellation)
        ended = cancellation.chains[chain.id]
        events = cancellation.events
    facts.save_chain(conn, ended)
    return ended, [*events, event]


def any_due(db: sqlite_utils.Database, now: float) -> bool:
    """Whether some chain has reached its deadline (a read, so the check costs no lock)."""
    return facts.any_chain_due(db.conn, now)


def end_due_chains(db: sqlite_utils.Database, now: float) -> list[tuple[str, int]]:
    """End every chain whose deadline has passed; (session, last seq) for each one ended."""
    ended: list[tuple[str, int]] = []
    with transaction(db) as conn:
        for sid, chain in facts.due_chains(conn, now):
            _, events = end(conn, chain, "deadline", now)
            ended.append((sid, append_new(conn, sid, events).last_seq))
    return ended
