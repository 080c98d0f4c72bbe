"""Turns a scenario and a member base into a deterministic, time-ordered event plan."""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from console.domain.segments import Segment, parse_segment
from console.sim.scenario import RATE_KINDS, Scenario, ScenarioError


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """An event to send ``offset_s`` seconds (scenario time) after the broadcast starts."""

    offset_s: float
    event: dict[str, Any]


def audience(scenario: Scenario, members: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The members invited to the session: those tagged with the scenario's circle."""
    return [m for m in members if scenario.audience_tag in str(m.get("tags", "")).split(";")]


def plan(scenario: Scenario, members: Sequence[Mapping[str, Any]]) -> list[PlannedEvent]:
    """Every room event of the broadcast, ordered by time; the same input gives the same plan."""
    rng = random.Random(scenario.seed)
    invited = audience(scenario, members)
    if len(invited) < scenario.watchers:
        raise ScenarioError(
            f"scenario {scenario.name}: {scenario.watchers} watchers wanted but only "
            f"{len(invited)} members carry the tag {scenario.audience_tag!r}"
        )
    watchers = rng.sample(invited, scenario.watchers)
    viewers: list[tuple[str, Segment | None, str]] = [
        (str(m["id"]), parse_segment(m.get("persona")), "") for m in watchers
    ]
    viewers += [(f"guest-{n:04d}", None, f"游客{n:04d}") for n in range(1, scenario.guests + 1)]

    end = scenario.duration_minutes * 60.0
    timeline: list[tuple[float, int, dict[str, Any]]] = []
    for member_id, segment, nick in viewers:
        start = _arrival_seconds(scenario, rng.random())
        while start < end:
            stay = rng.expovariate(1.0 / (scenario.stay_mean_minutes * 60.0))
            leave = min(start + stay, end)
            joined: dict[str, Any] = {"type": "viewer_joined", "member_id": member_id}
            if nick:
                joined["data"] = {"nick": nick}
            timeline.append((start, len(timeline), joined))
            _plan_interactions(scenario, rng, member_id, segment, start, leave, timeline)
            timeline.append((leave, len(timeline), {"type": "viewer_left", "member_id": member_id}))
            if leave >= end or rng.random() >= scenario.rejoin_probability:
                break
            start = leave + rng.uniform(30.0, 300.0)

    timeline.sort(key=lambda item: (item[0], item[1]))
    return [
        PlannedEvent(offset, {"id": f"{scenario.name}-{n:07d}", **event})
        for n, (offset, _, event) in enumerate(timeline, start=1)
    ]


def _arrival_seconds(scenario: Scenario, u: float) -> float:
    """Inverse of the piecewise-linear cumulative arrival curve."""
    curve = scenario.arrival_curve
    shares = [share for _, share in curve]
    i = max(1, bisect.bisect_left(shares, u))
    (m0, s0), (m1, s1) = curve[i - 1], curve[min(i, len(curve) - 1)]
    minutes = m0 if s1 == s0 else m0 + (m1 - m0) * (u - s0) / (s1 - s0)
    return minutes * 60.0


def _plan_interactions(
    scenario: Scenario,
    rng: random.Random,
    member_id: str,
    segment: Segment | None,
    start: float,
    leave: float,
    timeline: list[tuple[float, int, dict[str, Any]]],
) -> None:
    for kind in RATE_KINDS:
        per_minute = (
            scenario.rates[kind][segment] if segment else min(scenario.rates[kind].values())
        )
        if per_minute <= 0:
            continue
        at = start + rng.expovariate(per_minute / 60.0)
        while at < leave:
            event: dict[str, Any] = {"type": kind, "member_id": member_id}
            if kind == "comment":
                event["data"] = {"text": rng.choice(scenario.comment_lines)}
            elif kind == "like":
                event["data"] = {"count": rng.choice((1, 1, 1, 2, 3, 5))}
            elif kind == "share":
                event["data"] = {"channel": rng.choice(("wechat_group", "moments", "friend"))}
            timeline.append((at, len(timeline), event))
            at += rng.expovariate(per_minute / 60.0)
