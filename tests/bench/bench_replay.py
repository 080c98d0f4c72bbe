"""Replay of a big session: loading time, and the time to show any moment.

    QT_QPA_PLATFORM=offscreen python -m tests.bench.bench_replay [--events 1000000]

A store gets one session of ``events`` room events (joins, leaves, comments, likes, shares of
the 2,000 demo members, plus orders every few hundred events; built directly, not timed). The
replay window (offscreen) then loads it from the store over HTTP, and jumps to 50 random
moments. Printed: the load time (target under 5 s for 1,000,000 events), the time to show a
moment p50/p95/max including the repaint (target under 100 ms), the checkpoints kept and the
process's memory.
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

from console.store.repository import append_events
from console.store.schema import connect
from console.sync.client import StoreClient
from console.ui.app import make_application
from console.ui.memory import freeze_long_lived_objects
from console.ui.replay_window import ReplayController, ReplayWindow
from tests.bench.bench_console import resident_mb
from tests.helpers import StoreProcess

KINDS = ("viewer_joined", "comment", "like", "like", "share", "viewer_left", "like", "comment")
BATCH = 5_000


def build_session(store: StoreProcess, events: int) -> str:
    sid = store.new_session("百万事件压测")
    with sqlite3.connect(store.db_path) as conn:
        members = [r[0] for r in conn.execute("SELECT id FROM members")]
    rng = random.Random(3)
    db = connect(store.db_path)
    start = time.time() - events / 300  # 300 events a second of broadcast time
    try:
        for first in range(0, events, BATCH):
            batch: list[dict[str, Any]] = []
            for n in range(first, min(first + BATCH, events)):
                kind = KINDS[n % len(KINDS)]
                event: dict[str, Any] = {
                    "id": f"r-{n}",
                    "type": kind,
                    "ts": start + n / 300,
                    "member_id": rng.choice(members),
                }
                if kind == "comment":
                    event["data"] = {"text": "鸡胸肉是冷链配送吗？"}
                batch.append(event)
            append_events(db, sid, batch)
    finally:
        db.close()
    return sid


def run(events: int, jumps: int) -> dict[str, float]:
    app, family = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        store = StoreProcess(Path(tmp) / "bench.db")
        store.start()
        try:
            built = time.perf_counter()
            sid = build_session(store, events)
            build_s = time.perf_counter() - built
            client = StoreClient(store.url, store.token("operator"))
            controller = ReplayController(client, sid)
            window = ReplayWindow(controller, family)
            window.show()
            freeze_long_lived_objects()

            async def scenario() -> dict[str, float]:
                started = time.perf_counter()
                await controller.load()
                load_s = time.perf_counter() - started
                QApplication.processEvents()
                rng = random.Random(5)
                times = []
                for _ in range(jumps):
                    seq = rng.randrange(1, controller.replay.last_seq if controller.replay else 1)
                    began = time.perf_counter()
                    window.show_seq(seq)
                    QApplication.processEvents()  # the repaint is part of showing it
                    times.append((time.perf_counter() - began) * 1000)
                await client.aclose()
                window.close()
                cuts = statistics.quantiles(times, n=20, method="inclusive")
                return {
                    "events": float(len(controller.events)),
                    "build_s": build_s,
                    "load_s": load_s,
                    "server_stats_s": controller.timings.get("stats", 0.0),
                    "fetch_s": controller.timings.get("fetch", 0.0),
                    "fold_s": controller.timings.get("fold", 0.0),
                    "jump_p50_ms": statistics.median(times),
                    "jump_p95_ms": cuts[18],
                    "jump_max_ms": max(times),
                    "checkpoints": float(controller.replay.checkpoints if controller.replay else 0),
                    "rss_mb": resident_mb(),
                }

            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                return loop.run_until_complete(scenario())
        finally:
            store.stop()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--jumps", type=int, default=50)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    figures = run(args.events, args.jumps)
    print(
        f"replay of one session with {figures['events']:,.0f} events (built in "
        f"{figures['build_s']:.0f} s, not timed)"
    )
    rows = [
        ("load (log over HTTP, checkpoints, timeline)", f"{figures['load_s']:.2f} s", "< 5 s"),
        ("  reading the log over HTTP", f"{figures['fetch_s']:.2f} s", ""),
        ("  one fold: checkpoints and timeline", f"{figures['fold_s']:.2f} s", ""),
        ("  waiting for the store's /stats after that", f"{figures['server_stats_s']:.2f} s", ""),
        ("show a moment p50", f"{figures['jump_p50_ms']:.0f} ms", ""),
        ("show a moment p95", f"{figures['jump_p95_ms']:.0f} ms", "< 100 ms"),
        ("show a moment, worst", f"{figures['jump_max_ms']:.0f} ms", ""),
        ("checkpoints kept", f"{figures['checkpoints']:.0f}", ""),
        ("resident memory", f"{figures['rss_mb']:.0f} MB", ""),
    ]
    for name, value, target in rows:
        print(f"{name:<46} {value:>10}   {target}")
    return figures


if __name__ == "__main__":
    main()
