"""Prompts when the room turns (场控提示): the room or a circle leaving, fewer entering, a 接龙
too slow, the presented product not selling.

Five conditions, each a pure function of the room as the reducer folded it and of the
event's own time (never a clock), so the live console and the replay raise the same prompts,
with the thresholds the session logged when it went live (``RoomState.turn_settings``: the
brand's norms or what its catalog set, ``console.domain.turn_norms``; N = ``window_min``):

- the room's online count fell more than ``drop_share`` within the last N minutes (now
  against the room as it was N minutes before);
- fewer viewers entered in the last N minutes than in the N before, by more than
  ``entries_drop_share``;
- a circle fell more than ``drop_share`` in that window and at least ``circle_margin``
  faster than the room as a whole ("S1 钻石核心 在线 5分钟内少了 40%，可推该圈层专属价");
- an open 接龙 whose pace since it opened would leave it short of its threshold at the
  deadline ("按当前速度 截止时差 12 单");
- the presented product's conversion so far (of the distinct viewers in the room during its
  presentation, the share who ordered it) below ``conversion_share`` of the brand's norm
  for that product.

The memory they need is ``RoomState.online_minutes``: the per-minute counts (the room,
then S1..S6, then entries so far) as each event-time minute closed, kept when the first
event of a later minute arrives (a few hundred small tuples for a long show; also what the
show's summary for later norms is made of, ``show_summary``). Falls are checked when a
viewer leaves and when the first event of a new minute arrives; the rest only then (they
change as time passes). Each prompt is a shout-out whose rule (``TURN_RULES``) keeps the
same condition quiet for ``QUIET_MIN`` minutes after it was raised; while it waits on the
board, a repeat refreshes its numbers instead of adding a line.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from console.domain.chains import ChainStatus
from console.domain.events import Event, EventType
from console.domain.segments import ALL_SEGMENTS, Segment
from console.domain.shoutouts import FOREVER, ShoutoutKind, ShoutoutRule, Trigger
from console.domain.turn_norms import (
    MIN_BASE,
    PresentationResult,
    ShowSummary,
    TurnSettings,
    summarize,
)

if TYPE_CHECKING:
    from console.domain.room import RoomState

QUIET_MIN = 5
"""Minutes each prompt stays quiet for the same subject after it was raised."""
PACE_MIN_ELAPSED_S = 120.0
"""A 接龙's pace is judged only once it has been open this long."""

MinuteCounts = tuple[int, tuple[int, ...]]
"""(event-time minute, (online, S1, ..., S6, entries so far)) as the room stood at that
minute's close."""
ENTRIES = 1 + len(ALL_SEGMENTS)
"""The column of the entries so far (``viewer_joined`` events) in a minute's counts."""

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


def _prompt_rule(kind: ShoutoutKind, template: str) -> ShoutoutRule:
    return ShoutoutRule(
        kind,
        None,
        _computed,
        template,
        priority=2,
        subject_cooldown_s=QUIET_MIN * 60.0,
        coalesce_s=FOREVER,  # while it waits, a repeat refreshes the numbers
    )


TURN_RULES: dict[ShoutoutKind, ShoutoutRule] = {
    rule.kind: rule
    for rule in (
        _prompt_rule(
            ShoutoutKind.ONLINE_DROP,
            "在线 {window}分钟内少了 {share}%（{before}→{now}），可上福利款或抽奖留人",
        ),
        _prompt_rule(
            ShoutoutKind.ENTRIES_DROP,
            "进房 近{window}分钟 {now} 人次，比前{window}分钟少了 {share}%（{before}→{now}），"
            "可在群里再喊一轮",
        ),
        _prompt_rule(
            ShoutoutKind.CIRCLE_DROP,
            "{segment} {circle} 在线 {window}分钟内少了 {share}%，{hint}",
        ),
        _prompt_rule(
            ShoutoutKind.CHAIN_PACE,
            "{product}接龙按当前速度 截止时差 {short} 单（还剩{left}分钟），该催一催了",
        ),
        _prompt_rule(
            ShoutoutKind.CONVERSION_LOW,
            "{product} 讲了{minutes}分钟 转化 {rate}%，低于品牌常态 {norm}%，可换个讲法或报圈层价",
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
    return (
        state.online,
        *(state.online_by_segment[s] for s in ALL_SEGMENTS),
        state.totals[EventType.VIEWER_JOINED],
    )


def record(ring: list[MinuteCounts], minute: int, counts: tuple[int, ...]) -> None:
    """Keep ``counts`` as ``minute``'s close (minutes only ever grow)."""
    ring.append((minute, counts))


def counts_at(ring: list[MinuteCounts], minute: int) -> tuple[int, ...] | None:
    """The counts at ``minute``'s close: the newest entry at or before it."""
    at = bisect.bisect_right(ring, minute, key=lambda entry: entry[0])
    return ring[at - 1][1] if at else None


def _fall(before: int, now: int) -> float:
    return (before - now) / before if before else 0.0


def _percent(share: float) -> int:
    return math.floor(share * 100 + 1e-9)


def drop_triggers(
    ring: list[MinuteCounts],
    minute: int,
    now: tuple[int, ...],
    settings: TurnSettings,
    circles: tuple[Segment, ...] = ALL_SEGMENTS,
) -> list[tuple[ShoutoutKind, Trigger]]:
    """The room's and ``circles``' falls from ``window_min`` minutes before ``minute`` to
    ``now`` (the counts as they stand)."""
    window = settings.window_min
    before = counts_at(ring, minute - window)
    if before is None:
        return []
    found: list[tuple[ShoutoutKind, Trigger]] = []
    room_fall = _fall(before[0], now[0])
    if before[0] >= MIN_BASE and room_fall > settings.drop_share:
        room: dict[str, object] = {"share": _percent(room_fall), "before": before[0]}
        room |= {"now": now[0], "window": window}
        found.append((ShoutoutKind.ONLINE_DROP, Trigger("room", room)))
    for segment in circles:
        n = _COLUMN[segment]
        fall = _fall(before[n], now[n])
        if (
            before[n] < MIN_BASE
            or fall <= settings.drop_share
            or fall < room_fall + settings.circle_margin
        ):
            continue
        fields: dict[str, object] = {
            "segment": segment.value,
            "circle": CIRCLE_NAMES[segment],
            "window": window,
            "share": _percent(fall),
            "before": before[n],
            "now": now[n],
            "hint": CIRCLE_HINTS[segment],
        }
        found.append((ShoutoutKind.CIRCLE_DROP, Trigger(segment.value, fields)))
    return found


def entries_trigger(
    ring: list[MinuteCounts], minute: int, entered: int, settings: TurnSettings, first: int
) -> Trigger | None:
    """Entries in the last ``window_min`` minutes against the window before (``entered``:
    entries so far). Not in the show's opening (the window before starting within
    ``window_min`` minutes of its first minute, ``first``): the opening wave always fades."""
    window = settings.window_min
    if minute - 2 * window < first + window:
        return None
    start, earlier = counts_at(ring, minute - window), counts_at(ring, minute - 2 * window)
    if start is None or earlier is None:
        return None
    before, now = start[ENTRIES] - earlier[ENTRIES], entered - start[ENTRIES]
    fall = _fall(before, now)
    if before < MIN_BASE or fall <= settings.entries_drop_share:
        return None
    fields = {"window": window, "share": _percent(fall), "before": before, "now": now}
    return Trigger("entries", fields)


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


def presentation_so_far(state: RoomState, now: float) -> PresentationResult | None:
    """The presentation running at ``now`` as if it ended then (None: nothing presented)."""
    if state.presenting is None or state.presenting_since is None:
        return None
    return PresentationResult(
        state.presenting,
        state.presenting_since,
        now,
        len(state.presenting_viewers),
        len(state.presenting_buyers),
    )


def conversion_trigger(state: RoomState, now: float) -> Trigger | None:
    """The presented product, judged (``MIN_PRESENTATION_S`` in, a base of ``MIN_BASE``),
    converting below ``conversion_share`` of the brand's norm for it."""
    running = presentation_so_far(state, now)
    if running is None or not running.judged:
        return None
    settings = state.turn_settings
    norm = settings.conversion_norms.get(running.product_id)
    if not norm or running.conversion >= norm * settings.conversion_share:
        return None
    fields = {
        "product": state.product_names.get(running.product_id) or running.product_id,
        "minutes": math.floor((now - running.start_ts) / 60),
        "rate": f"{running.conversion * 100:.1f}",
        "norm": f"{norm * 100:.1f}",
        "buyers": running.buyers,
        "base": running.viewers,
    }
    return Trigger(f"{running.product_id}@{running.start_ts}", fields)


def close_minute(state: RoomState, event: Event) -> bool:
    """Before ``event`` is folded: if it starts a later minute than the room was in, keep
    the counts as they stand as that minute's close. True if it did (the minute turned)."""
    if state.last_ts is None:
        return False
    current, minute = minute_of(state.last_ts), minute_of(event.ts)
    if minute <= current:  # the same minute, or stamped earlier: time never runs back
        return False
    record(state.online_minutes, current, counts_of(state))
    return True


def observe_turns(
    state: RoomState, event: Event, turned: bool
) -> list[tuple[ShoutoutKind, Trigger]]:
    """After ``event`` is folded: the prompts it raises (falls when a viewer left or the
    minute turned; entries, 接龙 pace and conversion when the minute turned)."""
    if not turned and event.type is not EventType.VIEWER_LEFT:
        return []
    settings = state.turn_settings
    minute = minute_of(state.last_ts if state.last_ts is not None else event.ts)
    # A viewer leaving can only make the room and their own circle fall further (the other
    # circles fall no faster than the room than they did).
    circles = ALL_SEGMENTS if turned or event.segment is None else (event.segment,)
    now = counts_of(state)
    found = drop_triggers(state.online_minutes, minute, now, settings, circles)
    if turned:
        first = minute_of(state.first_ts if state.first_ts is not None else event.ts)
        entries = entries_trigger(state.online_minutes, minute, now[ENTRIES], settings, first)
        if entries is not None:
            found.append((ShoutoutKind.ENTRIES_DROP, entries))
        found.extend((ShoutoutKind.CHAIN_PACE, t) for t in pace_triggers(state, event.ts))
        conversion = conversion_trigger(state, event.ts)
        if conversion is not None:
            found.append((ShoutoutKind.CONVERSION_LOW, conversion))
    return found


def show_summary(state: RoomState) -> ShowSummary:
    """What an ended show contributes to the brand's norms (``turn_norms.summarize``): its
    per-minute online and entries, and its presentations, the last ended at its last event."""
    series = list(state.online_minutes)
    if state.last_ts is not None:
        series.append((minute_of(state.last_ts), counts_of(state)))
    presentations = list(state.presentations)
    last = presentation_so_far(state, state.last_ts or 0.0)
    if last is not None:
        presentations.append(last)
    return summarize(
        [(m, c[0]) for m, c in series],
        [(m, c[ENTRIES]) for m, c in series if len(c) > ENTRIES],
        presentations,
        state.turn_settings.window_min,
    )
