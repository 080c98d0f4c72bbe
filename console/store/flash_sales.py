"""秒杀 ending on their timer in the store: a sale whose time is over ends even when nobody
orders (``schedule.run_chain_deadlines``). The rule is ``console.domain.flash.due_sales``; the sales
are read from the log (``facts.flash_sales_on_the_wall``), like chains' deadlines only in the
live sessions on the wall clock (a rehearsal's sales end on its script's clock, between the
events around their end, ``rehearsal.ingest``)."""

from __future__ import annotations

import sqlite_utils

from console.domain import flash
from console.store import facts
from console.store.repository import append_new
from console.store.schema import transaction


def any_due(db: sqlite_utils.Database, now: float) -> bool:
    """Whether some running sale's time is over (a read, so the check costs no lock)."""
    started, ended = facts.flash_sales_on_the_wall(db.conn)
    return bool(flash.due_sales((sale for _, sale in started), ended, now))


def end_due_sales(db: sqlite_utils.Database, now: float) -> list[tuple[str, int]]:
    """Log ``flash_sale_ended`` (time) for every sale whose time is over, decided again inside
    the transaction so each ends once; (session, last seq) for each session touched."""
    touched: dict[str, int] = {}
    with transaction(db) as conn:
        started, ended = facts.flash_sales_on_the_wall(conn)
        session_of = {sale.sale_id: sid for sid, sale in started}
        for sale in flash.due_sales((sale for _, sale in started), ended, now):
            sid = session_of[sale.sale_id]
            event = flash.ended_event(sale, "time", now)
            touched[sid] = append_new(conn, sid, [event]).last_seq
    return list(touched.items())
