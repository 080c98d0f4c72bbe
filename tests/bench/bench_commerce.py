"""The live commerce engine: offer matching, orders under contention, pickup assignment.

    python -m tests.bench.bench_commerce [--members 2000] [--buyers 400] [--orders 20000]

1. Offer matching (权益匹配) per member: the pure domain function, the store's read path
   (SQLite lookups included) in process, and ``GET /offers?member_id`` over HTTP against a
   real store. Target: in-process p99 under 1 ms.
2. Orders with contention: ``buyers`` HTTP buyers, ``senders`` at a time, on one product
   with a quarter as many units (every request races for the same stock row), next to the
   same buyers spread over ten products in the same run. Oversells are counted (must be 0).
3. Assigning ``orders`` order locations to 800 pickup points with the k-d tree, next to a
   brute-force haversine baseline (numpy, every order against every point) in the same run;
   both must pick the same points. Target: under 100 ms.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import orjson

from console.domain.catalog import Offer, Product, cards_for
from console.domain.pickup import EARTH_RADIUS_KM, PickupIndex, PickupPoint
from console.domain.segments import ALL_SEGMENTS, Segment
from console.domain.sessions import SessionStatus
from console.store import catalog, repository, sessions
from console.store.catalog import member_cards
from console.store.catalog_file import import_catalog
from console.store.orders import OrderRequest, place_order
from console.store.schema import connect, open_store
from tests.bench.table import Figure, add_json_option, write_json
from tests.helpers import StoreProcess

CATALOG = Path(__file__).resolve().parents[2] / "resources/catalogs/xianzhida-summer-light.toml"


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    cuts = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return cuts[49] / 1e6, cuts[98] / 1e6


def timed(calls: list[Callable[[], object]]) -> list[int]:
    samples = []
    for call in calls:
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return samples


# -- 1. offer matching --------------------------------------------------------------------


def domain_matching(members: int) -> tuple[float, float]:
    """The pure function on a 20-product lineup with terms for every circle."""
    rng = random.Random(1)
    lineup = [Product(f"p{n}", f"商品{n}", 1000 + n * 100) for n in range(20)]
    offers: dict[str, dict[Segment | None, Offer]] = {}
    for product in lineup:
        terms: dict[Segment | None, Offer] = {
            seg: Offer(product.id, seg, product.base_price - 50 * i, f"权益{i}", i % 3)
            for i, seg in enumerate(ALL_SEGMENTS)
        }
        terms[None] = Offer(product.id, None, product.base_price, visible=rng.random() > 0.2)
        offers[product.id] = terms
    segments = [rng.choice([*ALL_SEGMENTS, None]) for _ in range(members)]
    opted = [rng.random() < 0.03 for _ in range(members)]
    calls: list[Callable[[], object]] = [
        lambda s=s, o=o: cards_for(lineup, offers, s, o)
        for s, o in zip(segments, opted, strict=True)
    ]
    return percentiles(timed(calls))


def store_matching(db_path: Path, sid: str, members: list[str]) -> tuple[float, float]:
    """The store's read path in process: profile and catalog from SQLite, then matching."""
    db = connect(db_path)
    try:
        calls: list[Callable[[], object]] = [lambda m=m: member_cards(db, sid, m) for m in members]
        timed(calls[:100])  # warm the page cache and statement cache
        return percentiles(timed(calls))
    finally:
        db.close()


def http_matching(store: StoreProcess, sid: str, members: list[str]) -> tuple[float, float]:
    """``GET /offers`` one member after another on a keep-alive connection."""
    parsed = urlsplit(store.url)
    conn = HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=10)
    headers = {"Authorization": f"Bearer {store.token('ingest')}"}

    def call(member: str) -> Callable[[], object]:
        def get() -> None:
            conn.request(
                "GET", f"/api/v1/sessions/{sid}/offers?member_id={member}", headers=headers
            )
            response = conn.getresponse()
            if response.status != 200 or not orjson.loads(response.read())["cards"]:
                raise RuntimeError(f"offers for {member}: {response.status}")

        return get

    try:
        timed([call(m) for m in members[:50]])
        return percentiles(timed([call(m) for m in members]))
    finally:
        conn.close()


# -- 2. orders with contention --------------------------------------------------------------


def buy_all(store: StoreProcess, sid: str, bodies: list[dict[str, Any]], senders: int) -> float:
    """Post every body from ``senders`` concurrent keep-alive connections; wall seconds.

    Lean ``http.client`` connections in threads, as in bench_ingest: the figure is the
    store's, not the sending library's (httpx costs several ms per request on 2 cores).
    """
    parsed = urlsplit(store.url)
    headers = {
        "Authorization": f"Bearer {store.token('ingest')}",
        "Content-Type": "application/json",
    }
    path = f"/api/v1/sessions/{sid}/orders"
    payloads = [orjson.dumps(body) for body in bodies]
    statuses: list[int] = []
    barrier = threading.Barrier(senders + 1)

    def send(share: list[bytes]) -> None:
        conn = HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=120)
        conn.connect()
        barrier.wait()
        for payload in share:
            conn.request("POST", path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        conn.close()

    threads = [threading.Thread(target=send, args=(payloads[n::senders],)) for n in range(senders)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if unexpected := set(statuses) - {201, 409}:
        raise RuntimeError(f"unexpected answers: {sorted(unexpected)}")
    return elapsed


def contention(store: StoreProcess, buyers: list[str], senders: int) -> dict[str, float]:
    units = max(1, len(buyers) // 4)
    products = [
        {"id": f"hot-{n}", "name": f"爆款{n}", "base_price": 9.9, "stock": units} for n in range(11)
    ]
    with store.client("operator") as client:
        client.put("/products", json={"products": products}).raise_for_status()
        client.put(
            "/pickup-points",
            json={"points": [{"id": "pt-b", "name": "自提点", "lat": 30.2, "lon": 120.2}]},
        ).raise_for_status()
        sids = []
        for lineup in (["hot-0"], [f"hot-{n}" for n in range(1, 11)]):
            sid = store.new_session("抢购")
            client.put(f"/sessions/{sid}/catalog", json={"lineup": lineup}).raise_for_status()
            client.patch(f"/sessions/{sid}", json={"status": "live"}).raise_for_status()
            sids.append(sid)

    def bodies(sid: str, spread: bool) -> list[dict[str, Any]]:
        return [
            {
                "member_id": member,
                "product_id": f"hot-{n % 10 + 1}" if spread else "hot-0",
                "quantity": 1,
                "pickup_point": "pt-b",
                "idempotency_key": f"bench-{sid}-{member}",
            }
            for n, member in enumerate(buyers)
        ]

    hot_s = buy_all(store, sids[0], bodies(sids[0], False), senders)
    spread_s = buy_all(store, sids[1], bodies(sids[1], True), senders)
    with sqlite3.connect(store.db_path) as conn:
        sold = conn.execute(
            "SELECT count(*) FROM live_orders WHERE session_id = ? AND status = 'placed'",
            [sids[0]],
        ).fetchone()[0]
        left = conn.execute("SELECT stock FROM products WHERE id = 'hot-0'").fetchone()[0]
    return {
        "hot_rps": len(buyers) / hot_s,
        "spread_rps": len(buyers) / spread_s,
        "hot_sold": sold,
        "units": units,
        "oversold": max(0, sold - units) + (1 if left < 0 else 0),
    }


# -- 3. pickup assignment ---------------------------------------------------------------------


def brute_force(
    points: list[PickupPoint], lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Every order against every point with the haversine formula, in chunks (numpy)."""
    plat = np.radians([p.lat for p in points])
    plon = np.radians([p.lon for p in points])
    result = np.empty(len(lat), dtype=np.int64)
    for start in range(0, len(lat), 2_000):
        olat = np.radians(lat[start : start + 2_000])[:, None]
        olon = np.radians(lon[start : start + 2_000])[:, None]
        a = (
            np.sin((plat - olat) / 2) ** 2
            + np.cos(olat) * np.cos(plat) * np.sin((plon - olon) / 2) ** 2
        )
        distance = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
        result[start : start + 2_000] = distance.argmin(axis=1)
    return result


def assignment(orders: int, point_count: int = 800) -> dict[str, float]:
    rng = np.random.default_rng(7)
    # Seed 002: one city's community leaders, orders from the same area.
    points = [
        PickupPoint(f"pt{n}", f"点{n}", "团长", float(lat), float(lon))
        for n, (lat, lon) in enumerate(
            zip(
                rng.uniform(30.0, 30.5, point_count),
                rng.uniform(119.9, 120.5, point_count),
                strict=True,
            )
        )
    ]
    lat = rng.uniform(30.0, 30.5, orders)
    lon = rng.uniform(119.9, 120.5, orders)
    start = time.perf_counter()
    index = PickupIndex(points)
    chosen, _ = index.assign(lat, lon)
    tree_s = time.perf_counter() - start
    start = time.perf_counter()
    baseline = brute_force(points, lat, lon)
    brute_s = time.perf_counter() - start
    return {
        "tree_ms": tree_s * 1000,
        "brute_ms": brute_s * 1000,
        "disagree": int((chosen != baseline).sum()),
    }


# -- orders in process: the decision and its projections, no HTTP --------------------------------


def orders_in_process(count: int) -> dict[str, float]:
    """The store's ``place_order`` (facts loaded, the domain's decision, stock, row, events)
    on a real SQLite file, one order per transaction as the writer does it; the baseline
    appends the same ``order_placed`` events raw, one per transaction, to the same kind of file."""
    with tempfile.TemporaryDirectory() as tmp:
        db = open_store(Path(tmp) / "orders.db")
        members = [f"m{n:06d}" for n in range(count)]
        db.table("members").insert_all(
            [
                {"id": m, "name": m, "nick": "林*", "segment": f"S{n % 6 + 1}"}
                for n, m in enumerate(members)
            ]
        )
        products = [f"p{k}" for k in range(10)]
        catalog.upsert_products(
            db, [{"id": p, "name": p, "base_price": 2990, "stock": 10**6} for p in products]
        )
        catalog.upsert_pickup_points(
            db, [{"id": "pt", "name": "自提点", "leader": "王团长", "lat": 30.2, "lon": 120.1}]
        )
        offers = [{"product_id": p, "segment": "S1", "price": 2500, "limit": 5} for p in products]
        sid = repository.create_session(db, "bench")["id"]
        catalog.set_session_catalog(db, sid, products, offers)
        sessions.set_status(db, sid, SessionStatus.LIVE, time.time)
        started = time.perf_counter()
        for n, member in enumerate(members):
            request = OrderRequest(member, products[n % 10], 1, "pt", f"key-{n:07d}")
            place_order(db, sid, request, time.time)
        decided = time.perf_counter() - started
        other = repository.create_session(db, "raw")["id"]
        sessions.set_status(db, other, SessionStatus.LIVE, time.time)
        events = [
            {
                "id": f"raw-{n}",
                "type": "order_placed",
                "ts": time.time(),
                "member_id": m,
                "data": {
                    "order_id": f"o{n}",
                    "product_id": products[n % 10],
                    "quantity": 1,
                    "amount": 2990,
                    "pickup_point": "pt",
                },
            }
            for n, m in enumerate(members)
        ]
        started = time.perf_counter()
        for event in events:
            repository.append_events(db, other, [event])
        appended = time.perf_counter() - started
        db.close()
    return {"inproc_rps": count / decided, "raw_append_rps": count / appended}


# -- the run ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2_000, help="members matched (1.)")
    parser.add_argument("--buyers", type=int, default=400, help="concurrent buyers (2.)")
    parser.add_argument("--senders", type=int, default=32, help="concurrent connections (2.)")
    parser.add_argument("--orders", type=int, default=20_000, help="orders assigned (3.)")
    parser.add_argument(
        "--orders-in-process", type=int, default=5_000, help="orders placed without HTTP (4.)"
    )
    add_json_option(parser)
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    rows: list[tuple[str, str, str]] = []

    d50, d99 = domain_matching(args.members * 5)
    figures.update(domain_p50_ms=d50, domain_p99_ms=d99)
    rows.append(("offer matching, pure function", f"p50 {d50:.4f} ms", f"p99 {d99:.4f} ms"))

    with tempfile.TemporaryDirectory() as tmp:
        store = StoreProcess(Path(tmp) / "bench.db")
        with sqlite3.connect(store.db_path) as conn:
            members = [r[0] for r in conn.execute("SELECT id FROM members ORDER BY id")]
        members = (members * (args.members // len(members) + 1))[: args.members]
        store.start()
        try:
            sid = store.new_session("鲜直达")
            db = connect(store.db_path)
            try:
                import_catalog(db, sid, CATALOG)
            finally:
                db.close()
            s50, s99 = store_matching(store.db_path, sid, members)
            h50, h99 = http_matching(store, sid, members)
            figures.update(store_p50_ms=s50, store_p99_ms=s99, http_p50_ms=h50, http_p99_ms=h99)
            rows.append(
                ("offer matching, store in process", f"p50 {s50:.3f} ms", f"p99 {s99:.3f} ms")
            )
            rows.append(("offer matching, over HTTP", f"p50 {h50:.3f} ms", f"p99 {h99:.3f} ms"))

            buyers = members[: args.buyers]
            orders = contention(store, buyers, args.senders)
            figures.update(orders)
            rows.append(
                (
                    f"orders, {len(buyers)} buyers ({args.senders} at once) on 1 product",
                    f"{orders['hot_rps']:.0f} req/s",
                    f"{orders['hot_sold']:.0f} sold of {orders['units']:.0f}, "
                    f"oversold {orders['oversold']:.0f}",
                )
            )
            rows.append(
                (
                    f"orders, {len(buyers)} buyers ({args.senders} at once) on 10 products",
                    f"{orders['spread_rps']:.0f} req/s",
                    f"contention ratio {orders['hot_rps'] / orders['spread_rps']:.2f}",
                )
            )
        finally:
            store.stop()

    inproc = orders_in_process(args.orders_in_process)
    figures.update(inproc)
    rows.append(
        (
            f"orders placed in process ({args.orders_in_process}, no HTTP)",
            f"{inproc['inproc_rps']:.0f} orders/s",
            f"raw append of the same events {inproc['raw_append_rps']:.0f}/s",
        )
    )

    assign = assignment(args.orders)
    figures.update(assign)
    rows.append(
        (
            f"assign {args.orders} orders to 800 points, k-d tree",
            f"{assign['tree_ms']:.1f} ms",
            f"brute-force haversine {assign['brute_ms']:.1f} ms "
            f"(x{assign['brute_ms'] / assign['tree_ms']:.0f}), {assign['disagree']} disagree",
        )
    )
    width = max(len(r[0]) for r in rows)
    for name, first, second in rows:
        print(f"{name:<{width}}  {first:>16}  {second}")
    write_json(args.json, summary(figures))
    return figures


def summary(f: dict[str, float]) -> list[Figure]:
    return [
        Figure(
            "commerce",
            "offer matching p99, store in process",
            f["store_p99_ms"],
            "ms",
            f["domain_p99_ms"],
            "pure function",
            "< 1 ms",
            f["store_p99_ms"] < 1,
        ),
        Figure("commerce", "offer matching p99, over HTTP", f["http_p99_ms"], "ms"),
        Figure(
            "commerce",
            "orders, 400 buyers on 1 product",
            f["hot_rps"],
            "req/s",
            f["spread_rps"],
            "same buyers, 10 products",
        ),
        Figure(
            "commerce",
            "orders placed in process",
            f["inproc_rps"],
            "orders/s",
            f["raw_append_rps"],
            "raw append of the same events",
        ),
        Figure(
            "commerce", "units oversold", f["oversold"], "", target="= 0", met=f["oversold"] == 0
        ),
        Figure(
            "commerce",
            "20,000 orders to 800 points",
            f["tree_ms"],
            "ms",
            f["brute_ms"],
            "numpy brute force",
            "< 100 ms",
            f["tree_ms"] < 100,
        ),
    ]


if __name__ == "__main__":
    main()
