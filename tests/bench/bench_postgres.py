"""The store on PostgreSQL: next to SQLite, two store processes on one database, many rooms.

    python -m tests.bench.bench_postgres [--batches 50] [--stats-events 100000]
        [--members 2000] [--buyers 400] [--senders 32]
        [--clients 500] [--rate 500] [--seconds 10] [--rooms 800] [--room-seconds 20]

The bench starts a throwaway PostgreSQL server of its own (``tools/pg_server.sh``, in a
temporary directory, stopped at the end, also on error or SIGTERM) unless
``STORE_TEST_POSTGRES`` names one. Every store below is a real ``main.py serve`` process
over a copy of the seeded demo (``tests.helpers.StoreProcess``).

1. Both backends in the same run, PostgreSQL against SQLite (the baseline): HTTP ingest of
   ``bench_ingest``'s batches of 1,000 events (a fifth of them comments) with 1 and with 4
   senders (``bench_ingest.http_rate``), and with 1 sender once more with every comment
   made a like; ``GET /stats`` of the 1-sender session (topped up to ``stats-events``
   events, untimed) right after its burst: the first call, which waits for the replay
   index to catch up, and the median of three more; offer matching per member over HTTP, p99
   (``bench_commerce.http_matching``); 400 buyers from 32 connections racing for one
   product's stock (``bench_commerce.buy_all``; oversold counted, must be 0). Targets:
   PostgreSQL ingest >= 0.5x SQLite, orders >= 0.7x SQLite.
2. Two store processes A (the one of part 1) and B on one PostgreSQL database (B is
   ``StoreProcess(url, seed=False)``): ``rate`` events/s posted to A (``bench_fanout.Sender``)
   while ``clients`` SSE clients follow the session on B (``bench_fanout``'s client
   processes): event-to-client p95 from each batch's send stamp (target < 150 ms) and events
   lost (= 0). Then the buyers order one product of limited stock through A and B at once
   (half the connections each): oversold must be 0.
3. Every 团长's room at once: ``rooms`` live sessions, each sent 20 events/s (4 of them
   comments) as a real ingest adapter would, one POST per session per second carrying its
   20 events (the posts spread evenly over each second, from 32 sender threads), half the
   sessions through A and half through B, with one SSE client per session on the other
   process. Ingest lag runs from a post's scheduled time to its HTTP answer (target p95
   < 1 s: the store keeps up; the events of a post wait up to a second before it, in the
   adapter, which is not counted); event-to-client latency from the post's send stamp to
   the client's read. The database grows by ``pg_database_size`` per million events
   appended (WAL not counted).

   800 rooms x 20 events/s is 16,000 events/s in 800 posts/s. It is NOT reached on the
   2-core machine of the README's table, where PostgreSQL, both store processes, the 800
   SSE clients and the sender share the two cores: the first full run appended about 1,100
   events/s (7 % of the offered rate) and the lag grew to tens of seconds. The bench does
   not pretend otherwise: the run lasts a fixed ``room-seconds`` of schedule, the senders
   post late what they could not post on time, posts still unsent ``LATE_CUTOFF_S`` after
   the schedule's end are dropped (counted; the lag target then counts as missed), and the
   table gives the rate achieved against the rate offered and the lag as measured.

   Why PostgreSQL ingest is so much slower here (the store's business, not the bench's):
   the store appends a comment on its own, with its reactions (``platform.Reactor``), so
   a batch is cut into a transaction step per comment, each several statements and a
   NOTIFY; SQLite does those in process, PostgreSQL pays a round trip for each, and the
   store's one writer waits for every one of them. Without comments ("no comments" above)
   PostgreSQL ingests about 8 times faster.

Run as ``--room-clients`` it is one of the client processes of part 3 (driven over
stdin/stdout, as ``bench_fanout --client``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from tests.bench.bench_fanout import Fleet, Sender, percentile, spawn_clients
from tests.bench.table import Figure, add_json_option, write_json

if TYPE_CHECKING:
    from tests.helpers import StoreProcess

# The store's modules (tests.helpers and the other benches) are imported where they are
# used: the room client processes need none of them, and start faster without.
ENV = "STORE_TEST_POSTGRES"  # tests.backends.ENV, without importing pytest here
PG_SERVER = Path(__file__).resolve().parents[2] / "tools" / "pg_server.sh"
ROOM_RATE = 20  # events per second per room
ROOM_SENDER_THREADS = 32
LATE_CUTOFF_S = 10.0  # posts still not sent this long after the schedule's end are dropped
DRAIN_S = 30.0


# -- the server and the backend ------------------------------------------------------------


class PostgresServer:
    """The admin URL of ``STORE_TEST_POSTGRES``, or of a throwaway server started in the
    background (``start``; ``admin_url`` waits for it) and stopped, its directory removed,
    by ``stop``."""

    def __init__(self) -> None:
        self.existing = os.environ.get(ENV)
        self.folder = ""
        self.starting: subprocess.Popen[str] | None = None

    def start(self) -> None:
        if self.existing:
            return
        self.folder = tempfile.mkdtemp(prefix="pgb-", dir="/tmp")
        self.starting = subprocess.Popen(
            [str(PG_SERVER), "start", self.folder],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def admin_url(self) -> str:
        if self.existing:
            return self.existing
        assert self.starting is not None
        out, err = self.starting.communicate(timeout=180)
        if self.starting.returncode != 0:
            raise RuntimeError(f"pg_server.sh start failed: {err[-2000:]}")
        print(f"PostgreSQL server for the bench: {out.strip()}", flush=True)
        return out.strip()

    def stop(self) -> None:
        if not self.folder:
            return
        if self.starting is not None and self.starting.poll() is None:
            self.starting.communicate(timeout=180)  # let it finish, then stop it
        subprocess.run([str(PG_SERVER), "stop", self.folder], timeout=180, check=False)


_seeded: dict[str, list[str]] = {}


@contextlib.contextmanager
def on_backend(admin: str | None) -> Iterator[None]:
    """``StoreProcess(..., seed=True)`` copies the seeded demo on SQLite (``admin`` None) or
    as a new database on the server at ``admin``; each backend keeps its own seeded
    template (``tests.helpers`` remembers one per process)."""
    from tests import helpers

    key = admin or "sqlite"
    saved_env = os.environ.pop(ENV, None)
    saved_seeded = list(helpers._SEEDED)
    if admin:
        os.environ[ENV] = admin
    helpers._SEEDED[:] = _seeded.get(key, [])
    try:
        yield
    finally:
        _seeded[key] = list(helpers._SEEDED)
        helpers._SEEDED[:] = saved_seeded
        os.environ.pop(ENV, None)
        if saved_env is not None:
            os.environ[ENV] = saved_env


@contextlib.contextmanager
def running(*stores: StoreProcess) -> Iterator[None]:
    """The stores started together (each takes seconds to import its modules), then
    stopped, however the block ends."""
    failed: list[BaseException] = []

    def start(store: StoreProcess) -> None:
        try:
            store.start()
        except BaseException as exc:  # raised below, in the caller's thread
            failed.append(exc)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failed:
            raise failed[0]
        yield
    finally:
        for store in stores:
            store.stop()


# -- 1. the same figures on both backends --------------------------------------------------------


def members_of(store: StoreProcess, count: int) -> list[str]:
    from tests.helpers import open_db

    with open_db(store.db_path) as db:
        members = [r[0] for r in db.execute("SELECT id FROM members ORDER BY id").fetchall()]
    return (members * (count // len(members) + 1))[:count]


def hot_product(store: StoreProcess, units: int, name: str) -> str:
    """A live session selling one product with ``units`` in stock; its id."""
    with store.client("operator") as client:
        client.put(
            "/products",
            json={"products": [{"id": name, "name": "爆款", "base_price": 9.9, "stock": units}]},
        ).raise_for_status()
        client.put(
            "/pickup-points",
            json={"points": [{"id": "pt-b", "name": "自提点", "lat": 30.2, "lon": 120.2}]},
        ).raise_for_status()
        sid = store.new_session("抢购")
        client.put(f"/sessions/{sid}/catalog", json={"lineup": [name]}).raise_for_status()
        client.patch(f"/sessions/{sid}", json={"status": "live"}).raise_for_status()
    return sid


def race(
    stores: list[StoreProcess], sid: str, product: str, buyers: list[str], senders: int
) -> dict[str, float]:
    """Every buyer orders one unit of ``product``, the buyers shared out over ``stores``
    (``senders`` connections in all), all at once; orders/s and what was sold."""
    from tests.bench.bench_commerce import buy_all
    from tests.helpers import open_db

    bodies = [
        {
            "member_id": member,
            "product_id": product,
            "quantity": 1,
            "pickup_point": "pt-b",
            "idempotency_key": f"race-{sid}-{n}",
        }
        for n, member in enumerate(buyers)
    ]
    seconds: list[float] = []
    errors: list[BaseException] = []

    def share(n: int) -> None:
        try:
            seconds.append(
                buy_all(stores[n], sid, bodies[n :: len(stores)], max(1, senders // len(stores)))
            )
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=share, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    with open_db(stores[0].db_path) as db:
        sold = db.execute(
            "SELECT count(*) FROM live_orders WHERE session_id = ? AND status = 'placed'", [sid]
        ).fetchone()[0]
        left = db.execute("SELECT stock FROM products WHERE id = ?", [product]).fetchone()[0]
    return {"rps": len(bodies) / max(seconds), "sold": sold, "left": left}


def stats_times(store: StoreProcess, sid: str) -> tuple[float, float, int]:
    """Seconds for the first ``GET /stats`` and the median of three more; events counted."""
    with store.client("host") as client:
        client.timeout = 300
        times = []
        body: dict[str, Any] = {}
        for _ in range(4):
            start = time.perf_counter()
            response = client.get(f"/sessions/{sid}/stats")
            times.append(time.perf_counter() - start)
            response.raise_for_status()
            body = response.json()
    return times[0], statistics.median(times[1:]), int(body["seq"])


def without_comments(count: int) -> list[list[dict[str, Any]]]:
    """``bench_ingest``'s batches with every comment made a like: the same sizes, but no
    event the store reacts to (a comment is appended on its own, with its reactions)."""
    from tests.bench.bench_ingest import make_batches

    return [
        [{**e, "type": "like", "data": {"count": 2}} if e["type"] == "comment" else e for e in b]
        for b in make_batches(count, "likes")
    ]


def backend_figures(store: StoreProcess, args: argparse.Namespace, label: str) -> dict[str, float]:
    """Part 1 on a started store."""
    from tests.bench.bench_commerce import http_matching
    from tests.bench.bench_ingest import BATCH, http_rate, make_batches
    from tests.helpers import live_show

    figures: dict[str, float] = {}
    sid1 = store.new_session("ingest 1")
    figures["ingest_1"] = http_rate(store, sid1, make_batches(args.batches, "one"), 1)
    more = args.stats_events // BATCH - args.batches
    if more > 0:
        http_rate(store, sid1, make_batches(more, "more"), 1)
    # Right after the burst: the first call waits for the replay index to catch up.
    first, again, seq = stats_times(store, sid1)
    figures.update(stats_first_ms=first * 1000, stats_again_ms=again * 1000, stats_seq=seq)
    sid4 = store.new_session("ingest 4")
    figures["ingest_4"] = http_rate(store, sid4, make_batches(args.batches, "four"), 4)
    likes = store.new_session("ingest likes")
    figures["ingest_likes"] = http_rate(store, likes, without_comments(args.batches), 1)

    members = members_of(store, args.members)
    show = live_show(store)
    figures["match_p50_ms"], figures["match_p99_ms"] = http_matching(store, show, members)

    buyers = members[: args.buyers]
    units = max(1, len(buyers) // 4)
    hot = hot_product(store, units, "hot-1")
    sold = race([store], hot, "hot-1", buyers, args.senders)
    figures.update(
        orders_rps=sold["rps"],
        oversold=max(0, sold["sold"] - units) + (1 if sold["left"] < 0 else 0),
    )
    print(
        f"{label:<10} ingest {figures['ingest_1']:,.0f} ev/s (1 sender), "
        f"{figures['ingest_4']:,.0f} ev/s (4 senders), {figures['ingest_likes']:,.0f} ev/s "
        f"(1 sender, no comments); /stats of {seq:,} events "
        f"{first * 1000:.0f} ms first, {again * 1000:.0f} ms after; offers p50 "
        f"{figures['match_p50_ms']:.2f} ms, p99 {figures['match_p99_ms']:.2f} ms; orders "
        f"{figures['orders_rps']:,.0f} req/s, {sold['sold']} sold of {units}, "
        f"oversold {figures['oversold']:.0f}",
        flush=True,
    )
    return figures


# -- 2. two store processes on one database ----------------------------------------------------


def two_processes(a: StoreProcess, b: StoreProcess, args: argparse.Namespace) -> dict[str, Any]:
    """Ingest through A, SSE clients on B; then orders through both at once."""
    sid = a.new_session("两个进程")
    token = b.token("host")
    procs = 2 if args.clients > 1 else 1
    sizes = [args.clients // procs + (1 if n < args.clients % procs else 0) for n in range(procs)]
    fleets = [spawn_clients(b.url, sid, token, 0, n) for n in sizes if n]
    try:
        for fleet in fleets:
            assert fleet.stdout is not None
            if fleet.stdout.readline().strip() != "ready":
                raise RuntimeError("a client process failed to connect")
        sender = Sender(a.url, sid, a.token("ingest"), args.rate, args.seconds)
        sender.start()
        sender.join()
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
            out.write(orjson.dumps(sender.batches))
        for fleet in fleets:
            assert fleet.stdin is not None
            fleet.stdin.write(f"end {sender.last_seq} {out.name}\n")
            fleet.stdin.flush()
        results = []
        for fleet in fleets:
            assert fleet.stdout is not None
            results.append(orjson.loads(fleet.stdout.readline()))
            fleet.wait(30)
        os.unlink(out.name)
    finally:
        for fleet in fleets:
            if fleet.poll() is None:
                fleet.kill()
                fleet.wait()
    latency: collections.Counter[int] = collections.Counter()
    for r in results:
        latency.update({int(k): v for k, v in r["latency"].items()})
    buyers = members_of(a, args.buyers)
    units = max(1, len(buyers) // 4)
    hot = hot_product(a, units, "hot-2")
    sold = race([a, b], hot, "hot-2", buyers, args.senders)
    return {
        "sent": sender.sent,
        "received": sum(r["received"] for r in results),
        "lost": sum(r["lost"] + r["disorder"] for r in results),
        "p50_ms": percentile(latency, 0.50),
        "p95_ms": percentile(latency, 0.95),
        "max_ms": float(max(latency)) if latency else float("nan"),
        "orders_rps": sold["rps"],
        "sold": sold["sold"],
        "units": units,
        "oversold": max(0, sold["sold"] - units) + (1 if sold["left"] < 0 else 0),
    }


# -- 3. every room at once --------------------------------------------------------------------


class RoomSender(threading.Thread):
    """Posts the 20 events of each of its rooms once a second, each room at its own offset in
    the second; notes each post's lag behind its schedule and its seqs."""

    def __init__(
        self, rooms: list[tuple[int, str, str, str]], total: int, seconds: int, t0: float
    ) -> None:
        super().__init__(daemon=True)
        self.rooms = rooms  # (room number, sid, store url, ingest token)
        self.total = total
        self.seconds = seconds
        self.t0 = t0
        self.lags: list[float] = []
        self.batches: dict[str, list[tuple[int, int, float]]] = {sid: [] for _, sid, _, _ in rooms}
        self.last_seq: dict[str, int] = {}
        self.sent = 0
        self.dropped = 0
        self.last_answer = t0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the driver
            self.error = exc

    def _run(self) -> None:
        connections: dict[str, HTTPConnection] = {}
        schedule = sorted(
            (second + k / self.total, k, sid, url, token)
            for second in range(1, self.seconds + 1)
            for k, sid, url, token in self.rooms
        )
        cutoff = self.t0 + self.seconds + 1 + LATE_CUTOFF_S
        for offset, k, sid, url, token in schedule:
            due = self.t0 + offset
            now_m = time.monotonic()
            if now_m > cutoff:
                self.dropped += 1
                continue
            if due > now_m:
                time.sleep(due - now_m)
            if url not in connections:
                parts = urlsplit(url)
                connections[url] = HTTPConnection(
                    parts.hostname or "127.0.0.1", parts.port, timeout=60
                )
            stamp = time.time()
            second = int(offset)
            batch = [
                {
                    "id": f"room{k}-{second}-{n}",
                    "type": "comment" if n % 5 == 0 else "like",
                    "ts": stamp,
                    "member_id": f"m{(k * ROOM_RATE + n) % 2000 + 1:05d}",
                    **({"data": {"text": "团长，今天几点到货？"}} if n % 5 == 0 else {}),
                }
                for n in range(ROOM_RATE)
            ]
            conn = connections[url]
            conn.request(
                "POST",
                f"/api/v1/sessions/{sid}/events",
                body=orjson.dumps({"events": batch}),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            answer = response.read()
            if response.status != 200:
                raise RuntimeError(f"ingest refused: {response.status} {answer[:200]!r}")
            answered = time.monotonic()
            result = orjson.loads(answer)
            self.lags.append(answered - due)
            self.last_answer = answered
            self.batches[sid].append(
                (result["last_seq"] - result["accepted"] + 1, result["last_seq"], stamp)
            )
            self.last_seq[sid] = result["last_seq"]
            self.sent += result["accepted"]
        for conn in connections.values():
            conn.close()


def _read_table() -> dict[str, Any]:
    """The driver's "end TABLE": per session, its last seq and its batches' stamps."""
    return dict(orjson.loads(Path(sys.stdin.readline().split()[1]).read_bytes()))


async def _room_clients_main(url: str, token: str, sids: list[str]) -> None:
    fleets = [Fleet(url, sid, token, 0, False) for sid in sids]
    for start in range(0, len(fleets), 50):
        await asyncio.gather(*(f.connect(1) for f in fleets[start : start + 50]))
    print("ready", flush=True)
    table = await asyncio.get_running_loop().run_in_executor(None, _read_table)
    results = await asyncio.gather(
        *(f.finish(table[sid][0], table[sid][1]) for f, sid in zip(fleets, sids, strict=True))
    )
    latency: collections.Counter[int] = collections.Counter()
    for r in results:
        latency.update(r["latency"])
    summary = {
        "lost": sum(r["lost"] for r in results),
        "disorder": sum(r["disorder"] for r in results),
        "received": sum(r["received"] for r in results),
        "latency": dict(latency),
    }
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
    sys.stdout.flush()


def room_clients(url: str, token: str, sids_file: str) -> None:
    sids = orjson.loads(Path(sids_file).read_bytes())
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of the store
        asyncio.run(_room_clients_main(url, token, sids))
    else:
        uvloop.run(_room_clients_main(url, token, sids))


def database_size(store: StoreProcess) -> int:
    from tests.helpers import open_db

    with open_db(store.db_path) as db:
        return int(db.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def open_rooms(store: StoreProcess, count: int) -> list[str]:
    """``count`` live sessions, one per 团长."""
    sids = []
    with store.client("operator") as client:
        for k in range(count):
            response = client.post("/sessions", json={"title": f"团长{k + 1}的直播间"})
            response.raise_for_status()
            sid = str(response.json()["id"])
            client.patch(f"/sessions/{sid}", json={"status": "live"}).raise_for_status()
            sids.append(sid)
    return sids


def spawn_room_clients(
    workdir: Path, watcher: StoreProcess, sids: list[str], n: int
) -> subprocess.Popen[str]:
    listed = workdir / f"rooms-{n}.json"
    listed.write_bytes(orjson.dumps(sids))
    command = [sys.executable, "-m", "tests.bench.bench_postgres", "--room-clients"]
    command += ["--url", watcher.url, "--token", watcher.token("host"), "--sids", str(listed)]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def send_rooms(
    stores: tuple[StoreProcess, StoreProcess], sids: list[str], seconds: int
) -> list[RoomSender]:
    """Room k posts through ``stores[k % 2]``, from ``ROOM_SENDER_THREADS`` threads."""
    rooms = [
        (k, sid, stores[k % 2].url, stores[k % 2].token("ingest")) for k, sid in enumerate(sids)
    ]
    t0 = time.monotonic() + 0.5
    threads = min(ROOM_SENDER_THREADS, len(rooms))
    senders = [RoomSender(rooms[n::threads], len(rooms), seconds, t0) for n in range(threads)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    for sender in senders:
        if sender.error is not None:
            raise sender.error
    return senders


def every_room(
    workdir: Path, stores: tuple[StoreProcess, StoreProcess], args: argparse.Namespace
) -> dict[str, Any]:
    a, b = stores
    sids = open_rooms(a, args.rooms)
    # Room k is ingested through stores[k % 2] and followed on the other one.
    spawned: list[subprocess.Popen[str]] = []
    try:
        for n, watcher in enumerate((b, a)):
            mine = sids[n::2]
            if mine:
                spawned.append(spawn_room_clients(workdir, watcher, mine, n))
        for proc in spawned:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a room client process failed to connect")
        size_before = database_size(a)
        senders = send_rooms(stores, sids, args.room_seconds)
        size_after = database_size(a)
        table = {
            sid: [sender.last_seq.get(sid, 0), batches]
            for sender in senders
            for sid, batches in sender.batches.items()
        }
        out = workdir / "room-batches.json"
        out.write_bytes(orjson.dumps(table))
        results = []
        for proc in spawned:
            assert proc.stdin is not None
            proc.stdin.write(f"end {out}\n")
            proc.stdin.flush()
        for proc in spawned:
            assert proc.stdout is not None
            results.append(orjson.loads(proc.stdout.readline()))
            proc.wait(30)
    finally:
        for proc in spawned:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    latency: collections.Counter[int] = collections.Counter()
    for r in results:
        latency.update({int(k): v for k, v in r["latency"].items()})
    lags = sorted(lag for s in senders for lag in s.lags)
    sent = sum(s.sent for s in senders)
    # The posts of second j (j = 1..seconds) carry the events of [j - 1, j): kept up, the
    # events span ``seconds``; behind, until the last answer, one second less than its time.
    elapsed = max(args.room_seconds, max(s.last_answer for s in senders) - senders[0].t0 - 1)
    return {
        "rooms": args.rooms,
        "offered": args.rooms * ROOM_RATE,
        "sent": sent,
        "dropped_posts": sum(s.dropped for s in senders),
        "achieved": sent / elapsed,
        "elapsed": elapsed,
        "lag_p50_s": lags[len(lags) // 2] if lags else float("nan"),
        "lag_p95_s": lags[int(0.95 * (len(lags) - 1))] if lags else float("nan"),
        "lag_max_s": lags[-1] if lags else float("nan"),
        "lost": sum(r["lost"] + r["disorder"] for r in results),
        "p50_ms": percentile(latency, 0.50),
        "p95_ms": percentile(latency, 0.95),
        "mb_per_million": (size_after - size_before) / max(1, sent) * 1e6 / 2**20,
    }


# -- the run ------------------------------------------------------------------------------------


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so the stores and the server are stopped on the way out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.helpers import StoreProcess

    signal.signal(signal.SIGTERM, _terminate)
    result: dict[str, Any] = {}
    server = PostgresServer()
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        workdir = Path(tmp)
        os.environ["XDG_STATE_HOME"] = str(workdir / "state")  # the stores' log, kept apart
        try:
            server.start()  # in the background, while SQLite runs
            with on_backend(None):
                lite = StoreProcess(workdir / "sqlite.db")
                with running(lite):
                    result["sqlite"] = backend_figures(lite, args, "SQLite")
            with on_backend(server.admin_url()):
                a = StoreProcess(workdir / "unused")
                with running(a):
                    result["postgres"] = backend_figures(a, args, "PostgreSQL")
                    b = StoreProcess(a.db_path, seed=False)
                    with running(b):
                        result["two"] = two_processes(a, b, args)
                        report_two(args, result["two"])
                        result["rooms"] = every_room(workdir, (a, b), args)
                        report_rooms(result["rooms"])
        finally:
            server.stop()
        from console.logs import log_file

        logged = log_file()
        text = logged.read_text(encoding="utf-8") if logged.exists() else ""
        result["tracebacks"] = text.count("Traceback")
    return result


def report_two(args: argparse.Namespace, t: dict[str, Any]) -> None:
    print(
        f"two processes: {args.clients} SSE clients on B, {t['sent']:,} events via A, lost "
        f"{t['lost']}; latency p50 {t['p50_ms']:.0f} ms, p95 {t['p95_ms']:.0f} ms, max "
        f"{t['max_ms']:.0f} ms; orders through both {t['orders_rps']:,.0f} req/s, "
        f"{t['sold']} sold of {t['units']}, oversold {t['oversold']}",
        flush=True,
    )


def report_rooms(r: dict[str, Any]) -> None:
    print(
        f"every room: {r['rooms']} rooms x {ROOM_RATE} ev/s = {r['offered']:,} ev/s offered, "
        f"{r['achieved']:,.0f} ev/s achieved ({r['sent']:,} events in {r['elapsed']:.1f} s, "
        f"{r['dropped_posts']} posts dropped); ingest lag p50 {r['lag_p50_s'] * 1000:.0f} ms, "
        f"p95 {r['lag_p95_s'] * 1000:.0f} ms, max {r['lag_max_s'] * 1000:.0f} ms; to client "
        f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms; lost {r['lost']}; "
        f"{r['mb_per_million']:.0f} MB per million events",
        flush=True,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=50, help="ingest: batches of 1,000")
    parser.add_argument("--stats-events", type=int, default=100_000, help="events for /stats")
    parser.add_argument("--members", type=int, default=2_000, help="offer matching: members")
    parser.add_argument("--buyers", type=int, default=400, help="orders on one product")
    parser.add_argument("--senders", type=int, default=32, help="connections placing orders")
    parser.add_argument("--clients", type=int, default=500, help="SSE clients on process B")
    parser.add_argument("--rate", type=int, default=500, help="events/s through process A")
    parser.add_argument("--seconds", type=float, default=10.0, help="of ingest through A")
    parser.add_argument("--rooms", type=int, default=800, help="live sessions at once")
    parser.add_argument("--room-seconds", type=int, default=20, help="of every room at once")
    parser.add_argument("--room-clients", action="store_true", help=argparse.SUPPRESS)
    for name in ("--url", "--token", "--sids"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    add_json_option(parser)
    args = parser.parse_args(argv)
    if args.room_clients:
        room_clients(args.url, args.token, args.sids)
        return {}
    result = run(args)
    write_json(args.json, summary(result))
    return result


def summary(result: dict[str, Any]) -> list[Figure]:
    pg, lite, two, rooms = result["postgres"], result["sqlite"], result["two"], result["rooms"]

    def versus(
        label: str, key: str, unit: str, target: str = "", least: float | None = None
    ) -> Figure:
        met = None if least is None else pg[key] >= least * lite[key]
        return Figure("postgres", label, pg[key], unit, lite[key], "SQLite", target, met)

    return [
        versus("ingest, 1 sender", "ingest_1", "ev/s", ">= 0.5x baseline", 0.5),
        versus("ingest, 4 senders", "ingest_4", "ev/s", ">= 0.5x baseline", 0.5),
        versus("ingest, 1 sender, no comments", "ingest_likes", "ev/s"),
        versus("orders, 1 product, 1 process", "orders_rps", "req/s", ">= 0.7x baseline", 0.7),
        Figure(
            "postgres",
            "oversold, 1 product, 1 process",
            pg["oversold"],
            "",
            lite["oversold"],
            "SQLite",
            "= 0 (both)",
            pg["oversold"] == 0 and lite["oversold"] == 0,
        ),
        versus("offer matching p99, over HTTP", "match_p99_ms", "ms"),
        versus(f"/stats of {pg['stats_seq']:,} events, first", "stats_first_ms", "ms"),
        versus(f"/stats of {pg['stats_seq']:,} events, again", "stats_again_ms", "ms"),
        Figure(
            "postgres",
            "2 processes: lost at SSE clients on B",
            two["lost"],
            "",
            target="= 0",
            met=two["lost"] == 0,
        ),
        Figure(
            "postgres",
            "2 processes: ingest A to client B p95",
            two["p95_ms"],
            "ms",
            target="< 150 ms",
            met=two["p95_ms"] < 150,
        ),
        Figure("postgres", "2 processes: orders through both", two["orders_rps"], "req/s"),
        Figure(
            "postgres",
            "2 processes: oversold",
            two["oversold"],
            "",
            target="= 0",
            met=two["oversold"] == 0,
        ),
        Figure(
            "postgres",
            f"{rooms['rooms']} rooms: events appended",
            rooms["achieved"],
            "ev/s",
            float(rooms["offered"]),
            f"offered, {rooms['rooms']} x {ROOM_RATE} ev/s",
        ),
        Figure(
            "postgres",
            f"{rooms['rooms']} rooms: ingest lag p95",
            rooms["lag_p95_s"],
            "s",
            target="< 1 s",
            met=rooms["lag_p95_s"] < 1 and rooms["dropped_posts"] == 0,
        ),
        Figure("postgres", f"{rooms['rooms']} rooms: event to client p95", rooms["p95_ms"], "ms"),
        Figure(
            "postgres",
            f"{rooms['rooms']} rooms: lost at clients",
            rooms["lost"],
            "",
            target="= 0",
            met=rooms["lost"] == 0,
        ),
        Figure(
            "postgres",
            "database size per million events",
            rooms["mb_per_million"],
            "MB",
        ),
        Figure(
            "postgres",
            "tracebacks in the stores' log",
            result["tracebacks"],
            "",
            target="= 0",
            met=result["tracebacks"] == 0,
        ),
    ]


if __name__ == "__main__":
    main()
