"""Replay of a big session: loading time, and the time to show any moment.

    QT_QPA_PLATFORM=offscreen python -m tests.bench.bench_replay [--events 1000000]

A real store receives one session of ``events`` room events (joins, leaves, comments, likes
and shares of the 2,000 demo members) through its HTTP ingest, 5,000 a request, as fast as it
takes them. That is a burst (60,000 events a second, where a busy live room sends 2,000), so
the store acknowledges first and indexes after; the time its index needs to catch up once
the sending stops is printed. Then the replay window (offscreen) loads the session and jumps
to 50 random moments.

Printed: the load time (target under 5 s for 1,000,000 events), the time to show a moment
p50/p95/max, from asking the store to the repainted window (target under 100 ms), the same
load after a store restart (the index is rebuilt from the log on first use: not a target,
printed so it is known), and memory of both processes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtWidgets import QApplication

from console.sync.client import StoreClient
from console.ui.app import make_application
from console.ui.replay_window import ReplayController, ReplayWindow
from tests.bench.bench_console import resident_mb
from tests.bench.table import Figure, add_json_option, write_json
from tests.helpers import StoreProcess

KINDS = ("viewer_joined", "comment", "like", "like", "share", "viewer_left", "like", "comment")
BATCH = 5_000
RATE = 300  # events a second of broadcast time


def send_session(store: StoreProcess, events: int) -> tuple[str, float]:
    """One session's log through the store's ingest; the seconds it took."""
    sid = store.new_session("百万事件压测")
    with sqlite3.connect(store.db_path) as conn:
        members = [r[0] for r in conn.execute("SELECT id FROM members")]
    rng = random.Random(3)
    start = time.time() - events / RATE
    began = time.perf_counter()
    with store.client("operator") as http:
        for first in range(0, events, BATCH):
            batch: list[dict[str, Any]] = []
            for n in range(first, min(first + BATCH, events)):
                kind = KINDS[n % len(KINDS)]
                event: dict[str, Any] = {
                    "id": f"r-{n}",
                    "type": kind,
                    "ts": start + n / RATE,
                    "member_id": rng.choice(members),
                }
                if kind == "comment":
                    event["data"] = {"text": "鸡胸肉是冷链配送吗？"}
                batch.append(event)
            answer = http.post(f"/sessions/{sid}/events", json={"events": batch}, timeout=60)
            answer.raise_for_status()
    return sid, time.perf_counter() - began


async def open_replay(store: StoreProcess, sid: str, family: str, jumps: int) -> dict[str, float]:
    """Load the replay window, then jump ``jumps`` times (0: load only)."""
    client = StoreClient(store.url, store.token("operator"))
    controller = ReplayController(client, sid)
    window = ReplayWindow(controller, family)
    window.show()
    try:
        started = time.perf_counter()
        await controller.load()
        load_s = time.perf_counter() - started
        await window.show_seq(controller.last_seq)  # the window asked for the end on loading
        rng = random.Random(5)
        times, fetches = [], []
        for _ in range(jumps):
            seq = rng.randrange(1, controller.last_seq)
            began = time.perf_counter()
            await window.show_seq(seq)
            QApplication.processEvents()  # the repaint is part of showing it
            times.append((time.perf_counter() - began) * 1000)
            fetches.append(window.last_jump_ms - window.last_render_ms)
        figures = {"load_s": load_s, "events": float(controller.last_seq)}
        if times:
            cuts = statistics.quantiles(times, n=20, method="inclusive")
            figures |= {
                "jump_p50_ms": statistics.median(times),
                "jump_p95_ms": cuts[18],
                "jump_max_ms": max(times),
                "render_ms": window.last_render_ms,
                "fetch_p50_ms": statistics.median(fetches),
            }
        return figures
    finally:
        window.close()
        await client.aclose()


def run(events: int, jumps: int) -> dict[str, float]:
    app, family = make_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        store = StoreProcess(Path(tmp) / "bench.db")
        store.start()
        try:
            sid, send_s = send_session(store, events)
            began = time.perf_counter()
            with store.client("operator") as http:  # the index's lag behind the last event
                http.get(f"/sessions/{sid}/replay", timeout=120).raise_for_status()
            lag_s = time.perf_counter() - began
            with loop:
                warm = loop.run_until_complete(open_replay(store, sid, family, jumps))
                store_mb = resident_mb(store.process.pid) if store.process else float("nan")
                store.restart()
                cold = loop.run_until_complete(open_replay(store, sid, family, 0))
        finally:
            store.stop()
    return warm | {
        "send_s": send_s,
        "lag_s": lag_s,
        "cold_load_s": cold["load_s"],
        "store_mb": store_mb,
        "console_mb": resident_mb(),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--jumps", type=int, default=50)
    add_json_option(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    figures = run(args.events, args.jumps)
    print(
        f"replay of one session with {figures['events']:,.0f} events, sent through the "
        f"store's ingest in {figures['send_s']:.0f} s ({args.events / figures['send_s']:,.0f}"
        " ev/s; not timed)"
    )
    rows = [
        ("index behind the last event (burst: deferred)", f"{figures['lag_s']:.2f} s", ""),
        ("load (timeline, stats, cards, sessions)", f"{figures['load_s']:.2f} s", "< 5 s"),
        ("show a moment p50", f"{figures['jump_p50_ms']:.0f} ms", ""),
        ("show a moment p95", f"{figures['jump_p95_ms']:.0f} ms", "< 100 ms"),
        ("show a moment, worst", f"{figures['jump_max_ms']:.0f} ms", ""),
        ("  asking the store for it, p50", f"{figures['fetch_p50_ms']:.0f} ms", ""),
        ("  building the widgets (the last one)", f"{figures['render_ms']:.0f} ms", ""),
        ("load after a store restart (index rebuilt)", f"{figures['cold_load_s']:.2f} s", ""),
        ("store resident memory", f"{figures['store_mb']:.0f} MB", ""),
        ("console resident memory", f"{figures['console_mb']:.0f} MB", ""),
    ]
    for name, value, target in rows:
        print(f"{name:<46} {value:>10}   {target}")
    write_json(args.json, summary(figures))
    return figures


def summary(f: dict[str, float]) -> list[Figure]:
    return [
        Figure(
            "replay",
            f"load, {f['events']:,.0f} events",
            f["load_s"],
            "s",
            target="< 5 s",
            met=f["load_s"] < 5,
        ),
        Figure(
            "replay",
            "show a moment p95",
            f["jump_p95_ms"],
            "ms",
            target="< 100 ms",
            met=f["jump_p95_ms"] < 100,
        ),
        Figure("replay", "index behind the end of the burst", f["lag_s"], "s"),
        Figure("replay", "load after a store restart", f["cold_load_s"], "s"),
        Figure("replay", "store resident memory", f["store_mb"], "MB"),
    ]


if __name__ == "__main__":
    main()
