"""抽奖 (draws): who may win, who won, and a re-run anyone can check.

A draw is the floor assistant's ``start_draw`` command. Eligibility is a function of the
session's log and the moment of the draw (``eligible``); the winners are a function of the
sorted eligible member ids, the count and a seed (``draw``). The store picks the seed (a
random 128-bit value) and logs it in the ``draw_drawn`` event with the criteria, the
moment, the eligible list's size and the winners, so ``rerun_draw`` can recompute both from
the log up to that event. Pure: the seed and ``now`` come from the caller.

Who is eligible: a member of the base (an event stamped with a circle; guests are not)
seen in the log, in one of ``circles`` (empty: every circle), having watched at least
``min_watch_minutes`` (the sum of their join-to-leave spans, an open one up to ``now``),
with a comment when ``must_comment``, and online now when ``in_room_now``. A member who
opted out of personalisation is eligible like anyone; the log and the screens never name
their circle.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.domain.decisions import NewEvent, RefusalKind, Refused
from console.domain.events import Event, EventType
from console.domain.segments import Segment
from console.domain.text import display_text

READ_TYPES: frozenset[EventType] = frozenset(
    {EventType.VIEWER_JOINED, EventType.VIEWER_LEFT, EventType.COMMENT}
)
"""The only events eligibility reads (the store loads just these)."""

SEED_BITS = 128
PRIZE_LENGTH = 40


@dataclass(frozen=True, slots=True)
class DrawCriteria:
    """What the assistant asked for; ``circles`` empty means every circle."""

    prize: str
    count: int
    circles: frozenset[Segment] = frozenset()
    min_watch_minutes: float = 0.0
    must_comment: bool = False
    in_room_now: bool = False

    def to_data(self) -> dict[str, Any]:
        return {
            "prize": self.prize,
            "count": self.count,
            "circles": sorted(s.value for s in self.circles),
            "min_watch_minutes": self.min_watch_minutes,
            "must_comment": self.must_comment,
            "in_room_now": self.in_room_now,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DrawCriteria:
        """The criteria a ``draw_drawn`` event logged (ValueError if it holds none)."""
        try:
            return cls(
                prize=str(data["prize"]),
                count=int(data["count"]),
                circles=frozenset(Segment(s) for s in data.get("circles") or ()),
                min_watch_minutes=float(data.get("min_watch_minutes") or 0),
                must_comment=bool(data.get("must_comment")),
                in_room_now=bool(data.get("in_room_now")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a draw's criteria: {exc}") from exc


@dataclass(slots=True)
class Viewer:
    """One member as the log saw them up to the draw."""

    member_id: str
    nick: str = ""
    segment: Segment | None = None
    opted_out: bool = False
    watched_s: float = 0.0
    online_since: float | None = None
    commented: bool = False


def viewers(events: Iterable[Event], now: float) -> dict[str, Viewer]:
    """Every member the log names in a join, a departure or a comment, as of ``now``.

    Spans are clamped to ``[.., now]`` and never negative (out-of-order timestamps);
    a second join while online keeps the first one's start.
    """
    seen: dict[str, Viewer] = {}
    for event in events:
        if event.type not in READ_TYPES or not event.member_id:
            continue
        viewer = seen.get(event.member_id)
        if viewer is None:
            viewer = seen[event.member_id] = Viewer(event.member_id)
        viewer.segment = event.segment
        viewer.opted_out = event.opted_out
        viewer.nick = event.nick or viewer.nick
        if event.type is EventType.VIEWER_JOINED:
            if viewer.online_since is None:
                viewer.online_since = event.ts
        elif event.type is EventType.VIEWER_LEFT:
            if viewer.online_since is not None:
                viewer.watched_s += _span(viewer.online_since, event.ts, now)
                viewer.online_since = None
        else:
            viewer.commented = True
    return seen


def _span(start: float, end: float, now: float) -> float:
    return max(0.0, min(end, now) - start)


def watched_s(viewer: Viewer, now: float) -> float:
    """Seconds watched up to ``now``, an open span included."""
    if viewer.online_since is None:
        return viewer.watched_s
    return viewer.watched_s + _span(viewer.online_since, now, now)


def qualifies(viewer: Viewer, criteria: DrawCriteria, now: float) -> bool:
    if viewer.segment is None:  # a guest: nobody to hand the prize to
        return False
    if criteria.circles and viewer.segment not in criteria.circles:
        return False
    if criteria.must_comment and not viewer.commented:
        return False
    if criteria.in_room_now and viewer.online_since is None:
        return False
    return watched_s(viewer, now) >= criteria.min_watch_minutes * 60


def eligible(events: Iterable[Event], criteria: DrawCriteria, now: float) -> list[str]:
    """The member ids that may win, sorted (the order ``draw`` needs)."""
    return sorted(v.member_id for v in viewers(events, now).values() if qualifies(v, criteria, now))


def draw(eligible_ids_sorted: Sequence[str], count: int, seed: int) -> list[str]:
    """``min(count, len(eligible))`` distinct winners, in drawing order; deterministic given
    the sorted eligible ids and the seed (``random.Random(seed).sample``)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    ids = list(eligible_ids_sorted)
    return random.Random(seed).sample(ids, min(count, len(ids)))


def seed_text(seed: int) -> str:
    """The seed as the log keeps it: 32 hex digits (JSON numbers stop at 64 bits)."""
    return f"{seed:032x}"


def parse_seed(text: object) -> int:
    if not isinstance(text, str):
        raise ValueError(f"not a draw seed: {text!r}")
    return int(text, 16)


@dataclass(frozen=True, slots=True)
class Winner:
    member_id: str
    nick: str  # masked at ingest (林*薇)
    circle: str | None  # None for a member who opted out: never named by circle

    def to_data(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "nick": self.nick, "circle": self.circle}


def start_draw(
    events: Iterable[Event], criteria: DrawCriteria, seed: int, actor: str, now: float
) -> NewEvent:
    """抽奖: the ``draw_drawn`` event, or a refusal when nobody qualifies."""
    prize = display_text(criteria.prize.strip(), PRIZE_LENGTH)
    if not prize:
        raise Refused(RefusalKind.INVALID, "prize", "奖品不能为空")
    if criteria.count < 1:
        raise Refused(RefusalKind.INVALID, "count", "中奖人数至少 1 人")
    criteria = DrawCriteria(
        prize,
        criteria.count,
        criteria.circles,
        criteria.min_watch_minutes,
        criteria.must_comment,
        criteria.in_room_now,
    )
    seen = viewers(events, now)
    ids = sorted(m for m, v in seen.items() if qualifies(v, criteria, now))
    if not ids:
        raise Refused(RefusalKind.CONFLICT, "circles", "没有符合条件的观众，未抽奖")
    winners = [_winner(seen[m]) for m in draw(ids, criteria.count, seed)]
    data = {
        **criteria.to_data(),
        "seed": seed_text(seed),
        "as_of": now,
        "eligible": len(ids),
        "winners": [w.to_data() for w in winners],
        "by": actor,
    }
    return NewEvent(EventType.DRAW_DRAWN, now, data)


def _winner(viewer: Viewer) -> Winner:
    circle = None if viewer.opted_out or viewer.segment is None else viewer.segment.value
    return Winner(viewer.member_id, display_text(viewer.nick, 16) or "观众", circle)


@dataclass(frozen=True, slots=True)
class Rerun:
    """A draw recomputed from the log, beside what the log says it drew."""

    eligible: list[str]
    winners: list[str]
    logged_eligible: int
    logged_winners: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return len(self.eligible) == self.logged_eligible and self.winners == self.logged_winners


def rerun_draw(log_up_to_event: Iterable[Event], event: Event) -> Rerun:
    """Recompute a ``draw_drawn`` event's eligible list and winners from the log before it
    (events after it in ``log_up_to_event`` are ignored); ValueError if it is not a draw."""
    if event.type is not EventType.DRAW_DRAWN:
        raise ValueError(f"not a draw: {event.type.value}")
    data = event.data
    criteria = DrawCriteria.from_data(data)
    now = float(data.get("as_of", event.ts))
    prefix = (e for e in log_up_to_event if e.seq < event.seq)
    ids = eligible(prefix, criteria, now)
    winners = draw(ids, criteria.count, parse_seed(data.get("seed"))) if ids else []
    logged = [str(w.get("member_id")) for w in data.get("winners") or () if isinstance(w, Mapping)]
    return Rerun(ids, winners, int(data.get("eligible") or 0), logged)


def winner_nicks(data: Mapping[str, Any]) -> list[str]:
    """The masked nicks of a ``draw_drawn`` event's winners, in drawing order."""
    return [
        display_text(str(w.get("nick") or ""), 16) or "观众"
        for w in data.get("winners") or ()
        if isinstance(w, Mapping)
    ]
