"""Ingest throughput and ingest-to-SSE latency, against a raw SQLite baseline.

    python -m tests.bench.bench_ingest [--batches 60] [--latency-seconds 10]

1. The HTTP batch endpoint (batches of 1,000 events, one client, keep-alive) against a real
   store process, versus ``sqlite3.executemany`` of the very same rows into the same schema
   with the same pragmas, one transaction per 1,000 rows, measured in the same run.
   Target: the endpoint reaches at least half the raw rate.
2. Time from posting an event to its arrival at an SSE client, at 1,000 events/s
   (10 events every 10 ms). Target: p95 under 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from httpx_sse import connect_sse

from console.store.schema import connect, open_store
from tests.bench.table import Figure, add_json_option, write_json
from tests.helpers import StoreProcess

BATCH = 1_000
# The baseline: the plainest way to put the same rows into the same table.
INSERT_ROW = """
INSERT INTO events (session_id, seq, event_id, type, ts, member_id, segment, koc, nick, data,
                    received_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def make_batches(count: int, prefix: str) -> list[list[dict[str, Any]]]:
    kinds = ("viewer_joined", "comment", "like", "share", "viewer_left")
    now = time.time()
    batches = []
    for b in range(count):
        batch = []
        for i in range(BATCH):
            n = b * BATCH + i
            kind = kinds[n % len(kinds)]
            event: dict[str, Any] = {
                "id": f"{prefix}-{n}",
                "type": kind,
                "ts": now + n / 1000,
                "member_id": f"m{n % 2000 + 1:05d}",
            }
            if kind == "comment":
                event["data"] = {"text": "鸡胸肉是冷链配送吗？"}
            elif kind == "like":
                event["data"] = {"count": 2}
            batch.append(event)
        batches.append(batch)
    return batches


def http_rate(
    store: StoreProcess, sid: str, batches: list[list[dict[str, Any]]], clients: int = 1
) -> float:
    """Events/s through the endpoint, ``clients`` senders each posting batches in turn.

    The senders use keep-alive ``http.client`` connections: a lean client, so the figure is
    the endpoint's and not the sending library's (httpx alone costs ~8 ms per 90 KB post on
    this machine, sharing its two cores with the store).
    """
    bodies = [orjson.dumps({"events": batch}) for batch in batches]
    parsed = urlsplit(store.url)
    headers = {
        "Authorization": f"Bearer {store.token('ingest')}",
        "Content-Type": "application/json",
    }
    path = f"/api/v1/sessions/{sid}/events"
    senders = [HTTPConnection(parsed.hostname, parsed.port, timeout=30) for _ in range(clients)]
    for connection in senders:  # connected and warm before the clock starts
        connection.request("GET", "/api/v1/health")
        connection.getresponse().read()
    shares = [bodies[i::clients] for i in range(clients)]

    def send(connection: HTTPConnection, share: list[bytes]) -> None:
        for body in share:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"ingest answered {response.status}")

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(senders, shares, strict=True)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    for connection in senders:
        connection.close()
    return len(bodies) * BATCH / elapsed


def raw_rate(db_path: Path, batches: list[list[dict[str, Any]]]) -> float:
    """The same rows the store writes, straight into SQLite with executemany."""
    open_store(db_path).close()
    db = connect(db_path)
    conn = db.conn
    conn.execute(
        "INSERT INTO sessions (id, title, status, created_at, last_seq) "
        "VALUES ('raw', 'raw', 'live', 0, 0)"
    )
    received = time.time()
    seq = 0
    prepared = []
    for batch in batches:
        rows = []
        for e in batch:
            seq += 1
            rows.append(
                (
                    "raw",
                    seq,
                    e["id"],
                    e["type"],
                    e["ts"],
                    e["member_id"],
                    "S3",
                    0,
                    "林*",
                    orjson.dumps(e.get("data") or {}).decode(),
                    received,
                )
            )
        prepared.append(rows)
    start = time.perf_counter()
    for rows in prepared:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_ROW, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return len(prepared) * BATCH / elapsed


def sse_latency(store: StoreProcess, sid: str, seconds: float, rate: int = 1_000) -> list[float]:
    """Post ``rate`` events/s (10 per 10 ms) for ``seconds``; latency of each at an SSE reader."""
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    total = int(seconds * rate)
    ready = threading.Event()
    done = threading.Event()

    def reader() -> None:
        headers = {"Authorization": f"Bearer {store.token('host')}"}
        with (
            httpx.Client(timeout=30) as client,
            connect_sse(
                client, "GET", f"{store.url}/api/v1/sessions/{sid}/stream", headers=headers
            ) as source,
        ):
            ready.set()
            for message in source.iter_sse():
                arrived = time.perf_counter()
                event_id = orjson.loads(message.data)["id"]
                latencies.append(arrived - sent_at[event_id])
                if len(latencies) >= total:
                    done.set()
                    return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    ready.wait(10)
    time.sleep(0.2)
    headers = {"Authorization": f"Bearer {store.token('ingest')}"}
    per_tick = rate // 100
    with httpx.Client(base_url=store.url, headers=headers, timeout=30) as client:
        start = time.perf_counter()
        for tick in range(total // per_tick):
            due = start + tick * 0.01
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            batch = [
                {
                    "id": f"lat-{tick}-{i}",
                    "type": "like",
                    "ts": time.time(),
                    "member_id": f"m{(tick * per_tick + i) % 2000 + 1:05d}",
                }
                for i in range(per_tick)
            ]
            now = time.perf_counter()
            for e in batch:
                sent_at[e["id"]] = now
            client.post(f"/api/v1/sessions/{sid}/events", json={"events": batch})
    done.wait(30)
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=60, help="batches of 1,000 events")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    add_json_option(parser)
    args = parser.parse_args(argv)
    batches = make_batches(args.batches, "bench")
    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_rate(Path(tmp) / "raw.db", batches)
        store = StoreProcess(Path(tmp) / "store.db")
        store.start()
        try:
            http = http_rate(store, store.new_session("bench ingest 1"), batches, clients=1)
            http4 = http_rate(
                store, store.new_session("bench ingest 4"), make_batches(args.batches, "c4"), 4
            )
            latencies = sse_latency(store, store.new_session("bench latency"), args.latency_seconds)
        finally:
            store.stop()
    p50 = percentile(latencies, 50) * 1000
    p95 = percentile(latencies, 95) * 1000
    figures = {
        "http_rate": http,
        "http_rate_4": http4,
        "raw_rate": raw,
        "ratio": http / raw,
        "ratio_4": http4 / raw,
        "p50_ms": p50,
        "p95_ms": p95,
        "latency_samples": float(len(latencies)),
    }
    print(
        f"{'figure (batches of 1,000 events)':<38}{'value':>14}{'baseline':>14}{'ratio':>8}"
        f"{'target':>12}"
    )
    print(
        f"{'ingest via HTTP, 1 sender':<38}{http:>12,.0f}/s{raw:>12,.0f}/s"
        f"{http / raw:>8.2f}{'>= 0.50':>12}"
    )
    print(
        f"{'ingest via HTTP, 4 concurrent senders':<38}{http4:>12,.0f}/s{raw:>12,.0f}/s"
        f"{http4 / raw:>8.2f}{'>= 0.50':>12}"
    )
    print(f"{'ingest -> SSE latency p50 (1,000/s)':<38}{p50:>12.1f}ms{'':>14}{'':>8}{'':>12}")
    print(
        f"{'ingest -> SSE latency p95 (1,000/s)':<38}{p95:>12.1f}ms{'':>14}{'':>8}{'< 100 ms':>12}"
    )
    print(f"({len(latencies)} latency samples; baseline: sqlite3.executemany of the same rows)")
    write_json(args.json, summary(figures))
    return figures


def summary(f: dict[str, float]) -> list[Figure]:
    raw = "sqlite3 executemany, same rows"
    return [
        Figure(
            "ingest",
            "events via HTTP, 1 sender",
            f["http_rate"],
            "ev/s",
            f["raw_rate"],
            raw,
            ">= 0.5x baseline",
            f["ratio"] >= 0.5,
        ),
        Figure(
            "ingest",
            "events via HTTP, 4 senders",
            f["http_rate_4"],
            "ev/s",
            f["raw_rate"],
            raw,
            ">= 0.5x baseline",
            f["ratio_4"] >= 0.5,
        ),
        Figure(
            "ingest",
            "ingest to SSE latency p95",
            f["p95_ms"],
            "ms",
            target="< 100 ms",
            met=f["p95_ms"] < 100,
        ),
    ]


if __name__ == "__main__":
    main()
