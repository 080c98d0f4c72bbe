"""A session's review figures (复盘数据), computed from its event log alone.

Each figure is defined once, in ``console.domain.metrics`` (the live tiles use the same
functions); in short:

- reached: members of the session's audience (with their circle when it was set);
- audience_watched (受邀观看): audience members who joined, in their audience circle; watch
  conversion = audience_watched / reached;
- watched (观看): everyone who joined, guests and uninvited members included;
- interacted: viewers who commented, liked or shared; interaction rate = interacted / watched;
- chain entrants: viewers with an order or a 接龙 entry that stands (not cancelled); chain
  conversion = chain entrants / watched, no value in a session that opened no 接龙;
- GMV, orders, buyers (net of cancellations); AOV 客单价 = GMV / buyers;
- new-customer retention 新客沉淀率 = new customers whose order stands at a pickup point with a
  团长 / new customers;
- wake-up rate 唤醒率 = S6 audience members who ordered / S6 reached;
- KOC share = new-customer orders naming a KOC referrer / new-customer orders;
- chains formed = chains that reached their threshold / chains opened.

Every rate's numerator and denominator are keys of the same object (``RATE_PARTS``). A member
counts in the circle their events were stamped with (their circle at the time), so a later
re-segmentation does not rewrite a past session; reached and audience_watched count in the
circle the audience gave them. Money is in fen here; ``to_json`` gives yuan. Rates are
fractions, None where there is nothing to divide by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.domain import metrics
from console.domain.events import Event, EventType
from console.domain.metrics import Rate
from console.domain.segments import ALL_SEGMENTS, Segment

INTERACTIONS = frozenset({EventType.COMMENT, EventType.LIKE, EventType.SHARE})
TOTAL = "total"

RATE_PARTS: Mapping[str, tuple[str, str]] = {
    "watch_conversion": ("audience_watched", "reached"),
    "interaction_rate": ("interacted", "watched"),
    "chain_conversion": ("chain_entrants", "watched"),
    "new_customer_retention": ("new_customers_retained", "new_customers"),
    "wakeup_rate": ("s6_woken", "s6_reached"),
    "koc_share": ("koc_new_customer_orders", "new_customer_orders"),
    "chains_formed": ("chains_formed_count", "chains_opened"),
}
"""Each rate of ``/stats``: the keys of its numerator and its denominator, beside it."""


def rate_from_json(figures: Mapping[str, Any], key: str) -> Rate | None:
    """The rate ``key`` of a ``/stats`` object with its own figures; None where ``/stats``
    gives it no value (nothing to divide by, or no 接龙 to convert to)."""
    numerator, denominator = RATE_PARTS[key]
    if figures.get(key) is None or numerator not in figures or denominator not in figures:
        return None
    return Rate(int(figures[numerator]), int(figures[denominator]))


@dataclass
class _Order:
    member: str
    segment: Segment | None
    amount: int
    new_customer: bool
    point: str
    referrer: str
    referrer_koc: bool
    chain: str
    cancelled: bool = False


@dataclass
class _Tally:
    """One column of figures: a circle, or the total."""

    reached: int = 0
    audience_watched: int = 0
    watched: set[str] = field(default_factory=set)
    interacted: set[str] = field(default_factory=set)
    orders: int = 0
    gmv: int = 0
    buyers: set[str] = field(default_factory=set)

    def to_json(self, chains_opened: int) -> dict[str, Any]:
        watched = len(self.watched)
        buyers = len(self.buyers)
        entrants = metrics.chain_entrants(self.buyers, self.watched)
        return {
            "reached": self.reached,
            "audience_watched": self.audience_watched,
            "watched": watched,
            "watch_conversion": metrics.watch_conversion(
                self.audience_watched, self.reached
            ).rounded(),
            "interacted": len(self.interacted),
            "interaction_rate": metrics.interaction_rate(len(self.interacted), watched).rounded(),
            "chain_entrants": entrants,
            "chain_conversion": metrics.chain_conversion(
                entrants, watched, chains_opened
            ).rounded(),
            "gmv": self.gmv / 100,
            "orders": self.orders,
            "buyers": buyers,
            "aov": metrics.average_order_value(self.gmv, buyers),
        }


@dataclass
class StatsFacts:
    """What the log says, gathered in one pass; ``add`` events as they come, then
    ``stats_from_facts`` at any time (the store keeps one per session as its log grows)."""

    segment_of: dict[str, Segment | None] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)
    interacted: set[str] = field(default_factory=set)
    orders: dict[str, _Order] = field(default_factory=dict)
    chains_opened: set[str] = field(default_factory=set)
    chains_formed: set[str] = field(default_factory=set)

    def add(self, event: Event) -> None:
        member = event.member_id
        if member is not None and member not in self.segment_of and event.segment is not None:
            self.segment_of[member] = event.segment  # their circle at the time
        if member is not None and event.type is EventType.VIEWER_JOINED:
            self.joined.add(member)
        elif member is not None and event.type in INTERACTIONS:
            self.interacted.add(member)
        elif member is not None and event.type is EventType.ORDER_PLACED:
            self._placed(event, member)
        elif event.type is EventType.ORDER_CANCELLED:
            placed = self.orders.get(str(event.data.get("order_id", "")))
            if placed is not None:
                placed.cancelled = True
        elif event.type is EventType.CHAIN_OPENED:
            self.chains_opened.add(str(event.data.get("chain_id", "")))
        elif event.type is EventType.CHAIN_FORMED:
            self.chains_formed.add(str(event.data.get("chain_id", "")))

    def _placed(self, event: Event, member: str) -> None:
        data = event.data
        self.orders[str(data.get("order_id", event.id))] = _Order(
            member=member,
            segment=event.segment,
            amount=int(data.get("amount", 0)),
            new_customer=bool(data.get("new_customer")),
            point=str(data.get("pickup_point") or ""),
            referrer=str(data.get("referrer") or ""),
            referrer_koc=bool(data.get("referrer_koc")),
            chain=str(data.get("chain_id") or ""),
        )


def session_stats(
    events: Iterable[Event],
    audience: Mapping[str, Segment | None],
    leaders: Mapping[str, str],
    nicks: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The review of one session: ``/stats``' shape (DESIGN.md), plus leaderboards.

    ``audience``: each reached member's circle when the audience was set; ``leaders``: each
    pickup point's 团长 ('' for none); ``nicks``: masked names for the KOC leaderboard.
    """
    facts = StatsFacts()
    for event in events:
        facts.add(event)
    return stats_from_facts(facts, audience, leaders, nicks)


def stats_from_facts(
    facts: StatsFacts,
    audience: Mapping[str, Segment | None],
    leaders: Mapping[str, str],
    nicks: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``session_stats`` from facts already gathered (read only: the facts may go on)."""
    segment_of, joined, interacted, orders = (
        facts.segment_of,
        facts.joined,
        facts.interacted,
        facts.orders,
    )
    chains_opened, chains_formed = facts.chains_opened, facts.chains_formed
    total = _Tally()
    by_segment = {segment: _Tally() for segment in ALL_SEGMENTS}

    def columns(segment: Segment | None) -> list[_Tally]:
        return [total, by_segment[segment]] if segment is not None else [total]

    for member, segment in audience.items():
        for tally in columns(segment):
            tally.reached += 1
            tally.audience_watched += int(member in joined)  # in the circle of reached
    for member in joined:
        segment = segment_of.get(member)
        for tally in columns(segment):
            tally.watched.add(member)
            if member in interacted:
                tally.interacted.add(member)
    standing = [order for order in orders.values() if not order.cancelled]
    for order in standing:
        for tally in columns(order.segment):
            tally.orders += 1
            tally.gmv += order.amount
            tally.buyers.add(order.member)

    opened = len(chains_opened)
    result: dict[str, Any] = {
        TOTAL: total.to_json(opened),
        "by_segment": {
            segment.value: by_segment[segment].to_json(opened) for segment in ALL_SEGMENTS
        },
    }
    result[TOTAL].update(_session_wide(orders, audience, leaders, chains_opened, chains_formed))
    result["koc_leaderboard"] = _koc_leaderboard(standing, nicks or {})
    result["new_neighbours"] = _new_neighbours(orders, leaders)
    return result


def _session_wide(
    orders: Mapping[str, _Order],
    audience: Mapping[str, Segment | None],
    leaders: Mapping[str, str],
    chains_opened: set[str],
    chains_formed: set[str],
) -> dict[str, Any]:
    first_orders: dict[str, _Order] = {}
    for order in orders.values():
        if order.new_customer:
            first_orders.setdefault(order.member, order)
    new_customers = set(first_orders)
    retained = {
        o.member
        for o in orders.values()
        if o.member in new_customers and not o.cancelled and leaders.get(o.point)
    }
    new_orders = [o for o in orders.values() if o.new_customer and not o.cancelled]
    koc_orders = sum(1 for o in new_orders if o.referrer_koc)
    s6_reached = {m for m, s in audience.items() if s is Segment.S6}
    s6_buyers = {o.member for o in orders.values() if not o.cancelled and o.member in s6_reached}
    formed = len(chains_formed & chains_opened)
    return {
        "new_customers": len(new_customers),
        "new_customers_retained": len(retained),
        "new_customer_retention": metrics.new_customer_retention(
            len(retained), len(new_customers)
        ).rounded(),
        "s6_reached": len(s6_reached),
        "s6_woken": len(s6_buyers),
        "wakeup_rate": metrics.wakeup_rate(len(s6_buyers), len(s6_reached)).rounded(),
        "new_customer_orders": len(new_orders),
        "koc_new_customer_orders": koc_orders,
        "koc_share": metrics.koc_share(koc_orders, len(new_orders)).rounded(),
        "chains_opened": len(chains_opened),
        "chains_formed_count": formed,
        "chains_formed": metrics.chains_formed(formed, len(chains_opened)).rounded(),
    }


def _koc_leaderboard(standing: list[_Order], nicks: Mapping[str, str]) -> list[dict[str, Any]]:
    board: dict[str, dict[str, Any]] = {}
    for order in standing:
        if not order.referrer:
            continue
        row = board.setdefault(
            order.referrer,
            {
                "member_id": order.referrer,
                "nick": nicks.get(order.referrer, ""),
                "koc": order.referrer_koc,
                "orders": 0,
                "gmv": 0,
                "new_customers": 0,
            },
        )
        row["orders"] += 1
        row["gmv"] += order.amount
        row["new_customers"] += int(order.new_customer)
    rows = sorted(board.values(), key=lambda r: (-r["new_customers"], -r["gmv"], r["member_id"]))
    return [{**r, "gmv": r["gmv"] / 100} for r in rows]


def _new_neighbours(
    orders: Mapping[str, _Order], leaders: Mapping[str, str]
) -> list[dict[str, Any]]:
    by_point: dict[str, set[str]] = {}
    for order in orders.values():
        if order.new_customer and not order.cancelled:
            by_point.setdefault(order.point, set()).add(order.member)
    return [
        {"pickup_point": point, "leader": leaders.get(point, ""), "new_neighbours": len(members)}
        for point, members in sorted(by_point.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
