"""The 团长's page (团长工作台): what one pickup point's leader sees, decided from facts.

- *today's orders* (今日提货): standing (not cancelled) live orders at the point placed since
  the start of today, China time (``day_start``), each with whether it has been picked up;
- *new neighbours* (新邻居): members whose first order ever (``new_customer``) chose the point,
  in the last ``NEIGHBOUR_DAYS`` days; shown masked (nick, ``mask_phone``) until the leader
  asks for one member's number, which the store records in the audit log;
- *tasks*: the follow-up tasks owned by the point's leader (``console.domain.followups``);
- *接龙*: the chains of live sessions, with how many of their entries are at this point.

The figures reconcile: the orders listed today = picked up + to hand out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
DAY_S = 86_400.0
NEIGHBOUR_DAYS = 7


def day_start(now: float) -> float:
    """The first instant of ``now``'s day in China time (epoch seconds)."""
    local = datetime.fromtimestamp(now, CHINA)
    midnight = datetime(local.year, local.month, local.day, tzinfo=CHINA)
    return midnight.astimezone(UTC).timestamp()


def neighbours_since(now: float) -> float:
    return day_start(now) - (NEIGHBOUR_DAYS - 1) * DAY_S


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
    """Today's orders: listed = picked up + to hand out (quantities beside)."""
    picked = [o for o in orders if o.get("picked_up_at") is not None]
    return {
        "orders": len(orders),
        "picked_up": len(picked),
        "to_hand_out": len(orders) - len(picked),
        "items": sum(int(str(o.get("quantity", 0))) for o in orders),
    }
