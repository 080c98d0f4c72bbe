"""秒杀 (flash sales) by circle: a product sold at a flash price for a while, within units.

A flash sale is the floor assistant's ``start_flash_sale`` command: a product of the lineup, a
price, a number of units (within the shared stock: a flash order takes stock like any
other), how long it runs, a per-member limit and the circles it is for (empty: every circle).
While it runs, an order from an eligible member pays ``min(tier price, flash price)``:
nobody ever pays more than their own circle's price. A member whose tier price is already at
or below the flash price pays that and takes none of the sale's units. The sale ends when its
units are gone (``flash_sale_ended`` right after the order that took the last one) or when
its time is over: by the store's timer (``due_sales``, about every second, for a show on
the wall clock; for a rehearsal when its script's clock passes ``ends_at``, between the
events around it), or by the next order or command that sees it over, whichever comes first.

Per DOMAIN.md (seed 000) S4/S6 get no pressure tactics: a sale whose circles are only S4
and/or S6 shows no countdown, just 限时特价 (``countdown`` is False in its state).

Pure: ids and ``now`` come from the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.domain.commands import LineupProduct, in_lineup
from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.events import EventType
from console.domain.segments import Segment

MIN_MINUTES = 0.5
MAX_MINUTES = 60.0
NO_PRESSURE: frozenset[Segment] = frozenset({Segment.S4, Segment.S6})
"""Circles shown no countdown (DOMAIN.md: S4/S6, no pressure tactics)."""


END_REASONS: dict[str, str] = {"time": "到时结束", "sold_out": "售罄"}
"""``flash_sale_ended``'s reasons, as the screens and the report say them."""


def shows_countdown(circles: frozenset[Segment]) -> bool:
    """False for a sale only for S4/S6: those circles see 限时特价, never a countdown."""
    return not circles or not circles <= NO_PRESSURE


@dataclass(frozen=True, slots=True)
class FlashSale:
    """A running flash sale as the store found it (``sold``: its units taken so far)."""

    sale_id: str
    product_id: str
    price: int  # fen
    units: int
    ends_at: float
    limit_per_member: int
    circles: frozenset[Segment] = frozenset()
    sold: int = 0

    @property
    def units_left(self) -> int:
        return max(0, self.units - self.sold)

    def over(self, now: float) -> str | None:
        """Why the sale is over at ``now`` ("sold_out", "time"), None while it runs."""
        if self.units_left <= 0:
            return "sold_out"
        if now >= self.ends_at:
            return "time"
        return None

    def eligible(self, segment: Segment | None, opted_out: bool) -> bool:
        """A member of the base in one of its circles (every member when it names none).
        A guest never; a member who opted out only when the sale names no circle."""
        if segment is None:
            return False
        if not self.circles:
            return True
        return not opted_out and segment in self.circles

    @classmethod
    def from_data(cls, data: Mapping[str, Any], sold: int = 0) -> FlashSale:
        """The sale a ``flash_sale_started`` event logged (ValueError if it holds none)."""
        try:
            return cls(
                sale_id=str(data["sale_id"]),
                product_id=str(data["product_id"]),
                price=round(float(data["price"]) * 100),
                units=int(data["units"]),
                ends_at=float(data["ends_at"]),
                limit_per_member=int(data["limit_per_member"]),
                circles=frozenset(Segment(s) for s in data.get("circles") or ()),
                sold=sold,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a flash sale: {exc}") from exc


def due_sales(started: Iterable[FlashSale], ended: Collection[str], now: float) -> list[FlashSale]:
    """The sales whose time is over at ``now`` and not yet logged as ended (``ended``: the
    ids of those that are), oldest end first: each gets its ``flash_sale_ended`` (time)."""
    due = [s for s in started if s.ends_at <= now and s.sale_id not in ended]
    return sorted(due, key=lambda s: (s.ends_at, s.sale_id))


def next_due(started: Iterable[FlashSale], ended: Collection[str]) -> FlashSale | None:
    """The sale not yet logged as ended whose time runs out first (a rehearsal ends it when
    its script's clock gets there, ``due_sales`` at its ``ends_at``); None when none runs."""
    running = [s for s in started if s.sale_id not in ended]
    return min(running, key=lambda s: (s.ends_at, s.sale_id), default=None)


@dataclass(frozen=True, slots=True)
class FlashTerms:
    """What an order gets from a running sale."""

    sale_id: str
    unit_price: int  # fen
    units_left: int  # the sale's units after this order


def flash_terms(
    sale: FlashSale,
    segment: Segment | None,
    opted_out: bool,
    tier_price: int,
    quantity: int,
    taken: int,
    now: float,
) -> FlashTerms | None:
    """The flash price for this order, None when the sale does not apply (over, not for the
    member's circle, or their own price is already as low); ``Refused`` (in Chinese) over the
    sale's per-member limit or its units left. ``taken``: the member's units of this sale."""
    if sale.over(now) is not None or not sale.eligible(segment, opted_out):
        return None
    if sale.price >= tier_price:
        return None  # nobody ever pays more than their own price
    if taken + quantity > sale.limit_per_member:
        raise Refused(
            RefusalKind.CONFLICT,
            "quantity",
            f"超过秒杀每人限购 {sale.limit_per_member} 件（已抢 {taken} 件）",
        )
    if quantity > sale.units_left:
        raise Refused(RefusalKind.CONFLICT, "quantity", f"秒杀只剩 {sale.units_left} 件")
    return FlashTerms(sale.sale_id, sale.price, sale.units_left - quantity)


def ended_event(sale: FlashSale, reason: str, now: float) -> NewEvent:
    """``flash_sale_ended``: "sold_out" or "time"."""
    data = {"sale_id": sale.sale_id, "product_id": sale.product_id, "reason": reason}
    return NewEvent(EventType.FLASH_SALE_ENDED, now, data)


@dataclass(frozen=True, slots=True)
class FlashRequest:
    """What the assistant asked for (price in fen)."""

    product_id: str
    price: int
    units: int
    minutes: float
    limit_per_member: int
    circles: frozenset[Segment] = frozenset()


def start_flash_sale(
    product: LineupProduct | None,
    request: FlashRequest,
    running: FlashSale | None,
    sale_id: str,
    actor: str,
    now: float,
) -> list[NewEvent]:
    """秒杀: the ``flash_sale_started`` event (after ending a running sale whose time or units
    are over), or a refusal in Chinese."""
    found = in_lineup(product, request.product_id)
    if request.price < 1:
        raise Refused(RefusalKind.INVALID, "price", "秒杀价必须大于 0")
    if request.units < 1:
        raise Refused(RefusalKind.INVALID, "units", "秒杀件数至少 1 件")
    if request.units > found.stock:
        raise Refused(RefusalKind.CONFLICT, "units", f"库存只有 {found.stock} 件")
    if not MIN_MINUTES <= request.minutes <= MAX_MINUTES:
        raise Refused(RefusalKind.INVALID, "minutes", "秒杀时长须在 0.5 到 60 分钟之间")
    if request.limit_per_member < 1:
        raise Refused(RefusalKind.INVALID, "limit_per_member", "每人限购至少 1 件")
    events: list[NewEvent] = []
    if running is not None:
        reason = running.over(now)
        if reason is None:
            raise Refused(RefusalKind.CONFLICT, "product_id", "该商品已有秒杀进行中")
        events.append(ended_event(running, reason, now))
    data = {
        "sale_id": sale_id,
        "product_id": found.id,
        "product_name": found.name,
        "price": request.price / 100,
        "units": request.units,
        "minutes": request.minutes,
        "ends_at": now + request.minutes * 60,
        "limit_per_member": request.limit_per_member,
        "circles": sorted(s.value for s in request.circles),
        "countdown": shows_countdown(request.circles),
        "by": actor,
    }
    events.append(NewEvent(EventType.FLASH_SALE_STARTED, now, data))
    return events


def _yuan(price: float) -> str:
    return f"¥{price:.2f}".rstrip("0").rstrip(".")


def flash_line(sale: Mapping[str, Any] | None, now: float) -> str:
    """The 讲解中 card's line for a running sale (as ``RoomState.to_dict`` shows it):
    "秒杀 ¥19.9 · 剩 12 件 · 01:23", or "限时特价 ¥9.9" for an S4/S6-only sale (no
    countdown, no scarcity); "" when there is none or it is over at ``now``."""
    if not sale:
        return ""
    left = int(sale.get("units_left") or 0)
    remaining = float(sale.get("ends_at") or 0) - now
    if left <= 0 or remaining <= 0:
        return ""
    price = _yuan(float(sale.get("price") or 0))
    if not sale.get("countdown", True):
        return f"限时特价 {price}"
    seconds = int(remaining + 0.999)  # 00:00 only once it is over
    return f"秒杀 {price} · 剩 {left} 件 · {seconds // 60:02d}:{seconds % 60:02d}"
