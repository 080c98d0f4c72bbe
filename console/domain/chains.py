"""接龙 chains as the room sees them: entries toward a threshold (成团), per pickup point.

A chain is opened on a product with a threshold (成团 count), a cap (most entries), a deadline
and an optional first-N gift. Orders that name the chain are its entries. It *forms* when
its entries reach the threshold; at the deadline a formed chain closes, an unformed one
*fails* and its entries are cancelled. Counts are of orders (one entry per order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.events import EventType


class ChainStatus(StrEnum):
    """Where a chain is in its life: open -> formed -> closed, or open -> failed."""

    OPEN = "open"
    FORMED = "formed"  # still taking entries until the deadline or the cap
    CLOSED = "closed"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """Still taking entries (and due to end at its deadline)."""
        return self in ACTIVE_CHAIN_STATUSES

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    ChainStatus.OPEN: "进行中",
    ChainStatus.FORMED: "已成团",
    ChainStatus.CLOSED: "已结束",
    ChainStatus.FAILED: "未成团，已取消",
}
ACTIVE_CHAIN_STATUSES: tuple[ChainStatus, ...] = (ChainStatus.OPEN, ChainStatus.FORMED)

# The whole life of a chain: each status may move once, to one of these. Nothing else.
TRANSITIONS: frozenset[tuple[ChainStatus, ChainStatus]] = frozenset(
    {
        (ChainStatus.OPEN, ChainStatus.FORMED),  # 成团: entries reached the threshold
        (ChainStatus.OPEN, ChainStatus.FAILED),  # ended short of the threshold
        (ChainStatus.FORMED, ChainStatus.CLOSED),  # ended after forming
    }
)

STATUS_EVENTS: dict[EventType, ChainStatus] = {
    EventType.CHAIN_FORMED: ChainStatus.FORMED,
    EventType.CHAIN_CLOSED: ChainStatus.CLOSED,
    EventType.CHAIN_FAILED: ChainStatus.FAILED,
}
EVENT_FOR_STATUS: dict[ChainStatus, EventType] = {v: k for k, v in STATUS_EVENTS.items()}


def can_move(source: ChainStatus, target: ChainStatus) -> bool:
    return (source, target) in TRANSITIONS


def ended_status(status: ChainStatus) -> ChainStatus:
    """The status a chain ends in (by hand or at its deadline): a formed one closes, an open
    one fails. ``Refused`` for a chain that has already ended."""
    if status is ChainStatus.FORMED:
        return ChainStatus.CLOSED
    if status is ChainStatus.OPEN:
        return ChainStatus.FAILED
    raise Refused(RefusalKind.CONFLICT, "chain_id", f"接龙{status.label}")


@dataclass
class ChainProgress:
    id: str
    product_id: str
    threshold: int
    cap: int
    deadline: float
    gift_first: int = 0
    gift: str = ""
    status: ChainStatus = ChainStatus.OPEN
    entries: int = 0
    units: int = 0
    by_point: dict[str, int] = field(default_factory=dict)
    entry_ts: list[float] = field(default_factory=list)  # for the progress chart
    opened_ts: float = 0.0  # the chain_opened event's time

    @property
    def missing(self) -> int:
        """还差N单成团: entries still needed to form (0 once formed)."""
        return max(0, self.threshold - self.entries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "product_id": self.product_id,
            "threshold": self.threshold,
            "cap": self.cap,
            "deadline": self.deadline,
            "gift_first": self.gift_first,
            "gift": self.gift,
            "status": self.status.value,
            "entries": self.entries,
            "units": self.units,
            "missing": self.missing,
            "by_point": dict(self.by_point),
        }

    @classmethod
    def opened(cls, data: dict[str, Any]) -> ChainProgress | None:
        """From a ``chain_opened`` event's data; None if it lacks what a chain needs."""
        try:
            return cls(
                id=str(data["chain_id"]),
                product_id=str(data["product_id"]),
                threshold=int(data["threshold"]),
                cap=int(data["cap"]),
                deadline=float(data["deadline"]),
                gift_first=int(data.get("gift_first", 0)),
                gift=str(data.get("gift", "")),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def copy(self) -> ChainProgress:
        return replace(self, by_point=dict(self.by_point), entry_ts=list(self.entry_ts))

    def add_entry(self, ts: float, quantity: int, point: str) -> None:
        self.entries += 1
        self.units += quantity
        self.by_point[point] = self.by_point.get(point, 0) + 1
        self.entry_ts.append(ts)

    def remove_entry(self, quantity: int, point: str) -> None:
        self.entries = max(0, self.entries - 1)
        self.units = max(0, self.units - quantity)
        if self.by_point.get(point, 0) > 0:
            self.by_point[point] -= 1


# -- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chain:
    """A chain as the store's decisions see it: its terms, status and standing entries."""

    id: str
    product_id: str
    threshold: int
    cap: int
    deadline: float
    gift_first: int = 0
    gift: str = ""
    status: ChainStatus = ChainStatus.OPEN
    entries: int = 0

    def due(self, now: float) -> bool:
        """Its deadline has come and it has not ended yet."""
        return self.status.active and self.deadline <= now


@dataclass(frozen=True, slots=True)
class Entry:
    """An order's place in a chain: its rank, its gift, and whether it formed the chain."""

    chain: Chain  # the chain after the entry
    rank: int
    gift: str
    formed: bool


def newest_active_chain(chains: Iterable[ChainProgress]) -> ChainProgress | None:
    """The chain 结束接龙 (K) ends: the most recently opened one still taking entries."""
    active = [c for c in chains if c.status.active]
    return max(active, key=lambda c: c.opened_ts) if active else None


def open_chain(
    chain_id: str,
    product_id: str,
    product_name: str,
    threshold: int,
    cap: int,
    deadline_s: float,
    gift_first: int,
    gift: str,
    active_on_product: bool,
    actor: str,
    now: float,
    comment_pattern: str | None = None,
) -> tuple[Chain, NewEvent]:
    """开接龙 on a product of the lineup, ending ``deadline_s`` from ``now``; comments matching
    ``comment_pattern`` (``comment_chain``; None: "+1", "接龙2份", "2份") join it."""
    if threshold < 1:
        raise Refused(RefusalKind.INVALID, "threshold", "成团人数至少为 1")
    if cap < threshold:
        raise Refused(RefusalKind.INVALID, "cap", f"上限 {cap} 低于成团人数 {threshold}")
    if deadline_s <= 0:
        raise Refused(RefusalKind.INVALID, "deadline_minutes", "截止时间必须在将来")
    if active_on_product:
        raise Refused(RefusalKind.CONFLICT, "product_id", "该商品已有进行中的接龙")
    chain = Chain(chain_id, product_id, threshold, cap, now + deadline_s, gift_first, gift)
    data = {
        "chain_id": chain.id,
        "product_id": product_id,
        "product_name": product_name,
        "threshold": threshold,
        "cap": cap,
        "deadline": chain.deadline,
        "gift_first": gift_first,
        "gift": gift,
        "by": actor,
    }
    if comment_pattern is not None:
        data["comment_pattern"] = comment_pattern
    return chain, NewEvent(EventType.CHAIN_OPENED, now, data)


def take_entry(chain: Chain, product_id: str, now: float) -> Entry:
    """An order joins ``chain``: it must be for the chain's product, before its deadline,
    while it takes entries and has room. The entry that reaches the threshold of an *open*
    chain forms it (成团); a chain forms once, whatever cancellations come later."""
    if product_id != chain.product_id:
        raise Refused(
            RefusalKind.INVALID,
            "chain_id",
            f"该接龙是 {chain.product_id} 的，不是 {product_id}",
        )
    if not chain.status.active:
        raise Refused(RefusalKind.CONFLICT, "chain_id", f"接龙{chain.status.label}")
    if now >= chain.deadline:
        raise Refused(RefusalKind.CONFLICT, "chain_id", "接龙已截止")
    if chain.entries >= chain.cap:
        raise Refused(RefusalKind.CONFLICT, "chain_id", f"接龙已满（{chain.cap} 单）")
    rank = chain.entries + 1
    formed = chain.status is ChainStatus.OPEN and rank >= chain.threshold
    after = replace(chain, entries=rank, status=ChainStatus.FORMED if formed else chain.status)
    return Entry(after, rank, chain.gift if rank <= chain.gift_first else "", formed)


def formed_event(chain: Chain, now: float) -> NewEvent:
    return NewEvent(EventType.CHAIN_FORMED, now, {"chain_id": chain.id})


def drop_entry(chain: Chain) -> Chain:
    """A cancelled entry leaves the chain; its status stays (a formed chain stays formed)."""
    return replace(chain, entries=max(0, chain.entries - 1))


def end_chain(chain: Chain, actor: str, now: float) -> tuple[Chain, NewEvent]:
    """结束接龙 (by hand, or ``actor='deadline'``): a formed chain closes, an open one fails.

    The caller cancels a failed chain's standing entries (``orders.cancel_orders``)."""
    status = ended_status(chain.status)
    event = NewEvent(EVENT_FOR_STATUS[status], now, {"chain_id": chain.id, "by": actor})
    return replace(chain, status=status), event
