"""Turns a scenario and a member base into a deterministic, time-ordered event plan."""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from console.domain.pickup import PickupIndex, PickupPoint
from console.domain.segments import Segment, parse_segment
from console.sim.scenario import RATE_KINDS, Buyers, Scenario, ScenarioError


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """Something to send ``offset_s`` seconds (scenario time) after the broadcast starts.

    ``kind`` is ``event`` (a room event for the ingest endpoint), ``command`` (a floor-
    assistant command, with its ``command_id``) or ``order`` (an order, with its idempotency
    key; ``chain_product`` asks to join the chain open on that product, ``referrer_member``
    to name that KOC's referral code).
    """

    offset_s: float
    event: dict[str, Any]
    kind: str = "event"


def audience(scenario: Scenario, members: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The members invited: those of the scenario's circles, or tagged with its tag."""
    if scenario.audience_segments:
        circles = {s.value for s in scenario.audience_segments}
        return [m for m in members if m.get("persona") in circles]
    return [m for m in members if scenario.audience_tag in str(m.get("tags", "")).split(";")]


def plan(
    scenario: Scenario,
    members: Sequence[Mapping[str, Any]],
    points: Sequence[PickupPoint] = (),
) -> list[PlannedEvent]:
    """Every room event, command and order of the broadcast, ordered by time; the same input
    gives the same plan. Orders need ``points`` (each buyer picks up at the nearest)."""
    rng = random.Random(scenario.seed)
    invited = audience(scenario, members)
    if len(invited) < scenario.watchers:
        raise ScenarioError(
            f"scenario {scenario.name}: {scenario.watchers} watchers wanted but only "
            f"{len(invited)} members carry the tag {scenario.audience_tag!r}"
        )
    watchers = _watchers(scenario, rng, invited)
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
    planned = [
        PlannedEvent(offset, {"id": f"{scenario.name}-{n:07d}", **event})
        for n, (offset, _, event) in enumerate(timeline, start=1)
    ]
    actions = _script_actions(scenario)
    if points and any(scenario.order_rates.values()):
        actions += _orders(scenario, rng, watchers, planned, points)
    if points and scenario.buyers is not None:
        actions += _buyers(scenario, scenario.buyers, rng, watchers, points)
    if points and scenario.flash_buyers:
        actions += _flash_buyers(scenario, rng, watchers, planned, points)
    merged = sorted(
        [(p.offset_s, 0, n, p) for n, p in enumerate(planned)]
        + [(p.offset_s, 1, n, p) for n, p in enumerate(actions)],
        key=lambda item: item[:3],
    )
    return [item[3] for item in merged]


def _watchers(
    scenario: Scenario, rng: random.Random, invited: list[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Who of the invited watch; with KOCs ordering first (seed 003) they all watch."""
    buyers = scenario.buyers
    if buyers is None or not buyers.kocs_first:
        return rng.sample(invited, scenario.watchers)
    kocs = [m for m in invited if _is_koc(m)][: scenario.watchers]
    others = [m for m in invited if not _is_koc(m)]
    return kocs + rng.sample(others, scenario.watchers - len(kocs))


def _is_koc(member: Mapping[str, Any]) -> bool:
    return bool(int(member.get("influencer") or 0))


def _buyers(
    scenario: Scenario,
    buyers: Buyers,
    rng: random.Random,
    watchers: Sequence[Mapping[str, Any]],
    points: Sequence[PickupPoint],
) -> list[PlannedEvent]:
    """Exactly ``buyers.count`` watchers order once (KOCs first when asked); each picks up at
    the nearest point; ``cancel_share`` of them are cancelled later (never picked up)."""
    members = [m for m in watchers if not str(m["id"]).startswith("guest-")]
    if buyers.count > len(members):
        raise ScenarioError(
            f"scenario {scenario.name}: {buyers.count} buyers wanted but only "
            f"{len(members)} member watchers"
        )
    kocs = [m for m in members if _is_koc(m)][: buyers.count] if buyers.kocs_first else []
    rest = [m for m in members if not (buyers.kocs_first and _is_koc(m))]
    chosen = kocs + rng.sample(rest, buyers.count - len(kocs))
    start, end = buyers.from_minute * 60.0, buyers.to_minute * 60.0
    first_window = start + (end - start) * 0.1
    index = PickupIndex(points)
    actions = []
    for n, member in enumerate(chosen):
        at = rng.uniform(start, first_window) if n < len(kocs) else rng.uniform(first_window, end)
        body: dict[str, Any] = {
            "member_id": str(member["id"]),
            "product_id": buyers.product_id,
            "quantity": 1,
            "pickup_point": _nearest_point(index, member),
            "idempotency_key": f"{scenario.name}-buy-{member['id']}",
        }
        if buyers.join_chain:
            body["chain_product"] = buyers.product_id
        if rng.random() < buyers.cancel_share:
            body["cancel_later"] = True
        actions.append(PlannedEvent(at, body, "order"))
    return actions


def _script_actions(scenario: Scenario) -> list[PlannedEvent]:
    return [
        PlannedEvent(
            step.at_minute * 60.0,
            {**step.command, "command_id": f"{scenario.name}-cmd-{n:03d}"},
            "command",
        )
        for n, step in enumerate(scenario.script, start=1)
    ]


def _presented_at(scenario: Scenario) -> list[tuple[float, str | None]]:
    """(from second, product presented) as the script changes it."""
    return [
        (step.at_minute * 60.0, step.command.get("product_id"))
        for step in scenario.script
        if step.command["type"] == "present_product"
    ]


def _chains(scenario: Scenario) -> list[tuple[float, float, str]]:
    """(opened, deadline, product) of each chain the script opens."""
    chains = []
    for step in scenario.script:
        if step.command["type"] == "open_chain":
            opened = step.at_minute * 60.0
            deadline = opened + float(step.command["deadline_minutes"]) * 60.0
            chains.append((opened, deadline, str(step.command["product_id"])))
    return chains


def _orders(
    scenario: Scenario,
    rng: random.Random,
    watchers: Sequence[Mapping[str, Any]],
    planned: Sequence[PlannedEvent],
    points: Sequence[PickupPoint],
) -> list[PlannedEvent]:
    """Watchers in the room buy the product being presented, at their circle's rate."""
    presented = _presented_at(scenario)
    if not presented:
        return []
    chains = _chains(scenario)
    index = PickupIndex(points)
    by_id = {str(m["id"]): m for m in watchers}
    kocs = [str(m["id"]) for m in watchers if int(m.get("influencer") or 0)]
    orders: list[PlannedEvent] = []
    for member, intervals in _stays(scenario, by_id, planned).items():
        profile = by_id[member]
        segment = parse_segment(profile.get("persona"))
        rate = scenario.order_rates.get(segment, 0.0) if segment else 0.0
        if rate <= 0:
            continue
        bought: set[str] = set()
        point = _nearest_point(index, profile)
        for start, leave in intervals:
            at = start + rng.expovariate(rate / 60.0)
            while at < leave:
                product = _product_at(presented, at)
                if product is not None and product not in bought:
                    bought.add(product)
                    body: dict[str, Any] = {
                        "member_id": member,
                        "product_id": product,
                        "quantity": 1,
                        "pickup_point": point,
                        "idempotency_key": f"{scenario.name}-order-{member}-{product}",
                    }
                    if any(o <= at < d and p == product for o, d, p in chains) and (
                        rng.random() < scenario.chain_join
                    ):
                        body["chain_product"] = product
                    others = [k for k in kocs if k != member]
                    if (
                        segment in (Segment.S4, Segment.S6)
                        and others
                        and rng.random() < scenario.referred
                    ):
                        body["referrer_member"] = rng.choice(others)
                    orders.append(PlannedEvent(at, body, "order"))
                at += rng.expovariate(rate / 60.0)
    return orders


def _stays(
    scenario: Scenario, by_id: Mapping[str, Any], planned: Sequence[PlannedEvent]
) -> dict[str, list[list[float]]]:
    """Each watcher's [joined, left] spans (seconds), in order, from the room events."""
    stays: dict[str, list[list[float]]] = {}
    for item in planned:
        member = str(item.event.get("member_id", ""))
        if member not in by_id:
            continue
        if item.event["type"] == "viewer_joined":
            stays.setdefault(member, []).append([item.offset_s, scenario.duration_minutes * 60])
        elif item.event["type"] == "viewer_left" and stays.get(member):
            stays[member][-1][1] = item.offset_s
    return stays


def _flash_buyers(
    scenario: Scenario,
    rng: random.Random,
    watchers: Sequence[Mapping[str, Any]],
    planned: Sequence[PlannedEvent],
    points: Sequence[PickupPoint],
) -> list[PlannedEvent]:
    """For each 秒杀 the script starts: ``flash_buyers`` watchers of its circles (every
    member when it names none) who are in the room while it runs each order its product
    once, 1 unit up to its per-member limit, at a moment they are there before it ends
    (fewer when fewer are there; a sale sold out refuses the last ones, as on air)."""
    index = PickupIndex(points)
    by_id = {str(m["id"]): m for m in watchers if not str(m["id"]).startswith("guest-")}
    stays = _stays(scenario, by_id, planned)
    orders: list[PlannedEvent] = []
    for n, step in enumerate(scenario.script, start=1):
        sale = step.command
        if sale["type"] != "start_flash_sale":
            continue
        start = step.at_minute * 60.0 + 1.0  # after the command that starts it
        end = step.at_minute * 60.0 + float(sale["minutes"]) * 60.0 - 1.0
        circles = set(sale.get("circles") or ())
        present: list[tuple[str, float, float]] = []
        for member, intervals in sorted(stays.items()):
            if circles and by_id[member].get("persona") not in circles:
                continue
            spans = [(max(a, start), min(b, end)) for a, b in intervals if a < end and b > start]
            if spans:
                present.append((member, *spans[0]))
        chosen = rng.sample(present, min(scenario.flash_buyers, len(present)))
        for member, here, gone in chosen:
            body: dict[str, Any] = {
                "member_id": member,
                "product_id": str(sale["product_id"]),
                "quantity": rng.randint(1, int(sale["limit_per_member"])),
                "pickup_point": _nearest_point(index, by_id[member]),
                "idempotency_key": f"{scenario.name}-flash{n:03d}-{member}",
            }
            orders.append(PlannedEvent(rng.uniform(here, gone), body, "order"))
    return orders


def _product_at(presented: Sequence[tuple[float, str | None]], at: float) -> str | None:
    current = None
    for since, product in presented:
        if since > at:
            break
        current = product
    return current


def _nearest_point(index: PickupIndex, member: Mapping[str, Any]) -> str:
    try:
        lat, lon = float(member["lat"]), float(member["lon"])
    except (KeyError, TypeError, ValueError):
        return index.points[0].id
    return index.nearest(lat, lon)[0].id


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
