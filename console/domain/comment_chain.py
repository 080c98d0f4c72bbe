"""接龙 by comment: "+1", "接龙2份", "2份" in the room joins the open 接龙 (seed 004).

A chain's comment pattern is a template, not a regular expression (no pattern an assistant
types can hang the ingest): alternatives separated by "|", "N" standing for the quantity
(1-3 digits; an alternative without N means 1). The whole comment must match one alternative,
spaces ignored and full-width characters folded ("＋２" is "+2"). The comment joins through
the same decision as an order (``orders.place_order``); ``join_refused`` is what the
assistant sees when it cannot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from console.domain.chains import Chain
from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.events import EventType

DEFAULT_PATTERN = "+N|接龙N|接龙N份|N份|+N份|接龙+N"
MAX_PATTERN_LENGTH = 100
MAX_QUANTITY = 999
_QUANTITY = "N"


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    alternatives = []
    for alternative in pattern.split("|"):
        text = _fold(alternative)
        parts = [re.escape(part) for part in text.split(_QUANTITY)]
        alternatives.append(r"(\d{1,3})".join(parts) if len(parts) > 1 else parts[0])
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def check_pattern(pattern: str | None) -> str | None:
    """A chain's comment pattern as kept (None: the default); ``Refused`` if unusable."""
    if pattern is None or not pattern.strip():
        return None
    pattern = pattern.strip()
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise Refused(RefusalKind.INVALID, "comment_pattern", f"最多 {MAX_PATTERN_LENGTH} 个字符")
    for alternative in pattern.split("|"):
        text = _fold(alternative)
        if not text or text == _QUANTITY or text.count(_QUANTITY) > 1:
            raise Refused(
                RefusalKind.INVALID,
                "comment_pattern",
                "每一项（用 | 分隔）须有文字，至多一个 N 代表份数，例如 +N|要N份",
            )
    return pattern


def join_quantity(text: str, pattern: str | None = None) -> int | None:
    """The quantity a comment asks for under ``pattern`` (the default when None), or None if
    it is not a 接龙 comment. "+0" or more than ``MAX_QUANTITY`` is not one either."""
    found = _compiled(pattern or DEFAULT_PATTERN).fullmatch(_fold(text))
    if found is None:
        return None
    digits = next((g for g in found.groups() if g is not None), None)
    quantity = int(digits) if digits is not None else 1
    return quantity if 1 <= quantity <= MAX_QUANTITY else None


@dataclass(frozen=True, slots=True)
class OpenChain:
    """A chain taking entries, as the comment rule needs it."""

    chain: Chain
    opened_at: float
    comment_pattern: str | None = None


def chain_for_comment(chains: Iterable[OpenChain], presenting: str | None) -> OpenChain | None:
    """Which 接龙 a comment joins: the one open on the product being presented (讲解中), else
    the newest one open; None when no chain takes entries."""
    active = [c for c in chains if c.chain.status.active]
    if not active:
        return None
    on_stage = [c for c in active if presenting is not None and c.chain.product_id == presenting]
    pool = on_stage or active
    return max(pool, key=lambda c: (c.opened_at, c.chain.id))


def join_refused(
    member_id: str | None,
    chain: Chain | None,
    quantity: int,
    reason: str,
    comment_id: str,
    now: float,
) -> NewEvent:
    """The log's note that a 接龙 comment could not join (shown to the assistant)."""
    data = {
        "chain_id": chain.id if chain else None,
        "product_id": chain.product_id if chain else None,
        "quantity": quantity,
        "reason": reason,
        "comment_id": comment_id,
    }
    return NewEvent(EventType.CHAIN_JOIN_REFUSED, now, data, member_id)


GUEST_REASON = "未绑定会员的访客，请发送「绑定+6位绑定码」后再接龙"
NO_POINT_REASON = "没有默认或附近的自提点，请场控代为下单"
