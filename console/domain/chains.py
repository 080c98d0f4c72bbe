"""接龙 chains as the room sees them: entries toward a threshold (成团), per pickup point.

A chain is opened on a product with a threshold (成团 count), a cap (most entries), a deadline
and an optional first-N gift. Orders that name the chain are its entries. It *forms* when
its entries reach the threshold; at the deadline a formed chain closes, an unformed one
*fails* and its entries are cancelled. Counts are of orders (one entry per order).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class ChainStatus(StrEnum):
    OPEN = "open"
    FORMED = "formed"  # still taking entries until the deadline or the cap
    CLOSED = "closed"
    FAILED = "failed"


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
