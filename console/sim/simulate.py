"""``python main.py simulate``: create the session (operator) or use one (ingest), then play."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from console.sim import planner, scenario
from console.sim.demo_members import load_demo_members, load_demo_points
from console.sim.runner import play
from console.sync.client import StoreClient, StoreError


class SimulationError(Exception):
    """The simulation could not run; the message says why."""


async def simulate(
    store_url: str, token: str, scenario_name: str, speed: float, session: str | None
) -> int:
    try:
        chosen = scenario.load(scenario_name)
        events = planner.plan(chosen, load_demo_members(), load_demo_points())
    except scenario.ScenarioError as exc:
        raise SimulationError(str(exc)) from exc

    client = StoreClient(store_url, token)
    try:
        created = session is None
        if created:
            invited = planner.audience(chosen, load_demo_members())
            info = await client.create_session(
                chosen.title,
                scenario=chosen.name,
                audience={"tag": chosen.audience_tag, "reached": len(invited)},
            )
            session = str(info["id"])
            if chosen.catalog is not None:
                await client.put_catalog(session, chosen.catalog)
            await client.set_status(session, "live")
            await _restock(client, session, chosen.restock)
        assert session is not None
        print(f"session {session}", flush=True)
        sent = await play(client, session, events, speed)
        if created:
            await client.set_status(session, "ended")
        print(f"sent {sent} events to session {session}", flush=True)
        return 0
    except StoreError as exc:
        hint = (
            " (creating a session needs an operator token; else pass --session)"
            if exc.status == 403
            else ""
        )
        raise SimulationError(f"store refused: {exc.reason}{hint}") from exc
    except httpx.TransportError as exc:
        raise SimulationError(f"cannot reach the store at {store_url}: {exc}") from exc
    finally:
        await client.aclose()


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
