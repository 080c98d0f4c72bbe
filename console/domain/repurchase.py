"""30-day repurchase (30天复购率) of a session's buyers, and LTV by circle (seed 000, 003).

The one definition of both figures: the store's API, the replay's review, the report and the
segmentation window all show what these functions return.

Facts. A *purchase* is one row of the brand's order history, whatever its channel: a live
order of any session (``live_orders``, its session named) or an imported shop order
(``orders``, no session). Money is in fen here (imported yuan are converted by the loader);
``to_json`` gives yuan, as ``/stats`` does. A purchase *stands* unless it was cancelled or
refunded (live: ``cancelled``; imported: ``cancelled`` / ``refunded``, see
``console.domain.order_status``): such an order is no purchase, as everywhere else in the
product. An imported return is a standing row with a negative amount: it lowers spend but is
never a (re)purchase.

Imported shop exports may contain the live orders too (the shop is where they were paid): an
imported row whose order id is a live order's id is that live order again, and is left out of
both figures (``distinct_purchases``), so it is never counted twice.

30-day repurchase of session X, per circle (DOMAIN.md: "another standing order within 30 days
after the session"):

- the *buyers* of X are the members with a standing live order in X (amount > 0);
- the *window* is (E, E + 30 days], E the session's end (``sessions.ended_at``). A session
  not ended yet has no window yet: no repurchaser, incomplete, 0 days observed, no window
  end (so its figure is the same whatever the clock says until it ends);
- a buyer *repurchased* when they have another standing purchase with amount > 0 whose time
  is in the window and which is not an order of session X: a live order of a later session or
  an imported shop order, any channel. An order placed while X was still on (before E) is
  part of the same visit, not a repurchase. Day 30 counts (E + 30 x 86400 s exactly), a
  second later does not;
- a buyer's *circle* is the one the store stamped on their first order in X (their circle at
  the session, as ``/stats`` counts buyers; on a tie in time, the first listed); a buyer
  with none counts under ``none`` (未分圈);
- rate per circle = repurchasers / buyers of that circle (no value without buyers); the total
  is over all buyers.

The clock is passed in. The window is complete when ``now`` >= E + 30 days; until then the
figure is marked incomplete (未满30天) with the whole days observed so far since E (0..30), and
what it counts so far is a floor, never the final rate.

LTV by circle (客户终身价值), DOMAIN.md: "net spend per member over the brand's history, by the
circle the member was in when they spent". Each standing purchase's amount (returns subtract)
goes to the circle its member was in when it was made: a live order's circle is the one the
store stamped on it (``Purchase.circle``); an imported order's is the member's circle in the
segmentation run in force at the order's time (the latest run finished by then, overrides
applied, from the store's run history), or, for an order older than every run or a member
that run did not score, the member's circle now. A circle's *members* are the members in it
now (those who never bought count with 0) and every member with spend attributed to it; a
member whose spend fell in two circles counts in both, and once in the total. LTV of a
circle = its attributed net spend / its members. The member count and the total are given
beside the average.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.domain.metrics import NO_VALUE, Rate
from console.domain.segments import ALL_SEGMENTS, Segment

WINDOW_DAYS = 30
DAY_S = 86_400.0
NO_CIRCLE = "none"
"""The key of members without a circle (未分圈), beside S1..S6."""
CIRCLE_KEYS: tuple[str, ...] = (*(s.value for s in ALL_SEGMENTS), NO_CIRCLE)


@dataclass(frozen=True, slots=True)
class Purchase:
    """One order of the brand's history (any channel)."""

    member_id: str
    ts: float  # epoch seconds
    amount: int  # fen; negative for an imported return
    session_id: str | None = None  # the live session it was placed in; None when imported
    standing: bool = True  # False when cancelled or refunded: no purchase at all
    circle: Segment | None = None  # the circle when it was made (live: stamped on it)
    order_id: str = ""  # the live order's id, or the shop's for an imported row


def distinct_purchases(purchases: Iterable[Purchase]) -> list[Purchase]:
    """``purchases`` without the imported rows that repeat a live order (same order id)."""
    rows = list(purchases)
    live = {p.order_id for p in rows if p.session_id is not None and p.order_id}
    return [p for p in rows if p.session_id is not None or p.order_id not in live]


def circle_key(segment: Segment | None) -> str:
    return segment.value if segment is not None else NO_CIRCLE


@dataclass
class CircleRepurchase:
    buyers: int = 0
    repurchasers: int = 0

    @property
    def rate(self) -> Rate:
        return Rate(self.repurchasers, self.buyers)

    def to_json(self) -> dict[str, Any]:
        return {
            "buyers": self.buyers,
            "repurchasers": self.repurchasers,
            "repurchase_rate": self.rate.rounded(),
        }


@dataclass
class Repurchase:
    """A session's 30-day repurchase: per circle and in total, and how much of the window the
    clock has seen."""

    session_id: str
    by_circle: dict[str, CircleRepurchase]
    total: CircleRepurchase
    complete: bool
    days_observed: int  # whole days since the session's end, at most 30
    window_ends: float | None  # the session's end + 30 days; None without buyers or end
    repurchasers: frozenset[str] = field(default_factory=frozenset)
    buyers: frozenset[str] = field(default_factory=frozenset)

    def label(self) -> str:
        """How complete the figure is, in the product's words."""
        if self.window_ends is None:
            return "本场未结束，30天窗口未开始" if self.buyers else "无买家"
        if self.complete:
            return f"{WINDOW_DAYS}天已满"
        return f"未满{WINDOW_DAYS}天（已观察{self.days_observed}天）"

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "window_days": WINDOW_DAYS,
            "complete": self.complete,
            "days_observed": self.days_observed,
            "window_ends": self.window_ends,
            "label": self.label(),
            "total": self.total.to_json(),
            "by_segment": {key: self.by_circle[key].to_json() for key in CIRCLE_KEYS},
        }


def session_repurchase(
    session_id: str, purchases: Iterable[Purchase], now: float, ended_at: float | None
) -> Repurchase:
    """The 30-day repurchase of ``session_id``'s buyers (see the module's definition).

    ``purchases``: the buyers' whole history (other members' rows are ignored), the session's
    own orders with their stamped circle; ``now``: the clock; ``ended_at``: the session's end,
    None while it has not ended (no window yet).
    """
    history = [p for p in distinct_purchases(purchases) if p.standing and p.amount > 0]
    first: dict[str, float] = {}
    circles: dict[str, Segment | None] = {}
    for p in history:
        if p.session_id == session_id and (p.member_id not in first or p.ts < first[p.member_id]):
            first[p.member_id] = p.ts
            circles[p.member_id] = p.circle
    window = WINDOW_DAYS * DAY_S
    end = ended_at
    again = (
        set()
        if end is None
        else {
            p.member_id
            for p in history
            if p.member_id in first and p.session_id != session_id and end < p.ts <= end + window
        }
    )
    by_circle = {key: CircleRepurchase() for key in CIRCLE_KEYS}
    total = CircleRepurchase()
    for member in first:
        for tally in (by_circle[circle_key(circles.get(member))], total):
            tally.buyers += 1
            tally.repurchasers += member in again
    if first and end is None:
        window_ends, days, complete = None, 0, False
    elif first and end is not None:
        window_ends = end + window
        seen = (now - end) / DAY_S
        days = max(0, min(WINDOW_DAYS, int(seen)))
        complete = now >= end + window
    else:
        window_ends, days, complete = None, 0, True
    return Repurchase(
        session_id=session_id,
        by_circle=by_circle,
        total=total,
        complete=complete,
        days_observed=days,
        window_ends=window_ends,
        repurchasers=frozenset(again),
        buyers=frozenset(first),
    )


@dataclass
class CircleLtv:
    members: int = 0
    buyers: int = 0  # members with a net spend above 0
    spend: int = 0  # fen, the circle's total net spend

    @property
    def ltv(self) -> int | None:
        """Average net spend per member, fen (rounded half up); None for an empty circle."""
        if not self.members:
            return None
        return (2 * self.spend + self.members) // (2 * self.members)

    def to_json(self) -> dict[str, Any]:
        ltv = self.ltv
        return {
            "members": self.members,
            "buyers": self.buyers,
            "spend": self.spend / 100,
            "ltv": None if ltv is None else ltv / 100,
        }


@dataclass
class Ltv:
    by_circle: dict[str, CircleLtv]
    total: CircleLtv

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total.to_json(),
            "by_segment": {key: self.by_circle[key].to_json() for key in CIRCLE_KEYS},
        }


def ltv_by_circle(purchases: Iterable[Purchase], circles: Mapping[str, Segment | None]) -> Ltv:
    """LTV by circle (see the module's definition). ``circles``: every member with their
    circle now; ``purchases`` carry the circle they were made in (``Purchase.circle``; the
    loader fills an imported row's); a member found only in ``purchases`` with no circle
    counts under none."""
    spend: dict[tuple[str, str], int] = {
        (member, circle_key(circle)): 0 for member, circle in circles.items()
    }
    net: dict[str, int] = dict.fromkeys(circles, 0)
    for p in distinct_purchases(purchases):
        if p.standing:
            where = (p.member_id, circle_key(p.circle))
            spend[where] = spend.get(where, 0) + p.amount
            net[p.member_id] = net.get(p.member_id, 0) + p.amount
    by_circle = {key: CircleLtv() for key in CIRCLE_KEYS}
    for (_member, circle), amount in spend.items():
        tally = by_circle[circle]
        tally.members += 1
        tally.spend += amount
        tally.buyers += amount > 0
    total = CircleLtv()
    for amount in net.values():
        total.members += 1
        total.spend += amount
        total.buyers += amount > 0
    return Ltv(by_circle=by_circle, total=total)


# -- as printed: one table for the replay's review, the report and the segmentation window --

REPURCHASE_HEADERS = ("分层", "买家", "30天内复购", "30天复购率")
LTV_HEADERS = ("分层 (消费时)", "会员", "有消费会员", "累计净消费 (元)", "LTV (元/会员)")
NO_CIRCLE_LABEL = "未分圈"
REPURCHASE_DEFINITION = (
    "口径：买家 = 本场有未取消订单的会员，按其本场首单时的分层计；30天内复购 = 本场结束后 30 天内"
    " (含第 30 天) 另有一笔未取消、未退款的订单 (之后场次的直播订单或导入的店铺订单；本场的"
    "第二单、直播结束前的订单不算；导入订单号与直播订单相同的视为同一单，不重复计)；"
    "复购率 = 30天内复购 / 买家。未结束的场次尚无30天窗口；"
    "未满30天时为截至目前的数，并注明已观察天数。"
)
LTV_DEFINITION = (
    "口径：消费按下单时会员所在分层计：直播订单按下单时记录的分层，导入订单按下单时生效的"
    "分层结果 (含手动调整；早于首次分层或该次未评分的按当前分层)；累计净消费 = 品牌全部历史中"
    "未取消、未退款订单的金额之和 (直播与导入订单，退货冲减；导入订单号与直播订单相同的不重复计)；"
    "会员 = 当前在该层的会员及在该层有消费的会员；LTV = 累计净消费 / 会员数，未消费的会员计 0。"
)


def circle_label(key: str) -> str:
    if key == NO_CIRCLE:
        return NO_CIRCLE_LABEL
    if key == "total":
        return "合计"
    segment = Segment(key)
    return f"{segment.value} {segment.label}"


def repurchase_rows(payload: Mapping[str, Any]) -> list[list[str]]:
    """``to_json`` of a ``Repurchase`` (from the API) as table rows: the total, then each
    circle with buyers; a rate printed from its own numerator and denominator."""
    parts = [("total", payload["total"])] + [
        (key, figures) for key, figures in payload["by_segment"].items() if figures["buyers"]
    ]
    rows = []
    for key, figures in parts:
        rate = Rate(int(figures["repurchasers"]), int(figures["buyers"]))
        text = f"{rate.percent()} ({rate.fraction()})" if rate.denominator else rate.percent()
        rows.append(
            [circle_label(key), f"{figures['buyers']:,}", f"{figures['repurchasers']:,}", text]
        )
    return rows


def repurchase_caption(payload: Mapping[str, Any]) -> str:
    """ "30天复购 · 未满30天（已观察12天）": what the rates cover, said beside them."""
    return f"{WINDOW_DAYS}天复购 · {payload['label']}"


def ltv_rows(payload: Mapping[str, Any]) -> list[list[str]]:
    """``to_json`` of an ``Ltv`` as table rows: the total, then each circle with members."""
    parts = [("total", payload["total"])] + [
        (key, figures) for key, figures in payload["by_segment"].items() if figures["members"]
    ]
    return [
        [
            circle_label(key),
            f"{figures['members']:,}",
            f"{figures['buyers']:,}",
            f"{figures['spend']:,.2f}",
            NO_VALUE if figures["ltv"] is None else f"{figures['ltv']:,.2f}",
        ]
        for key, figures in parts
    ]


def ltv_text(figures: Mapping[str, Any]) -> str:
    """One circle's LTV in a line: "LTV 173.33元/人 · 3人" ("LTV — · 0人" when empty)."""
    value = NO_VALUE if figures["ltv"] is None else f"{figures['ltv']:,.2f}元/人"
    return f"LTV {value} · {figures['members']:,}人"
