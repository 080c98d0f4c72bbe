"""Playing a seed's scenario into a store of its own, once per module: each big scenario
has a file of its own (``./dev test`` distributes by file), so it is never played twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
