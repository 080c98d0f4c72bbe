"""Prompts when the room turns (场控提示): the room or a circle leaving, a 接龙 too slow.

Three conditions, each a pure function of the room as the reducer folded it and of the
event's own time (never a clock), so the live console and the replay raise the same prompts:

- the room's online count fell more than ``DROP_SHARE`` within the last ``WINDOW_MIN``
  minutes (now against the room as it was ``WINDOW_MIN`` minutes before);
- a circle fell more than ``DROP_SHARE`` in that window and at least ``CIRCLE_MARGIN``
  faster than the room as a whole ("S1 钻石核心 在线 5分钟内少了 40%，可推该圈层专属价");
- an open 接龙 whose pace since it opened would leave it short of its threshold at the
  deadline ("按当前速度 截止时差 12 单").

The memory they need is ``RoomState.online_minutes``: a short ring of per-minute online
counts (the room, then S1..S6) as each event-time minute closed, kept when the first event
of a later minute arrives. Conditions are checked when a viewer leaves and when the
first event of a new minute arrives (pace only then: it worsens only as time passes). Each
prompt is a shout-out whose rule (``console.domain.shoutouts.TURN_RULES``) keeps the same
condition quiet for ``WINDOW_MIN`` minutes after it was raised; while it waits on the board,
a repeat refreshes its numbers instead of adding a line.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from console.domain.chains import ChainStatus
from console.domain.events import Event, EventType
from console.domain.segments import ALL_SEGMENTS, Segment
from console.domain.shoutouts import FOREVER, ShoutoutKind, ShoutoutRule, Trigger

if TYPE_CHECKING:
    from console.domain.room import RoomState

# -- the tunables, in one place --------------------------------------------------------------
DROP_SHARE = 0.30
"""A fall of more than this share of the online count within the window is a prompt."""
WINDOW_MIN = 5
"""The window (minutes) a fall is measured over; also each prompt's quiet time."""
CIRCLE_MARGIN = 0.10
"""A circle's fall must exceed the room's by this much to be "leaving faster than the room"."""
MIN_BASE = 5
"""Fewest viewers (room or circle) at the window's start for a fall to mean anything."""
PACE_MIN_ELAPSED_S = 120.0
"""A 接龙's pace is judged only once it has been open this long."""

MinuteCounts = tuple[int, tuple[int, ...]]
"""(event-time minute, (online, S1, ..., S6)) as the room stood at that minute's close."""

CIRCLE_HINTS: dict[Segment, str] = {
    Segment.S1: "可推该圈层专属价",
    Segment.S2: "可推家庭装或会员福利",
    Segment.S3: "可推成长任务卡",
    Segment.S4: "可推9.9元尝鲜装",
    Segment.S5: "可讲分享佣金政策",
    Segment.S6: "可推尝鲜装、讲讲品牌故事",
}


def _computed(state: RoomState, event: Event) -> Trigger | None:
    """Turn prompts are found over the fold (``observe_turns``), not by one event's type."""
    return None


TURN_RULES: dict[ShoutoutKind, ShoutoutRule] = {
    rule.kind: rule
    for rule in (
        ShoutoutRule(
            ShoutoutKind.ONLINE_DROP,
            None,
            _computed,
            "在线 {window}分钟内少了 {share}%（{before}→{now}），可上福利款或抽奖留人",
            priority=2,
            subject_cooldown_s=WINDOW_MIN * 60.0,
            coalesce_s=FOREVER,  # while it waits, a repeat refreshes the numbers
        ),
        ShoutoutRule(
            ShoutoutKind.CIRCLE_DROP,
            None,
            _computed,
            "{segment} {circle} 在线 {window}分钟内少了 {share}%，{hint}",
            priority=2,
            subject_cooldown_s=WINDOW_MIN * 60.0,
            coalesce_s=FOREVER,
        ),
        ShoutoutRule(
            ShoutoutKind.CHAIN_PACE,
            None,
            _computed,
            "{product}接龙按当前速度 截止时差 {short} 单（还剩{left}分钟），该催一催了",
            priority=2,
            subject_cooldown_s=WINDOW_MIN * 60.0,
            coalesce_s=FOREVER,
        ),
    )
}


# How a prompt names a circle: its label, but never one that reads as lesser on screen
# (DOMAIN.md, 雷区二): those are "S4 观众".
CIRCLE_NAMES: dict[Segment, str] = {
    s: "观众" if s in (Segment.S4, Segment.S6) else s.label for s in ALL_SEGMENTS
}


def minute_of(ts: float) -> int:
    return math.floor(ts / 60)


_COLUMN: dict[Segment, int] = {s: n for n, s in enumerate(ALL_SEGMENTS, start=1)}


def counts_of(state: RoomState) -> tuple[int, ...]:
    return (state.online, *(state.online_by_segment[s] for s in ALL_SEGMENTS))


def record(ring: list[MinuteCounts], minute: int, counts: tuple[int, ...], now: int) -> None:
    """Keep ``counts`` as ``minute``'s close, and forget what no window ending at minute
    ``now`` or later reaches any more."""
    ring.append((minute, counts))
    horizon = now - WINDOW_MIN
    # Keep the newest close at or before the horizon: it stands for the minutes after it.
    while len(ring) > 1 and ring[1][0] <= horizon:
        del ring[0]


def counts_at(ring: list[MinuteCounts], minute: int) -> tuple[int, ...] | None:
    """The counts at ``minute``'s close: the newest entry at or before it."""
    found = None
    for at, counts in ring:
        if at > minute:
            break
        found = counts
    return found


def _fall(before: int, now: int) -> float:
    return (before - now) / before if before else 0.0


def _percent(share: float) -> int:
    return math.floor(share * 100 + 1e-9)


def drop_triggers(
    ring: list[MinuteCounts],
    minute: int,
    now: tuple[int, ...],
    circles: tuple[Segment, ...] = ALL_SEGMENTS,
) -> list[tuple[ShoutoutKind, Trigger]]:
    """The room's and ``circles``' falls from ``WINDOW_MIN`` minutes before ``minute`` to
    ``now`` (the counts as they stand)."""
    before = counts_at(ring, minute - WINDOW_MIN)
    if before is None:
        return []
    found: list[tuple[ShoutoutKind, Trigger]] = []
    room_fall = _fall(before[0], now[0])
    if before[0] >= MIN_BASE and room_fall > DROP_SHARE:
        room: dict[str, object] = {"share": _percent(room_fall), "before": before[0]}
        room |= {"now": now[0], "window": WINDOW_MIN}
        found.append((ShoutoutKind.ONLINE_DROP, Trigger("room", room)))
    for segment in circles:
        n = _COLUMN[segment]
        fall = _fall(before[n], now[n])
        if before[n] < MIN_BASE or fall <= DROP_SHARE or fall < room_fall + CIRCLE_MARGIN:
            continue
        fields: dict[str, object] = {
            "segment": segment.value,
            "circle": CIRCLE_NAMES[segment],
            "window": WINDOW_MIN,
            "share": _percent(fall),
            "before": before[n],
            "now": now[n],
            "hint": CIRCLE_HINTS[segment],
        }
        found.append((ShoutoutKind.CIRCLE_DROP, Trigger(segment.value, fields)))
    return found


def chain_shortfall(
    entries: int, threshold: int, opened_ts: float, deadline: float, now: float
) -> int | None:
    """Entries a 接龙 would still lack at its deadline at its pace so far (None: too early
    to judge, or already past the deadline)."""
    elapsed = now - opened_ts
    if elapsed < PACE_MIN_ELAPSED_S or now >= deadline:
        return None
    projected = entries * (deadline - opened_ts) / elapsed
    return max(0, math.ceil(threshold - projected - 1e-9))


def pace_triggers(state: RoomState, now: float) -> list[Trigger]:
    found = []
    for chain in state.chains.values():
        if chain.status is not ChainStatus.OPEN:
            continue
        short = chain_shortfall(
            chain.entries, chain.threshold, chain.opened_ts, chain.deadline, now
        )
        if short:
            product = state.product_names.get(chain.product_id) or chain.product_id
            left = max(1, math.ceil((chain.deadline - now) / 60))
            fields = {"product": product, "short": short, "entries": chain.entries, "left": left}
            found.append(Trigger(chain.id, fields))
    return found


def close_minute(state: RoomState, event: Event) -> bool:
    """Before ``event`` is folded: if it starts a later minute than the room was in, keep
    the counts as they stand as that minute's close. True if it did (the minute turned)."""
    if state.last_ts is None:
        return False
    current, minute = minute_of(state.last_ts), minute_of(event.ts)
    if minute <= current:  # the same minute, or stamped earlier: time never runs back
        return False
    record(state.online_minutes, current, counts_of(state), minute)
    return True


def observe_turns(
    state: RoomState, event: Event, turned: bool
) -> list[tuple[ShoutoutKind, Trigger]]:
    """After ``event`` is folded: the prompts it raises (falls when a viewer left or the
    minute turned, 接龙 pace when the minute turned)."""
    if not turned and event.type is not EventType.VIEWER_LEFT:
        return []
    minute = minute_of(state.last_ts if state.last_ts is not None else event.ts)
    # A viewer leaving can only make the room and their own circle fall further (the other
    # circles fall no faster than the room than they did).
    circles = ALL_SEGMENTS if turned or event.segment is None else (event.segment,)
    found = drop_triggers(state.online_minutes, minute, counts_of(state), circles)
    if turned:
        found.extend((ShoutoutKind.CHAIN_PACE, t) for t in pace_triggers(state, event.ts))
    return found
