"""Floor-assistant commands (场控指令) decided from facts: each returns its events.

Chains (``chains.open_chain``, ``chains.end_chain``) and cancellations
(``orders.cancel_orders``) have their own modules; the rest are here. The store checks the
session is live, loads the facts, and appends what these return, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.events import EventType


@dataclass(frozen=True, slots=True)
class LineupProduct:
    """A product of the session's lineup with its stock now."""

    id: str
    name: str
    stock: int


def in_lineup(product: LineupProduct | None, product_id: str) -> LineupProduct:
    if product is None:
        raise Refused(RefusalKind.NOT_FOUND, "product_id", f"{product_id!r} 不在本场的商品里")
    return product


def present_product(
    product: LineupProduct | None, product_id: str | None, actor: str, now: float
) -> NewEvent:
    """讲解中: the product the host presents now (``product_id`` None: none)."""
    data: dict[str, Any] = {"product_id": product_id, "by": actor}
    if product_id is not None:
        data["product_name"] = in_lineup(product, product_id).name
    return NewEvent(EventType.PRODUCT_PRESENTED, now, data)


def adjust_stock(
    product: LineupProduct | None,
    product_id: str,
    delta: int,
    reason: str,
    actor: str,
    now: float,
) -> tuple[int, NewEvent]:
    """调库存: add units (a new batch) or take them back (damaged); never below zero."""
    found = in_lineup(product, product_id)
    if found.stock + delta < 0:
        raise Refused(
            RefusalKind.CONFLICT, "delta", f"库存只有 {found.stock} 件，不能减少 {-delta} 件"
        )
    left = found.stock + delta
    data = {
        "product_id": found.id,
        "product_name": found.name,
        "delta": delta,
        "stock_left": left,
        "reason": reason,
        "by": actor,
    }
    return left, NewEvent(EventType.STOCK_ADJUSTED, now, data)


def post_notice(text: str, actor: str, now: float) -> NewEvent:
    """发公告: a notice on every console (19:30 抽奖, 冰杯赠完即止)."""
    text = text.strip()
    if not text:
        raise Refused(RefusalKind.INVALID, "text", "公告不能为空")
    return NewEvent(EventType.NOTICE_POSTED, now, {"text": text, "by": actor})


def mark_shoutout(
    waiting: Collection[str],
    shoutout_id: str,
    pinned: bool | None,
    actor: str,
    now: float,
) -> NewEvent:
    """已口播 (``pinned`` None) or 置顶/取消置顶: only a shout-out still on the board."""
    if shoutout_id not in waiting:
        raise Refused(
            RefusalKind.CONFLICT, "shoutout_id", f"提醒 {shoutout_id!r} 不在待口播列表（已口播？）"
        )
    data: dict[str, Any] = {"shoutout_id": shoutout_id, "by": actor}
    if pinned is None:
        return NewEvent(EventType.SHOUTOUT_ACKNOWLEDGED, now, data)
    return NewEvent(EventType.SHOUTOUT_PINNED, now, {**data, "pinned": pinned})
