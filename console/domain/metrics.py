"""One definition per figure (指标口径): the live tiles, the replay, ``/stats`` and the report
all compute a figure through the functions here, so they cannot disagree.

A rate is a ``Rate``: its own numerator and denominator, shown together; with nothing to
divide by it has no value and shows "—". The counts it is made of are DOMAIN.md's:

- viewers (``watched``, 观看): distinct people who joined the room, guests and members outside
  the audience included; audience watchers (``audience_watched``, 受邀观看): members of the
  session's audience who joined;
- chain entrants: viewers with an order or a 接龙 entry that stands (a 接龙 entry is an order
  naming the chain; a cancelled or refunded one no longer counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass

from console.domain.events import EventType
from console.domain.room import RoomState
from console.domain.segments import ALL_SEGMENTS, Segment

NO_VALUE = "—"
JSON_PLACES = 4  # /stats sends 0.8750


@dataclass(frozen=True, slots=True)
class Rate:
    """numerator / denominator; no value (shown "—") when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def rounded(self) -> float | None:
        """The fraction as ``/stats`` sends it (0.875)."""
        value = self.value
        return None if value is None else round(value, JSON_PLACES)

    def percent(self, places: int = 1) -> str:
        """ "87.5%", or "—" with nothing to divide by."""
        return format_rate(self.value, places)

    def fraction(self) -> str:
        """ "105/120", or "—" with nothing to divide by."""
        return f"{self.numerator:,}/{self.denominator:,}" if self.denominator else NO_VALUE


def format_rate(value: float | None, places: int = 1) -> str:
    return NO_VALUE if value is None else f"{value:.{places}%}"


# -- the figures (each used live, in /stats and in the report) ---------------------------


def watch_conversion(audience_watched: int, reached: int) -> Rate:
    """观看转化率: audience members who joined / audience members reached (never all viewers:
    a guest or an uninvited member is not a converted invitation)."""
    return Rate(audience_watched, reached)


def interaction_rate(interacted: int, watched: int) -> Rate:
    """互动率: viewers who commented, liked or shared / viewers."""
    return Rate(interacted, watched)


def chain_entrants(buyers: Iterable[str], watched: Set[str]) -> int:
    """Viewers with a standing order or 接龙 entry (``buyers``: members with a standing order)."""
    return sum(1 for member in buyers if member in watched)


def chain_conversion(entrants: int, watched: int, chains_opened: int) -> Rate:
    """直播到接龙转化率: chain entrants / viewers. A session that has not opened a 接龙 has
    nothing to convert to: no value, whatever was ordered."""
    return Rate(entrants, watched) if chains_opened else Rate(0, 0)


def average_order_value(gmv_fen: int, buyers: int) -> float | None:
    """客单价 in yuan: standing GMV / buyers with a standing order (None without buyers)."""
    return round(gmv_fen / buyers / 100, 2) if buyers else None


def new_customer_retention(retained: int, new_customers: int) -> Rate:
    """新客沉淀率: new customers with a standing order at a point with a 团长 / new customers."""
    return Rate(retained, new_customers)


def wakeup_rate(woken: int, s6_reached: int) -> Rate:
    """唤醒率: S6 audience members with a standing order / S6 audience members reached."""
    return Rate(woken, s6_reached)


def koc_share(koc_orders: int, new_customer_orders: int) -> Rate:
    """KOC带新占比: standing new-customer orders naming a KOC referrer / standing new-customer
    orders."""
    return Rate(koc_orders, new_customer_orders)


def chains_formed(formed: int, opened: int) -> Rate:
    """成团率: 接龙 that reached their threshold / 接龙 opened."""
    return Rate(formed, opened)


# -- the live room -------------------------------------------------------------------------


def room_chain_conversion(state: RoomState) -> Rate:
    """The room's chain conversion so far (the live tile, the replay's moment)."""
    watched = state.watched_members
    return chain_conversion(
        chain_entrants(state.buyers, watched),
        len(watched),
        state.totals[EventType.CHAIN_OPENED],
    )


def tiers_to_address(online_by_segment: Mapping[Segment, int], count: int = 2) -> list[Segment]:
    """The circles most present in the room now, largest first (whom the host talks to)."""
    present = [s for s in ALL_SEGMENTS if online_by_segment.get(s, 0) > 0]
    present.sort(key=lambda s: (-online_by_segment[s], ALL_SEGMENTS.index(s)))
    return present[:count]
