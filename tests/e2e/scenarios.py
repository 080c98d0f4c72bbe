"""Playing a seed's scenario into a store of its own, once per module: each big scenario
has a file of its own (``./dev test`` distributes by file), so it is never played twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console.domain.orders import OrderStatus
from console.sim.demo_members import ORDER_COLUMNS, follow_up_orders, load_demo_members, to_csv
from console.store.imports import ImportOptions, import_file
from tests.e2e.test_cli import run_main
from tests.helpers import StoreProcess

Played = list[tuple[dict[str, Any], dict[str, Any]]]


def rehearse(
    store: StoreProcess, name: str, home: Path, timeout: float = 240, scale: float = 1.0
) -> list[str]:
    """Play a scenario as fast as it goes (a rehearsal, on its own clock) into ``store`` with
    ``main.py simulate``, ``scale`` of its crowd; the sessions it created, in order."""
    result = run_main(
        "simulate",
        "--store",
        store.url,
        "--token",
        store.token("operator"),
        "--scenario",
        name,
        "--speed",
        "0",
        "--scale",
        str(scale),
        env_home=home,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return [
        line.removeprefix("session ")
        for line in result.stdout.splitlines()
        if line.startswith("session ")
    ]


def simulate_in_own_store(home: Path, name: str, timeout: float, scale: float = 1.0) -> Played:
    """Play a scenario (as fast as it goes, ``scale`` of its crowd) into a fresh store; each
    session and its stats."""
    store = StoreProcess(home / f"{name}.db")
    store.start()
    try:
        sids = rehearse(store, name, home, timeout, scale)
        with store.client("operator") as client:
            return [
                (
                    client.get(f"/sessions/{sid}").json(),
                    client.get(f"/sessions/{sid}/stats", timeout=120).json(),
                )
                for sid in sids
            ]
    finally:
        store.stop()


def import_later_orders(db: Any, sids: list[str], folder: Path) -> list[tuple[str, str, float]]:
    """The buyers of ``sids`` (member, persona, first standing order's time in each session)
    and their orders of the next 30 days, imported as a shop export would be
    (``demo_members.follow_up_orders``); the buyers."""
    personas = {m["id"]: m["persona"] for m in load_demo_members()}
    buyers = [
        (member, personas[member], float(first))
        for member, first in db.execute(
            "SELECT member_id, min(created_at) FROM live_orders "
            f"WHERE status <> ? AND session_id IN ({', '.join('?' * len(sids))}) "
            "GROUP BY session_id, member_id",
            [OrderStatus.CANCELLED.value, *sids],
        ).fetchall()
    ]
    later = folder / "later_orders.csv"
    later.write_text(to_csv(follow_up_orders(buyers), ORDER_COLUMNS), encoding="utf-8")
    assert import_file(db, "orders", later, ImportOptions()).applied
    return buyers
