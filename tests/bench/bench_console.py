"""The live console under a busy room: a real store, a real window (offscreen), 2,000 ev/s.

    QT_QPA_PLATFORM=offscreen python -m tests.bench.bench_console [--rate 2000] [--seconds 60]

A sender thread posts room events (joins, leaves, comments, likes, shares from the demo
members) at ``rate`` per second in batches every 50 ms, each stamped with its send time. The
console follows the session over SSE and redraws on its timer. Printed:

- event-to-screen latency p50/p95: from an event's send time to the end of the redraw that
  shows it (target p95 under 100 ms, issue 13);
- the longest stall of the UI event loop: the worst lateness of a 10 ms heartbeat timer
  (target under 50 ms);
- frames drawn per second (window repaints) and redraws per second;
- resident memory of the console process at the end.

The store runs in its own process (as in production); the console and the sender share this
one, on a 2-core machine with the store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import qasync
from PySide6.QtCore import QEvent, QObject, QTimer

from console.sync.follower import LinkStatus
from console.ui.app import build_live, make_application
from console.ui.memory import freeze_long_lived_objects
from tests.bench.table import Figure, add_json_option, write_json
from tests.helpers import StoreProcess

BATCH_EVERY_S = 0.05
HEARTBEAT_MS = 10
KINDS = ("viewer_joined", "comment", "like", "like", "like", "share", "viewer_left", "comment")
LINES = ("樱桃是车厘子吗？", "鸡胸肉是冷链配送吗？", "已经在群里接龙了", "小林老师讲得好清楚")


def resident_mb(pid: int | str = "self") -> float:
    """Resident memory of a process (this one by default), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def catch_up_and_close(
    live: Any, window: Any, task: asyncio.Future[None], last_seq: int, within_s: float
) -> int:
    """Let the console fold up to ``last_seq`` (``within_s`` at most), then stop following
    and close its window; the seq it reached."""
    deadline = time.monotonic() + within_s
    for _ in range(int(within_s / 0.05)):  # polled: the fold happens on the redraw timer
        if live.state.seq >= last_seq or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    shown = int(live.state.seq)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await live.stop()
    window.close()
    return shown


class Sender(threading.Thread):
    """Posts ``rate`` events a second until stopped; lean keep-alive HTTP (http.client)."""

    def __init__(self, store: StoreProcess, sid: str, members: list[str], rate: int) -> None:
        super().__init__(daemon=True)
        self.url = urlsplit(store.url)
        self.path = f"/api/v1/sessions/{sid}/events"
        self.headers = {
            "Authorization": f"Bearer {store.token('ingest')}",
            "Content-Type": "application/json",
        }
        self.members = members
        self.per_batch = max(1, round(rate * BATCH_EVERY_S))
        self.stop_flag = threading.Event()
        self.sent = 0
        self.late_batches = 0

    def run(self) -> None:
        rng = random.Random(7)
        conn = HTTPConnection(self.url.hostname or "127.0.0.1", self.url.port, timeout=30)
        due = time.monotonic()
        n = 0
        while not self.stop_flag.is_set():
            now = time.time()
            batch = []
            for _ in range(self.per_batch):
                kind = KINDS[n % len(KINDS)]
                event: dict[str, Any] = {
                    "id": f"bench-{n}",
                    "type": kind,
                    "ts": now,
                    "member_id": rng.choice(self.members),
                }
                if kind == "comment":
                    event["data"] = {"text": rng.choice(LINES)}
                batch.append(event)
                n += 1
            conn.request(
                "POST", self.path, body=orjson.dumps({"events": batch}), headers=self.headers
            )
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"ingest refused: {response.status}")
            self.sent += len(batch)
            due += BATCH_EVERY_S
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                self.late_batches += 1
        conn.close()


class FrameCounter(QObject):
    """Counts the window's repaints (each is a frame on screen)."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.UpdateRequest:
            self.frames += 1
        return False


def run(rate: int, seconds: float) -> dict[str, float]:
    app, family = make_application()
    with tempfile.TemporaryDirectory() as tmp:
        store = StoreProcess(Path(tmp) / "bench.db")
        with sqlite3.connect(store.db_path) as conn:
            members = [r[0] for r in conn.execute("SELECT id FROM members")]
        store.start()
        try:
            sid = store.new_session("压测直播间")
            live, window = build_live(
                store.url, store.token("host"), Path(tmp) / "cache.db", family, Path(tmp) / "ob.db"
            )
            latencies: list[float] = []
            redraws = 0
            original_tick = live._on_timer_tick

            def measured_tick() -> None:
                nonlocal redraws
                batch = list(live._pending)
                original_tick()  # folds and emits room_changed: the window redraws in it
                if batch:
                    redraws += 1
                    done = time.time()
                    latencies.extend(done - e.ts for e in batch)

            live._timer.timeout.disconnect()
            live._timer.timeout.connect(measured_tick)
            frames = FrameCounter()
            window.installEventFilter(frames)
            gaps: list[float] = []
            last_beat = t0 = time.perf_counter()

            def beat() -> None:
                nonlocal last_beat
                now = time.perf_counter()
                gaps.append(now - last_beat)
                if os.environ.get("BENCH_TRACE") and now - last_beat > 0.04:
                    print(f"stall {1000 * (now - last_beat):.0f} ms at {now - t0:.2f} s")
                last_beat = now

            heartbeat = QTimer()
            heartbeat.setInterval(HEARTBEAT_MS)
            heartbeat.timeout.connect(beat)
            window.show()
            freeze_long_lived_objects()  # as run_window does

            async def scenario() -> dict[str, float]:
                nonlocal last_beat
                connected = asyncio.Event()
                live.link_changed.connect(
                    lambda status, _detail: status == LinkStatus.LIVE.value and connected.set()
                )
                task = asyncio.ensure_future(live.run(sid))
                await connected.wait()
                sender = Sender(store, sid, members, rate)
                latencies.clear()
                frames.frames = 0
                last_beat = time.perf_counter()
                heartbeat.start()
                sender.start()
                started = time.perf_counter()
                await asyncio.sleep(seconds)
                sender.stop_flag.set()
                sender.join()
                elapsed = time.perf_counter() - started
                heartbeat.stop()
                shown = await catch_up_and_close(live, window, task, sender.sent, 10.0)
                return {
                    "sent": sender.sent,
                    "shown": shown,
                    "rate": sender.sent / elapsed,
                    "late_batches": sender.late_batches,
                    "seconds": elapsed,
                }

            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            with loop:
                outcome = loop.run_until_complete(scenario())
            if live.cache is not None:
                live.cache.close()
            if live.outbox is not None:
                live.outbox.close()
        finally:
            store.stop()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    worst_gap = max(gaps) if gaps else 0.0
    return {
        **outcome,
        "latency_p50_ms": cuts[49] * 1000,
        "latency_p95_ms": cuts[94] * 1000,
        "stall_ms": max(0.0, worst_gap * 1000 - HEARTBEAT_MS),
        "fps": frames.frames / outcome["seconds"],
        "redraws_per_s": redraws / outcome["seconds"],
        "rss_mb": resident_mb(),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=2_000, help="events per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    add_json_option(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    figures = run(args.rate, args.seconds)
    rows = [
        ("events sent (rate)", f"{figures['sent']:,.0f}", f"{figures['rate']:,.0f}/s", ""),
        ("events shown by the console", f"{figures['shown']:,.0f}", "", "= sent"),
        ("event-to-screen latency p50", f"{figures['latency_p50_ms']:.0f} ms", "", ""),
        ("event-to-screen latency p95", f"{figures['latency_p95_ms']:.0f} ms", "", "< 100 ms"),
        ("longest UI stall (10 ms heartbeat)", f"{figures['stall_ms']:.0f} ms", "", "< 50 ms"),
        ("frames drawn per second", f"{figures['fps']:.1f}", "", ""),
        ("redraws per second", f"{figures['redraws_per_s']:.1f}", "", "~10"),
        ("resident memory at the end", f"{figures['rss_mb']:.0f} MB", "", ""),
    ]
    print(f"console under {args.rate:,} events/s for {args.seconds:.0f} s (offscreen)")
    for name, value, extra, target in rows:
        print(f"{name:<36} {value:>12} {extra:>10}   {target}")
    write_json(args.json, summary(figures))
    return figures


def summary(f: dict[str, float]) -> list[Figure]:
    return [
        Figure(
            "console",
            "events lost (sent - shown)",
            f["sent"] - f["shown"],
            "",
            target="= 0",
            met=f["sent"] == f["shown"],
        ),
        Figure(
            "console",
            "event-to-screen latency p95",
            f["latency_p95_ms"],
            "ms",
            target="< 100 ms",
            met=f["latency_p95_ms"] < 100,
        ),
        Figure(
            "console",
            "longest UI stall",
            f["stall_ms"],
            "ms",
            target="< 50 ms",
            met=f["stall_ms"] < 50,
        ),
        Figure("console", "frames drawn per second", f["fps"], "/s"),
        Figure("console", "console resident memory", f["rss_mb"], "MB"),
    ]


if __name__ == "__main__":
    main()
