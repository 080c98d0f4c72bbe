"""The room reducer: folds a session's event log into ``RoomState`` (直播间状态).

The store serves it as ``/state``, the console shows it live, the replay scrubs through it.
Folding is deterministic and order-checked: an event already applied is ignored, a gap in
``seq`` raises, so a follower can neither double count nor silently skip.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from console.domain.chains import STATUS_EVENTS, ChainProgress, can_move
from console.domain.events import Event, EventType
from console.domain.platform import AdapterHealth, PlatformCount
from console.domain.segments import ALL_SEGMENTS, Segment
from console.domain.shoutouts import ShoutoutBoard
from console.domain.turn_norms import PresentationResult, TurnSettings
from console.domain.turns import TURN_RULES, MinuteCounts, close_minute, observe_turns

NOTICES_KEPT = 20


class SequenceGap(ValueError):
    """An event arrived whose ``seq`` is beyond the next expected one."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"expected seq {expected}, got {got}")
        self.expected = expected
        self.got = got


def _zero_by_segment() -> dict[Segment, int]:
    return dict.fromkeys(ALL_SEGMENTS, 0)


@dataclass
class RoomState:
    """Everything the live room shows, as of event ``seq``.

    Viewers are identified by member id; a member who joins twice is online once, and a
    ``viewer_left`` for someone not online changes nothing. Viewers unknown to the member
    base (no segment) are counted as guests (访客).
    """

    seq: int = 0
    online_members: dict[str, Segment | None] = field(default_factory=dict)
    online_by_segment: dict[Segment, int] = field(default_factory=_zero_by_segment)
    online_guests: int = 0
    peak_online: int = 0
    peak_ts: float | None = None
    watched_members: set[str] = field(default_factory=set)
    watched_by_segment: dict[Segment, int] = field(default_factory=_zero_by_segment)
    totals: dict[EventType, int] = field(default_factory=lambda: dict.fromkeys(EventType, 0))
    likes: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    orders: int = 0
    gmv: int = 0  # fen
    buyers: dict[str, int] = field(default_factory=dict)  # member -> their standing orders
    orders_by_segment: dict[Segment, int] = field(default_factory=_zero_by_segment)
    gmv_by_segment: dict[Segment, int] = field(default_factory=_zero_by_segment)
    units_by_product: dict[str, int] = field(default_factory=dict)
    stock_left: dict[str, int] = field(default_factory=dict)  # as the last order reported
    chains: dict[str, ChainProgress] = field(default_factory=dict)
    cancelled_orders: int = 0
    new_customers: set[str] = field(default_factory=set)  # first order ever, in this session
    new_customer_orders: int = 0
    new_by_point: dict[str, int] = field(default_factory=dict)  # new neighbours per 团长
    referral_orders: dict[str, int] = field(default_factory=dict)  # by KOC (referrer)
    referral_gmv: dict[str, int] = field(default_factory=dict)
    referral_new_customers: dict[str, int] = field(default_factory=dict)
    product_names: dict[str, str] = field(default_factory=dict)  # as the store's events name them
    presenting: str | None = None  # 讲解中: product id
    presenting_since: float | None = None
    presenting_viewers: set[str] = field(default_factory=set)  # in the room during it
    presenting_buyers: set[str] = field(default_factory=set)  # viewers who ordered it since
    presentations: list[PresentationResult] = field(default_factory=list)  # ended ones
    notices: list[dict[str, Any]] = field(default_factory=list)  # newest last
    shoutouts: ShoutoutBoard = field(default_factory=ShoutoutBoard)
    # Live platforms (console.domain.platform): each value is replaced, never changed in place.
    platform_counts: dict[str, PlatformCount] = field(default_factory=dict)  # latest each
    adapters: dict[str, AdapterHealth] = field(default_factory=dict)  # by source
    platform_live: dict[str, bool] = field(default_factory=dict)  # as the platform last said
    platform_orders_flagged: int = 0  # 平台订单超卖: refused, kept apart
    chain_joins_refused: int = 0  # 接龙 comments that could not join
    identities_bound: int = 0  # viewers bound to a member in this session (绑定)
    # 秒杀 running, by product: sale_id, product_id, price (yuan), units_left, ends_at,
    # countdown (False: an S4/S6-only sale, shown as 限时特价). Each value is replaced whole.
    flash_sales: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per-minute online counts by event time, for the turn prompts (console.domain.turns).
    online_minutes: list[MinuteCounts] = field(default_factory=list)
    # The prompts' thresholds, fixed when the show went live (kept with the session, not in
    # its log: ``initial_state``).
    turn_settings: TurnSettings = field(default_factory=TurnSettings)

    @property
    def online(self) -> int:
        return len(self.online_members)

    def apply(self, event: Event) -> bool:
        """Fold one event; False if it was already folded, SequenceGap if one is missing."""
        if event.seq <= self.seq:
            return False
        if event.seq != self.seq + 1:
            raise SequenceGap(self.seq + 1, event.seq)
        turned = close_minute(self, event)  # before the event changes anything
        self.seq = event.seq
        self.totals[event.type] += 1
        if self.first_ts is None:
            self.first_ts = event.ts
        self.last_ts = event.ts if self.last_ts is None else max(self.last_ts, event.ts)
        name = event.data.get("product_name")
        if name and isinstance(name, str):
            self.product_names[str(event.data.get("product_id", ""))] = name
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event)
        self.shoutouts.observe(self, event)
        for kind, trigger in observe_turns(self, event, turned):
            self.shoutouts.prompt(TURN_RULES[kind], trigger, event)
        return True

    def apply_all(self, events: Iterable[Event]) -> int:
        """Fold events in order; returns how many were new."""
        return sum(1 for event in events if self.apply(event))

    def snapshot(self) -> RoomState:
        """An independent copy (``fold`` from a given state starts from one).

        Containers are copied one level deep (their members are immutable: ids, circles,
        numbers), chains and the shout-out board by their own ``copy``: several times faster
        than ``copy.deepcopy``. (Replay checkpoints are JSON snapshots instead:
        ``console.domain.snapshot``, a tenth of the memory.)
        """
        clone = copy.copy(self)
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, dict | set | list):
                setattr(clone, item.name, type(value)(value))
        clone.chains = {cid: chain.copy() for cid, chain in self.chains.items()}
        clone.shoutouts = self.shoutouts.copy()
        return clone

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``GET /sessions/{sid}/state``."""
        return {
            "seq": self.seq,
            "online": self.online,
            "online_by_segment": {s.value: n for s, n in self.online_by_segment.items()},
            "online_guests": self.online_guests,
            "peak_online": self.peak_online,
            "peak_ts": self.peak_ts,
            "watched": len(self.watched_members),
            "watched_by_segment": {s.value: n for s, n in self.watched_by_segment.items()},
            "totals": {t.value: n for t, n in self.totals.items()},
            "likes": self.likes,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "orders": self.orders,
            "gmv": self.gmv / 100,
            "buyers": len(self.buyers),
            "orders_by_segment": {s.value: n for s, n in self.orders_by_segment.items()},
            "gmv_by_segment": {s.value: n / 100 for s, n in self.gmv_by_segment.items()},
            "units_by_product": dict(self.units_by_product),
            "stock_left": dict(self.stock_left),
            "chains": {cid: chain.to_dict() for cid, chain in self.chains.items()},
            "cancelled_orders": self.cancelled_orders,
            "new_customers": len(self.new_customers),
            "new_customer_orders": self.new_customer_orders,
            "new_by_point": dict(self.new_by_point),
            "referrals": {
                koc: {
                    "orders": n,
                    "gmv": self.referral_gmv.get(koc, 0) / 100,
                    "new_customers": self.referral_new_customers.get(koc, 0),
                }
                for koc, n in self.referral_orders.items()
            },
            "presenting": self.presenting,
            "presenting_since": self.presenting_since,
            "notices": list(self.notices),
            "shoutouts": self.shoutouts.to_dict(),
            "platform_counts": {p: c.to_dict() for p, c in self.platform_counts.items()},
            "adapters": {s: a.to_dict() for s, a in self.adapters.items()},
            "platform_live": dict(self.platform_live),
            "platform_orders_flagged": self.platform_orders_flagged,
            "chain_joins_refused": self.chain_joins_refused,
            "identities_bound": self.identities_bound,
            "flash_sales": {p: dict(sale) for p, sale in self.flash_sales.items()},
        }

    # -- per-type folding -------------------------------------------------------------

    def _count(self, segment: Segment | None, delta: int) -> None:
        if segment is None:
            self.online_guests += delta
        else:
            self.online_by_segment[segment] += delta

    def _on_joined(self, event: Event) -> None:
        member = event.member_id
        if member is None:
            return
        if member in self.online_members:
            # A re-join after re-segmentation moves the viewer to the circle now stamped.
            self._count(self.online_members[member], -1)
        self.online_members[member] = event.segment
        self._count(event.segment, +1)
        if self.presenting is not None:
            self.presenting_viewers.add(member)
        if member not in self.watched_members:
            self.watched_members.add(member)
            if event.segment is not None:
                self.watched_by_segment[event.segment] += 1
        if self.online > self.peak_online:
            self.peak_online = self.online
            self.peak_ts = event.ts

    def _on_left(self, event: Event) -> None:
        if event.member_id is None or event.member_id not in self.online_members:
            return
        self._count(self.online_members.pop(event.member_id), -1)

    def _on_order(self, event: Event) -> None:
        data = event.data
        amount = int(data.get("amount", 0))
        product = str(data.get("product_id", ""))
        self.orders += 1
        self.gmv += amount
        if event.member_id:
            self.buyers[event.member_id] = self.buyers.get(event.member_id, 0) + 1
        if event.segment is not None:
            self.orders_by_segment[event.segment] += 1
            self.gmv_by_segment[event.segment] += amount
        self.units_by_product[product] = self.units_by_product.get(product, 0) + int(
            data.get("quantity", 0)
        )
        if "stock_left" in data:
            self.stock_left[product] = int(data["stock_left"])
        self._count_referral_and_newcomer(event, amount)
        if product == self.presenting and event.member_id in self.presenting_viewers:
            self.presenting_buyers.add(event.member_id)
        sale = self.flash_sales.get(product)
        if sale is not None and data.get("flash_sale_id") == sale["sale_id"]:
            left = int(data.get("flash_units_left") or 0)
            self.flash_sales[product] = {**sale, "units_left": left}
        chain = self.chains.get(str(data.get("chain_id") or ""))
        if chain is not None:
            chain.add_entry(
                event.ts, int(data.get("quantity", 0)), str(data.get("pickup_point", ""))
            )

    def _count_referral_and_newcomer(self, event: Event, amount: int) -> None:
        data = event.data
        new = bool(data.get("new_customer")) and event.member_id is not None
        if new and event.member_id not in self.new_customers:
            self.new_customers.add(str(event.member_id))
            point = str(data.get("pickup_point", ""))
            self.new_by_point[point] = self.new_by_point.get(point, 0) + 1
        if new:
            self.new_customer_orders += 1
        referrer = str(data.get("referrer") or "")
        if referrer:
            self.referral_orders[referrer] = self.referral_orders.get(referrer, 0) + 1
            self.referral_gmv[referrer] = self.referral_gmv.get(referrer, 0) + amount
            if new:
                self.referral_new_customers[referrer] = (
                    self.referral_new_customers.get(referrer, 0) + 1
                )

    def _on_cancelled(self, event: Event) -> None:
        """A cancelled order no longer counts: orders, GMV, units, its buyer, its chain entry."""
        data = event.data
        amount = int(data.get("amount", 0))
        product = str(data.get("product_id", ""))
        quantity = int(data.get("quantity", 0))
        self.cancelled_orders += 1
        self.orders -= 1
        self.gmv -= amount
        standing = self.buyers.get(event.member_id or "", 0)
        if standing > 1:
            self.buyers[str(event.member_id)] = standing - 1
        elif standing == 1:
            del self.buyers[str(event.member_id)]
        if event.segment is not None:
            self.orders_by_segment[event.segment] -= 1
            self.gmv_by_segment[event.segment] -= amount
        self.units_by_product[product] = self.units_by_product.get(product, 0) - quantity
        if "stock_left" in data:
            self.stock_left[product] = int(data["stock_left"])
        chain = self.chains.get(str(data.get("chain_id") or ""))
        if chain is not None:
            chain.remove_entry(quantity, str(data.get("pickup_point", "")))

    def _on_chain_opened(self, event: Event) -> None:
        chain = ChainProgress.opened(dict(event.data))
        if chain is not None:  # the store never writes a malformed one; a view never crashes
            chain.opened_ts = event.ts
            self.chains[chain.id] = chain

    def _on_chain_status(self, event: Event) -> None:
        chain = self.chains.get(str(event.data.get("chain_id", "")))
        target = STATUS_EVENTS[event.type]
        # A log written before the state machine may hold a second 成团; it changes nothing.
        if chain is not None and can_move(chain.status, target):
            chain.status = target

    def _on_presented(self, event: Event) -> None:
        if self.presenting is not None and self.presenting_since is not None:
            self.presentations.append(
                PresentationResult(
                    self.presenting,
                    self.presenting_since,
                    event.ts,
                    len(self.presenting_viewers),
                    len(self.presenting_buyers),
                )
            )
        self.presenting = str(event.data.get("product_id") or "") or None
        self.presenting_since = event.ts if self.presenting else None
        self.presenting_viewers = set(self.online_members) if self.presenting else set()
        self.presenting_buyers = set()

    def _on_flash_started(self, event: Event) -> None:
        data = event.data
        product = str(data.get("product_id", ""))
        self.flash_sales[product] = {
            "sale_id": str(data.get("sale_id", "")),
            "product_id": product,
            "price": float(data.get("price") or 0),
            "units_left": int(data.get("units") or 0),
            "ends_at": float(data.get("ends_at") or 0),
            "countdown": bool(data.get("countdown", True)),
        }

    def _on_flash_ended(self, event: Event) -> None:
        product = str(event.data.get("product_id", ""))
        sale = self.flash_sales.get(product)
        if sale is not None and sale["sale_id"] == event.data.get("sale_id"):
            del self.flash_sales[product]

    def _on_stock_adjusted(self, event: Event) -> None:
        if "stock_left" in event.data:
            self.stock_left[str(event.data.get("product_id", ""))] = int(event.data["stock_left"])

    def _on_notice(self, event: Event) -> None:
        notice = {"text": str(event.data.get("text", "")), "ts": event.ts, "seq": event.seq}
        self.notices = [*self.notices[-(NOTICES_KEPT - 1) :], notice]

    def _on_acknowledged(self, event: Event) -> None:
        self.shoutouts.acknowledge(str(event.data.get("shoutout_id", "")))

    def _on_pinned(self, event: Event) -> None:
        self.shoutouts.pin(str(event.data.get("shoutout_id", "")), bool(event.data.get("pinned")))

    def _on_like(self, event: Event) -> None:
        count = event.data.get("count", 1)
        self.likes += count if isinstance(count, int) and count > 0 else 1

    def _on_room_stats(self, event: Event) -> None:
        data = event.data
        platform = str(data.get("platform", ""))
        online, total = data.get("online"), data.get("total_viewers")
        if isinstance(online, int) and isinstance(total, int):
            self.platform_counts[platform] = PlatformCount(platform, online, total, event.ts)

    def _on_adapter_status(self, event: Event) -> None:
        health = AdapterHealth.from_dict({**event.data, "ts": event.ts})
        self.adapters[health.source] = health

    def _on_platform_live(self, event: Event) -> None:
        """The platform's stream state, shown only: the session's status is the operator's."""
        platform = str(event.data.get("platform", ""))
        self.platform_live[platform] = event.type is EventType.LIVE_STARTED

    def _on_flagged(self, event: Event) -> None:
        self.platform_orders_flagged += 1

    def _on_join_refused(self, event: Event) -> None:
        self.chain_joins_refused += 1

    def _on_bound(self, event: Event) -> None:
        self.identities_bound += 1


_HANDLERS = {
    EventType.VIEWER_JOINED: RoomState._on_joined,
    EventType.VIEWER_LEFT: RoomState._on_left,
    EventType.LIKE: RoomState._on_like,
    EventType.ORDER_PLACED: RoomState._on_order,
    EventType.ORDER_CANCELLED: RoomState._on_cancelled,
    EventType.CHAIN_OPENED: RoomState._on_chain_opened,
    EventType.CHAIN_FORMED: RoomState._on_chain_status,
    EventType.CHAIN_CLOSED: RoomState._on_chain_status,
    EventType.CHAIN_FAILED: RoomState._on_chain_status,
    EventType.PRODUCT_PRESENTED: RoomState._on_presented,
    EventType.STOCK_ADJUSTED: RoomState._on_stock_adjusted,
    EventType.NOTICE_POSTED: RoomState._on_notice,
    EventType.SHOUTOUT_ACKNOWLEDGED: RoomState._on_acknowledged,
    EventType.SHOUTOUT_PINNED: RoomState._on_pinned,
    EventType.ROOM_STATS: RoomState._on_room_stats,
    EventType.ADAPTER_STATUS: RoomState._on_adapter_status,
    EventType.LIVE_STARTED: RoomState._on_platform_live,
    EventType.LIVE_ENDED: RoomState._on_platform_live,
    EventType.PLATFORM_ORDER_FLAGGED: RoomState._on_flagged,
    EventType.CHAIN_JOIN_REFUSED: RoomState._on_join_refused,
    EventType.IDENTITY_BOUND: RoomState._on_bound,
    EventType.FLASH_SALE_STARTED: RoomState._on_flash_started,
    EventType.FLASH_SALE_ENDED: RoomState._on_flash_ended,
}


def fold(events: Iterable[Event], state: RoomState | None = None) -> RoomState:
    """A new state: ``state`` (or the empty room) with ``events`` folded in."""
    result = RoomState() if state is None else state.snapshot()
    result.apply_all(events)
    return result


def initial_state(session: Mapping[str, Any] | None = None) -> RoomState:
    """The empty room of a session: with the prompts' thresholds it went live with
    (``session["turn_settings"]``, as the store's session JSON carries them; none: the
    defaults). Every fold of a session's log starts here, so the live console, the store's
    index, the replay and the report raise the same prompts."""
    data = (session or {}).get("turn_settings") or {}
    return RoomState(turn_settings=TurnSettings.from_data(data))
