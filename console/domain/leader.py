"""The 团长's page (团长工作台): what one pickup point's leader sees, decided from facts.

- *orders to hand out* (提货): standing (not cancelled) live orders at the point that are
  either not picked up yet and from a session of the last ``ORDER_DAYS`` days, or picked up
  today, China time (``listed``): last night's show is still on the page the next morning.
  Each is 已提 (picked up), 待提 (to hand out) or 待成团 (its 接龙 has not formed yet: it
  may still fail and be cancelled, so it cannot be handed out; ``pickup_state``);
- *new neighbours* (新邻居): members whose first order ever (``new_customer``) chose the point,
  in the last ``NEIGHBOUR_DAYS`` days; shown masked (nick, ``mask_phone``) until the leader
  asks for one member's number, which the store records in the audit log;
- *tasks*: the follow-up tasks owned by the point's leader (``console.domain.followups``);
- *接龙*: the chains of live sessions that have at least one standing (not cancelled) order
  at this point (``shows_chains_of``), with how many of their entries are at this point:
  another point's show, a private S1 session's title, is none of this 团长's business.

Only shows (wall-clock sessions) reach the page: a rehearsal's (彩排) orders, new neighbours
and chains are the script's, and hand a real 团长 no work (``session_clock.hands_out_work``;
the store filters on ``HIDDEN_CLOCK``).

The figures reconcile: the orders listed = picked up + to hand out + awaiting 成团.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from console.domain.chains import ChainStatus
from console.domain.decisions import RefusalKind, Refused
from console.domain.session_clock import SessionClock

CHINA = timezone(timedelta(hours=8))
DAY_S = 86_400.0
NEIGHBOUR_DAYS = 7
ORDER_DAYS = 7  # orders still to hand out stay listed for sessions of the last 7 days
HIDDEN_CLOCK = SessionClock.REHEARSAL  # a session on this clock never reaches the page


class PickupState(StrEnum):
    PICKED_UP = "picked_up"  # 已提
    TO_HAND_OUT = "to_hand_out"  # 待提
    AWAITING_CHAIN = "awaiting_chain"  # 待成团: its 接龙 is still open


PICKUP_LABELS = {
    PickupState.PICKED_UP: "已提",
    PickupState.TO_HAND_OUT: "待提",
    PickupState.AWAITING_CHAIN: "待成团",
}


def shows_chains_of(standing_orders_here: int) -> bool:
    """A live session's 接龙 reach a point's page only when the session has at least one
    standing (not cancelled) order at the point: the simplest rule that shows a leader the
    shows their neighbours buy in, and no other session (not a private S1 session's title)."""
    return standing_orders_here > 0


def day_start(now: float) -> float:
    """The first instant of ``now``'s day in China time (epoch seconds)."""
    local = datetime.fromtimestamp(now, CHINA)
    midnight = datetime(local.year, local.month, local.day, tzinfo=CHINA)
    return midnight.astimezone(UTC).timestamp()


def neighbours_since(now: float) -> float:
    return day_start(now) - (NEIGHBOUR_DAYS - 1) * DAY_S


def orders_since(now: float) -> float:
    """The first instant of the oldest day whose sessions' orders are still listed."""
    return day_start(now) - (ORDER_DAYS - 1) * DAY_S


def listed(session_started: float, picked_up_at: float | None, now: float) -> bool:
    """Whether the page lists an order (standing, at the point): picked up today (China
    time), or not picked up and from a session started in the last ``ORDER_DAYS`` days."""
    if picked_up_at is not None:
        return picked_up_at >= day_start(now)
    return session_started >= orders_since(now)


def pickup_state(picked_up_at: float | None, chain_status: str | None) -> PickupState:
    """已提, 待提, or 待成团 for an order in a 接龙 that is still open."""
    if picked_up_at is not None:
        return PickupState.PICKED_UP
    if chain_status == ChainStatus.OPEN.value:
        return PickupState.AWAITING_CHAIN
    return PickupState.TO_HAND_OUT


def check_pickable(order_id: str, chain_status: str | None) -> None:
    """An order in a 接龙 not formed yet cannot be handed out: if the chain fails, the order
    is cancelled and refunded."""
    if chain_status == ChainStatus.OPEN.value:
        raise Refused(
            RefusalKind.CONFLICT,
            "order_id",
            f"订单 {order_id[:40]} 所在接龙尚未成团（待成团），暂不能提货",
        )


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits; shorter numbers keep only the last
    two; nothing stays nothing."""
    digits = "".join(c for c in phone if c.isdigit())
    if not digits:
        return ""
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def still_needed(threshold: int, entries: int) -> int:
    """还差 N 单成团 (0 once formed)."""
    return max(threshold - entries, 0)


def pickup_summary(orders: list[dict[str, object]]) -> dict[str, int]:
    """The listed orders: listed = picked up + to hand out + awaiting 成团 (quantities beside);
    each order's ``state`` is a ``PickupState`` value."""
    counts = dict.fromkeys(PickupState, 0)
    for order in orders:
        counts[PickupState(str(order["state"]))] += 1
    return {
        "orders": len(orders),
        "picked_up": counts[PickupState.PICKED_UP],
        "to_hand_out": counts[PickupState.TO_HAND_OUT],
        "awaiting_chain": counts[PickupState.AWAITING_CHAIN],
        "items": sum(int(str(o.get("quantity", 0))) for o in orders),
    }
