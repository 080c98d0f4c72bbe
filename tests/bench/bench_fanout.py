"""Fan-out: one session's SSE stream to many consoles at once, on a real store.

    python -m tests.bench.bench_fanout [--clients 1000] [--rate 500] [--seconds 20]
                                       [--stuck 100] [--client-procs 2]

A sender thread posts ``rate`` events a second (batches every 20 ms, each event stamped with
its send time) while ``clients`` SSE streams follow the session. The clients live in
``client-procs`` processes of their own, on raw asyncio sockets that look only at each
frame's ``id`` and the stamp, so the client side stays cheap on a 2-core machine. Printed:

- event-to-client latency p50/p95/max over every event at every client (targets on this
  2-core machine: p95 < 100 ms, max < 250 ms);
- events lost: every client must get every seq, in order, exactly once;
- the store process's CPU seconds and peak resident memory (target < 400 MB);
- a second phase with ``stuck`` more clients that never read: the others keep their
  latency, the stuck ones are cut off and the store's memory stays bounded.

Run as ``--client`` it is one of the client processes (driven over stdin/stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from tests.bench.table import Figure, add_json_option, write_json

BATCH_EVERY_S = 0.02
DRAIN_S = 20.0  # after the last post, how long clients may take to reach the last seq
CUT_WAIT_S = 25.0  # a stuck client is closed by the store within its cut-off grace


# -- the client processes ----------------------------------------------------------------


class Reader(asyncio.Protocol):
    """One SSE client: checks the seqs are contiguous and histograms each event's latency."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.started = False
        self.next_seq = fleet.after + 1
        self.received = 0
        self.disorder = 0
        self.closed = False
        self.cut = False  # the store said why it ended the stream
        self.raw = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.fleet.request)

    def data_received(self, data: bytes) -> None:
        # Cheap on purpose (a thousand of these share two cores with the store): no copy,
        # no parsing of the events; a read is noted as (first seq, last seq, time) and the
        # latency of each event is worked out at the end from the sender's stamps.
        now = time.time()
        if self.buffer:
            data, self.buffer = self.buffer + data, b""
        if not self.started:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if not sep:
                self.buffer = data
                return
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            self.started = True
            self.fleet.on_started(self)
            data = rest
        if self.fleet.stuck:
            return
        end = data.rfind(b"\n\n") + 2
        if end < 2:
            self.buffer = data
            return
        if end < len(data):
            self.buffer = data[end:]
        count = data.count(b"id: ", 0, end)  # JSON here has no "id: " (no spaces)
        if count:
            at = data.find(b"id: ", 0, end) + 4
            first = int(data[at : data.find(b"\n", at)])
            at = data.rfind(b"id: ", 0, end) + 4
            last = int(data[at : data.find(b"\n", at)])
            if first != self.next_seq or last - first + 1 != count:
                self.disorder += 1
            self.next_seq = last + 1
            self.received += count
            self.fleet.reads.extend((first, last, now))
            self.fleet.on_progress(self)
        if b"event: error" in data:
            self.cut = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.fleet.on_progress(self)


class Fleet:
    """The clients of one process."""

    def __init__(self, url: str, sid: str, token: str, after: int, stuck: bool) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.after = after
        self.stuck = stuck
        self.request = (
            f"GET /api/v1/sessions/{sid}/stream?after={after} HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        self.reads = array("d")  # (first seq, last seq, time received), flat
        self.readers: list[Reader] = []
        self.sockets: list[socket.socket] = []
        self.started = 0
        self.all_started = asyncio.Event()
        self.target = 0
        self.done = asyncio.Event()

    def on_started(self, reader: Reader) -> None:
        self.started += 1
        if self.started == len(self.readers):
            self.all_started.set()
        if self.stuck:
            assert reader.transport is not None
            reader.transport.pause_reading()

    def on_progress(self, _reader: Reader) -> None:
        if self.stuck:
            if all(r.closed for r in self.readers):
                self.done.set()
        elif self.target and all(r.next_seq > self.target or r.closed for r in self.readers):
            self.done.set()

    async def connect(self, count: int) -> None:
        loop = asyncio.get_running_loop()
        self.readers = [Reader(self) for _ in range(count)]
        for reader in self.readers:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if self.stuck:  # a small window, set before the handshake: sends back up soon
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            self.sockets.append(sock)  # kept: the loop uses it, a collected one would close
            await loop.sock_connect(sock, (self.host, self.port))
            await loop.create_connection(lambda r=reader: r, sock=sock)  # type: ignore[misc]
        await self.all_started.wait()

    def latency(self, batches: list[tuple[int, int, float]]) -> collections.Counter[int]:
        """Per event, ms from its batch's send stamp to the read that brought it."""
        firsts = [b[0] for b in batches]
        histogram: collections.Counter[int] = collections.Counter()
        reads = self.reads
        for n in range(0, len(reads), 3):
            first, last, at = int(reads[n]), int(reads[n + 1]), reads[n + 2]
            k = max(0, bisect.bisect_right(firsts, first) - 1)
            while k < len(batches) and batches[k][0] <= last:
                low, high, stamp = batches[k]
                overlap = min(high, last) - max(low, first) + 1
                if overlap > 0:
                    histogram[int((at - stamp) * 1000)] += overlap
                k += 1
        return histogram

    async def finish(self, target: int, batches: list[tuple[int, int, float]]) -> dict[str, Any]:
        if self.stuck:  # read again: a stream the store cut off ends (EOF)
            for reader in self.readers:
                assert reader.transport is not None
                reader.transport.resume_reading()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), CUT_WAIT_S)
        else:
            self.target = target
            self.on_progress(self.readers[0])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), DRAIN_S)
        result = {
            "clients": len(self.readers),
            "lost": sum(max(0, target - (r.next_seq - 1)) for r in self.readers),
            "disorder": sum(r.disorder for r in self.readers),
            "received": sum(r.received for r in self.readers),
            "closed": sum(r.closed for r in self.readers),
            "cut": sum(r.cut for r in self.readers),
            "latency": dict(self.latency(batches)),
        }
        for reader in self.readers:
            assert reader.transport is not None
            reader.transport.close()
        return result


def _read_end() -> tuple[int, list[tuple[int, int, float]]]:
    """The driver's "end LAST_SEQ TABLE": the last seq sent and the file of batch stamps."""
    _, target, table = sys.stdin.readline().split()
    return int(target), orjson.loads(Path(table).read_bytes())


async def client_main(args: argparse.Namespace) -> None:
    fleet = Fleet(args.url, args.sid, args.token, args.after, args.stuck)
    await fleet.connect(args.count)
    print("ready", flush=True)
    target, batches = await asyncio.get_running_loop().run_in_executor(None, _read_end)
    result = await fleet.finish(target, batches)
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
    sys.stdout.flush()


# -- the driver --------------------------------------------------------------------------


class Sender(threading.Thread):
    """Posts ``rate`` events a second, each stamped with its send time (``data.t``)."""

    def __init__(self, url: str, sid: str, token: str, rate: int, seconds: float) -> None:
        super().__init__(daemon=True)
        self.url = urlsplit(url)
        self.path = f"/api/v1/sessions/{sid}/events"
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.rate = rate
        self.seconds = seconds
        self.batches: list[tuple[int, int, float]] = []  # (first seq, last seq, stamp)
        self.last_seq = 0
        self.sent = 0
        self.late = 0

    def run(self) -> None:
        conn = HTTPConnection(self.url.hostname or "127.0.0.1", self.url.port, timeout=30)
        started = time.monotonic()
        due = started
        total = round(self.rate * self.seconds)
        b = 0
        while self.sent < total:
            # What is due by now: a late post carries more, so the rate holds.
            count = min(total, max(1, round(self.rate * (time.monotonic() - started)))) - self.sent
            if count <= 0:
                count = 1
            now = time.time()
            batch = [
                {
                    "id": f"fan-{b}-{n}-{now}",
                    "type": "like",
                    "ts": now,
                    "member_id": f"m{n % 500 + 1:05d}",
                    "data": {"t": now},
                }
                for n in range(count)
            ]
            body = orjson.dumps({"events": batch})
            conn.request("POST", self.path, body=body, headers=self.headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status != 200:
                raise RuntimeError(f"ingest refused: {response.status} {answer[:200]!r}")
            result = orjson.loads(answer)
            self.last_seq = result["last_seq"]
            self.batches.append((self.last_seq - result["accepted"] + 1, self.last_seq, now))
            self.sent += len(batch)
            b += 1
            due += BATCH_EVERY_S
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                self.late += 1
        conn.close()


class Watch(threading.Thread):
    """Samples a process's resident memory; its CPU seconds between start and stop."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self.stop_flag = threading.Event()
        self.cpu_start = cpu_seconds(pid)
        self.cpu = 0.0

    def run(self) -> None:
        while not self.stop_flag.wait(0.2):
            self.peak_mb = max(self.peak_mb, resident_mb(self.pid))

    def stop(self) -> None:
        self.stop_flag.set()
        self.join()
        self.peak_mb = max(self.peak_mb, resident_mb(self.pid))
        self.cpu = cpu_seconds(self.pid) - self.cpu_start


def resident_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(histogram: collections.Counter[int], q: float) -> float:
    total = sum(histogram.values())
    if not total:
        return float("nan")
    rank = q * (total - 1)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen > rank:
            return float(value)
    return float(max(histogram))


def spawn_clients(
    url: str, sid: str, token: str, after: int, count: int, stuck: bool = False
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.bench.bench_fanout", "--client"]
    command += ["--url", url, "--sid", sid, "--token", token, "--after", str(after)]
    command += ["--count", str(count)] + (["--stuck-client"] if stuck else [])
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def run_phase(
    workdir: Path,
    store: Any,
    sid: str,
    clients: int,
    procs: int,
    stuck: int,
    rate: int,
    seconds: float,
) -> dict[str, Any]:
    with store.client() as client:
        after = client.get(f"/sessions/{sid}/events", params={"limit": 1}).json()["last_seq"]
    token = store.token("host")
    sizes = [clients // procs + (1 if n < clients % procs else 0) for n in range(procs)]
    fleets = [spawn_clients(store.url, sid, token, after, n) for n in sizes if n]
    if stuck:
        fleets.append(spawn_clients(store.url, sid, token, after, stuck, stuck=True))
    for fleet in fleets:
        assert fleet.stdout is not None
        if fleet.stdout.readline().strip() != "ready":
            raise RuntimeError("a client process failed to connect")
    assert store.process is not None
    watch = Watch(store.process.pid)
    watch.start()
    sender = Sender(store.url, sid, store.token("ingest"), rate, seconds)
    sender.start()
    sender.join()
    results = []
    table = workdir / "batches.json"
    table.write_bytes(orjson.dumps(sender.batches))
    for fleet in fleets:
        assert fleet.stdin is not None
        fleet.stdin.write(f"end {sender.last_seq} {table}\n")
        fleet.stdin.flush()
    for fleet in fleets:
        assert fleet.stdout is not None
        results.append(orjson.loads(fleet.stdout.readline()))
        fleet.wait(30)
    watch.stop()
    readers = results[: len(results) - (1 if stuck else 0)]
    latency: collections.Counter[int] = collections.Counter()
    for r in readers:
        latency.update({int(k): v for k, v in r["latency"].items()})
    return {
        "clients": clients,
        "seconds": seconds,
        "sent": sender.sent,
        "late_batches": sender.late,
        "received": sum(r["received"] for r in readers),
        "lost": sum(r["lost"] for r in readers),
        "disorder": sum(r["disorder"] for r in readers),
        "p50_ms": percentile(latency, 0.50),
        "p95_ms": percentile(latency, 0.95),
        "max_ms": float(max(latency)) if latency else float("nan"),
        "cpu_s": watch.cpu,
        "peak_mb": watch.peak_mb,
        "stuck": stuck,
        "stuck_cut": results[-1]["closed"] if stuck else 0,
    }


def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from tests.helpers import StoreProcess

    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")  # the store's log, kept apart
        store = StoreProcess(Path(tmp) / "store.db")
        store.start()
        try:
            sid = store.new_session("扇出压测")
            with store.client() as client:
                client.patch(f"/sessions/{sid}", json={"status": "live"})
            phases = {
                "all read": run_phase(
                    Path(tmp),
                    store,
                    sid,
                    args.clients,
                    args.client_procs,
                    0,
                    args.rate,
                    args.seconds,
                )
            }
            if args.stuck:
                phases["with stuck"] = run_phase(
                    Path(tmp),
                    store,
                    sid,
                    args.clients,
                    args.client_procs,
                    args.stuck,
                    args.rate,
                    args.seconds,
                )
        finally:
            store.stop()
        from console.logs import log_file

        logged = log_file().read_text(encoding="utf-8")
        for phase in phases.values():
            phase["tracebacks"] = logged.count("Traceback")
            phase["cut_logged"] = logged.count("cut off: reader too slow")
    return phases


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000)
    parser.add_argument("--rate", type=int, default=500, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--stuck", type=int, default=100, help="clients that never read")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    for name in ("--url", "--sid", "--token"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--after", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--stuck-client", action="store_true", help=argparse.SUPPRESS)
    add_json_option(parser)
    args = parser.parse_args(argv)
    if args.client:
        args.stuck = args.stuck_client
        _run_client(args)
        return {}
    phases = run(args)
    print(
        f"fan-out: {args.clients:,} SSE clients in {args.client_procs} processes, "
        f"{args.rate:,} events/s for {args.seconds:.0f} s"
    )
    for name, p in phases.items():
        print(
            f"{name:<11} sent {p['sent']:,} (late batches {p['late_batches']}), "
            f"received {p['received']:,}, lost {p['lost']:,}, out of order {p['disorder']}; "
            f"latency p50 {p['p50_ms']:.0f} ms, p95 {p['p95_ms']:.0f} ms, max "
            f"{p['max_ms']:.0f} ms; store CPU {p['cpu_s']:.1f} s, peak RSS {p['peak_mb']:.0f} MB"
            + (f"; stuck clients cut off {p['stuck_cut']}/{p['stuck']}" if p["stuck"] else "")
        )
    last = list(phases.values())[-1]
    print(f"store log: {last['tracebacks']} tracebacks, {last['cut_logged']} cut-off lines")
    write_json(args.json, summary(phases))
    return phases


def _run_client(args: argparse.Namespace) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of the store
        asyncio.run(client_main(args))
    else:
        uvloop.run(client_main(args))


def summary(phases: dict[str, dict[str, Any]]) -> list[Figure]:
    p = phases["all read"]
    figures = [
        Figure(
            "fanout",
            "events lost (all clients)",
            p["lost"] + p["disorder"],
            "",
            target="= 0",
            met=p["lost"] == 0 and p["disorder"] == 0,
        ),
        Figure("fanout", f"latency p50, {p['clients']:,} clients", p["p50_ms"], "ms"),
        Figure(
            "fanout",
            f"latency p95, {p['clients']:,} clients",
            p["p95_ms"],
            "ms",
            target="< 100 ms",
            met=p["p95_ms"] < 100,
        ),
        Figure(
            "fanout",
            f"latency max, {p['clients']:,} clients",
            p["max_ms"],
            "ms",
            target="< 250 ms",
            met=p["max_ms"] < 250,
        ),
        Figure("fanout", f"store CPU seconds over {p['seconds']:.0f} s", p["cpu_s"], "s"),
        Figure(
            "fanout",
            "store peak memory",
            p["peak_mb"],
            "MB",
            target="< 400 MB",
            met=p["peak_mb"] < 400,
        ),
    ]
    if "with stuck" in phases:
        s = phases["with stuck"]
        figures += [
            Figure(
                "fanout",
                f"latency p95 beside {s['stuck']} stuck",
                s["p95_ms"],
                "ms",
                baseline=p["p95_ms"],
                baseline_name="none stuck",
                target="< 100 ms",
                met=s["p95_ms"] < 100,
            ),
            Figure(
                "fanout",
                "stuck clients cut off",
                s["stuck_cut"],
                "",
                target=f"= {s['stuck']}",
                met=s["stuck_cut"] == s["stuck"],
            ),
            Figure(
                "fanout",
                "events lost beside stuck",
                s["lost"] + s["disorder"],
                "",
                target="= 0",
                met=s["lost"] == 0 and s["disorder"] == 0,
            ),
            Figure(
                "fanout",
                "store peak memory with stuck",
                s["peak_mb"],
                "MB",
                target="< 400 MB",
                met=s["peak_mb"] < 400,
            ),
        ]
    figures.append(
        Figure(
            "fanout",
            "tracebacks in the store log",
            list(phases.values())[-1]["tracebacks"],
            "",
            target="= 0",
            met=list(phases.values())[-1]["tracebacks"] == 0,
        )
    )
    return figures


if __name__ == "__main__":
    main()
