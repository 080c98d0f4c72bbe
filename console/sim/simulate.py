"""``python main.py simulate``: create the session (operator) or use one (ingest), then play."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from console.domain.pickup import PickupPoint
from console.domain.session_clock import SessionClock
from console.domain.sessions import SessionStatus
from console.sim import planner, population, scenario
from console.sim.demo_members import load_demo_members, load_demo_points
from console.sim.runner import StoreUnavailable, play
from console.sync.client import StoreClient, StoreError


class SimulationError(Exception):
    """The simulation could not run; the message says why."""


async def simulate(
    store_url: str,
    token: str,
    scenario_name: str,
    speed: float,
    session: str | None,
    scale: float = 1.0,
    until_minute: float | None = None,
) -> int:
    """Play ``scenario_name`` into the store; ``scale`` below 1 plays that fraction of its
    crowd (``scenario.scaled``: members, pickup points, watchers, buyers, stock). With
    ``until_minute`` it stops at that minute of the script and leaves the session live."""
    try:
        chosen = scenario.scaled(scenario.load(scenario_name), scale)
        if chosen.population is not None:
            members = population.members(chosen, chosen.population)
            points = population.points(chosen, chosen.population)
        else:
            members, points = load_demo_members(), load_demo_points()
    except scenario.ScenarioError as exc:
        raise SimulationError(str(exc)) from exc
    series = chosen.sessions or (chosen,)
    if session is not None and len(series) > 1:
        raise SimulationError(
            f"scenario {chosen.name} is a series of {len(series)} sessions; "
            "run it with an operator token (no --session)"
        )
    client = StoreClient(store_url, token)
    try:
        if session is None and chosen.population is not None:
            await _bring_population(client, members, points)
        members = await _circles_for(client, members, series)
        for one in series:
            try:
                events = planner.plan(one, members, points)
            except scenario.ScenarioError as exc:
                raise SimulationError(str(exc)) from exc
            if until_minute is not None:
                events = [e for e in events if e.offset_s <= until_minute * 60]
            await _broadcast(client, one, members, events, speed, session, until_minute is None)
        return 0
    except StoreError as exc:
        hints = {
            403: " (creating a session needs an operator token; else pass --session)",
            # Events never start a show: the operator does (开播), before the simulator plays.
            409: " (only a live session takes events: an operator starts it first)",
        }
        hint = hints.get(exc.status, "")
        raise SimulationError(f"store refused: {exc.reason}{hint}") from exc
    except httpx.TransportError as exc:
        raise SimulationError(f"cannot reach the store at {store_url}: {exc}") from exc
    except StoreUnavailable as exc:
        raise SimulationError(f"the store at {store_url} is unavailable: {exc}") from exc
    finally:
        await client.aclose()


async def _broadcast(
    client: StoreClient,
    chosen: scenario.Scenario,
    members: list[dict[str, Any]],
    events: list[planner.PlannedEvent],
    speed: float,
    session: str | None,
    to_the_end: bool = True,
) -> None:
    """One session: create and set it up (operator) or use the given one (a scheduled one is
    set up and started as if made here: the operator's prepared show), then play it (and end
    it, when this run started it and played ``to_the_end``)."""
    created = session is None
    if session is not None:
        # A session the operator prepared (invited to, took reservations for) and has not
        # started: set it up and start it as if this run had made it.
        try:
            info = await client.get_session(session)
        except StoreError as exc:
            if exc.status != 403:
                raise
            info = {}  # an ingest token sends into the session as it is
        created = info.get("status") == SessionStatus.SCHEDULED.value
        if created:
            if chosen.catalog is not None:
                await client.put_catalog(session, chosen.catalog)
            await client.set_status(session, SessionStatus.LIVE.value)
            await _restock(client, session, chosen.restock)
    else:
        invited = planner.audience(chosen, members)
        audience = (
            {"segments": [s.value for s in chosen.audience_segments]}
            if chosen.audience_segments
            else {"tag": chosen.audience_tag}
        )
        info = await client.create_session(
            chosen.title,
            scenario=chosen.name,
            audience={**audience, "reached": len(invited)},
            # Played as fast as it goes, the session keeps the script's time (a rehearsal).
            clock=SessionClock.WALL if speed > 0 else SessionClock.REHEARSAL,
        )
        session = str(info["id"])
        if chosen.catalog is not None:
            await client.put_catalog(session, chosen.catalog)
        await client.set_status(session, SessionStatus.LIVE.value)
        await _restock(client, session, chosen.restock)
    print(f"session {session}", flush=True)
    sent = await play(client, session, events, speed)
    if created and to_the_end:
        await client.set_status(session, "ended")
    print(f"sent {sent} events to session {session}", flush=True)


async def _circles_for(
    client: StoreClient, members: list[dict[str, Any]], series: tuple[scenario.Scenario, ...]
) -> list[dict[str, Any]]:
    """Who is invited by circle goes by the circle the store gave each member; so does who
    may buy in a 秒杀 for some circles, when the token may read the members (an
    operator's), else the demo's own circles stand in."""
    if any(s.audience_segments for s in series):
        return await _with_store_circles(client, members)
    if any(s.flash_buyers for s in series):
        try:
            return await _with_store_circles(client, members)
        except StoreError as exc:
            if exc.status != 403:
                raise
    return members


async def _with_store_circles(
    client: StoreClient, members: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Members with the circle the store's segmentation gave them (who is invited where)."""
    circles: dict[str, str] = {}
    for segment in ("S1", "S2", "S3", "S4", "S5", "S6"):
        offset = 0
        while True:
            page = await client.list_members(segment, limit=500, offset=offset)
            circles.update({m["id"]: segment for m in page["members"]})
            offset += len(page["members"])
            if not page["members"] or offset >= page["total"]:
                break
    return [{**m, "persona": circles.get(str(m["id"]), m.get("persona"))} for m in members]


async def _restock(client: StoreClient, sid: str, targets: Mapping[str, int]) -> None:
    """Bring the scenario's products to their starting stock (a demo store is reused, and
    earlier runs sold from it); logged in the session as the assistant's stock commands."""
    if not targets:
        return
    for card in await client.cards(sid):
        target = targets.get(card["product_id"])
        if target is not None and target != card["stock"]:
            await client.command(
                sid,
                {
                    "type": "adjust_stock",
                    "command_id": f"restock-{sid}-{card['product_id']}",
                    "product_id": card["product_id"],
                    "delta": target - int(card["stock"]),
                    "reason": "开播备货",
                },
            )


async def _bring_population(
    client: StoreClient, members: list[dict[str, Any]], points: list[PickupPoint]
) -> None:
    """Import the scenario's own members and pickup points, as an operator would."""
    body = population.members_csv(members).encode("utf-8")
    await client.import_file("members", body, mapping="member_id=id", filename="members.csv")
    await client.put_pickup_points(
        [
            {"id": p.id, "name": p.name, "leader": p.leader, "lat": p.lat, "lon": p.lon}
            for p in points
        ]
    )
