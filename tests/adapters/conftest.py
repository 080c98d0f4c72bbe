"""Shared parts of the adapter tests: documented payloads and reading a session's log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from console.domain.events import PLATFORM_EVENT_TYPES
from tests.helpers import MAIN_PY, StoreProcess

PLATFORMS = Path(__file__).resolve().parent.parent / "data" / "platforms"


def log_of(store: StoreProcess, sid: str) -> list[dict[str, Any]]:
    with store.client("operator") as client:
        response = client.get(f"/sessions/{sid}/events", params={"after": 0, "limit": 5000})
        response.raise_for_status()
        return list(response.json()["events"])


PLATFORM_TYPES = {t.value for t in PLATFORM_EVENT_TYPES}


def platform_log(store: StoreProcess, sid: str) -> list[dict[str, Any]]:
    """The session's events that came from a platform (not the store's own, nor status)."""
    return [
        e
        for e in log_of(store, sid)
        if e["type"] != "adapter_status" and ":" in e["id"] and e["type"] in PLATFORM_TYPES
    ]


def ingest_file(
    store: StoreProcess, sid: str, source: str, path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(MAIN_PY),
            "ingest-file",
            "--store",
            store.url,
            "--token",
            store.token("ingest"),
            "--source",
            source,
            "--session",
            sid,
            str(path),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
