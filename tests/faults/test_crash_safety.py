"""Crash safety: the store killed with SIGKILL mid-broadcast loses nothing it acknowledged.

A driver thread plays a broadcast against a real store over HTTP: batches of room events,
orders (with idempotency keys) and floor-assistant commands (with command ids). Each is
retried with the same ids until the store answers, as the real clients do. Meanwhile the
store process is killed with SIGKILL at random moments, several times, and restarted on the
same file. A console-side follower (the sync layer the live console uses) follows the log
throughout. Afterwards:

- every acknowledged event, order and command is in the log exactly once;
- the log's ``seq`` is gapless, and the order rows match their ``order_placed`` events;
- stock = initial + adjustments - units of standing orders, never oversold;
- the follower's room equals the store's ``/state``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from console.domain.room import RoomState
from console.sync.client import StoreClient
from console.sync.follower import LogFollower
from tests.helpers import StoreProcess, wait_for

STOCK = 400
KILLS = 4
PER_LIFE = 30  # requests answered by each incarnation of the store before it is killed
ENOUGH = {"events": 200, "orders": 20, "commands": 5}  # acknowledged, before the last stop


class Driver(threading.Thread):
    """Plays events, orders and commands; remembers what the store acknowledged."""

    def __init__(
        self, store: StoreProcess, sid: str, members: list[str], points: list[str], product: str
    ) -> None:
        super().__init__(daemon=True)
        self.store, self.sid, self.members, self.product = store, sid, members, product
        self.points = points
        self.stop_flag = threading.Event()
        self.acked_events: list[str] = []
        self.acked_orders: dict[str, dict[str, Any]] = {}  # idempotency key: answer
        self.refused_orders: dict[str, int] = {}
        self.acked_commands: dict[str, dict[str, Any]] = {}
        self.adjusted = 0
        self.retries = 0
        self.answers = 0
        self.error: BaseException | None = None

    def send(self, role: str, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST until the store answers (a restart in between is retried with the same ids)."""
        headers = {"Authorization": f"Bearer {self.store.token(role)}"}
        while True:
            try:
                response = httpx.post(
                    f"{self.store.url}/api/v1{path}", json=body, headers=headers, timeout=5
                )
            except httpx.TransportError:
                self.retries += 1
                time.sleep(0.05)
                continue
            if response.status_code >= 500:
                self.retries += 1
                time.sleep(0.05)
                continue
            return response

    def run(self) -> None:
        rng = random.Random(11)
        n = 0
        try:
            while not self.stop_flag.is_set():
                n += 1
                self.step(rng, n)
                self.answers += 1
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.error = exc

    def step(self, rng: random.Random, n: int) -> None:
        sid = self.sid
        roll = rng.random()
        if roll < 0.5:
            batch = [
                {
                    "id": f"ev-{n}-{i}",
                    "type": rng.choice(["viewer_joined", "comment", "like", "viewer_left"]),
                    "ts": time.time(),
                    "member_id": rng.choice(self.members),
                    "data": {"text": "还有吗？"},
                }
                for i in range(20)
            ]
            for event in batch:
                if event["type"] != "comment":
                    del event["data"]
            response = self.send("ingest", f"/sessions/{sid}/events", {"events": batch})
            assert response.status_code == 200, response.text
            self.acked_events.extend(e["id"] for e in batch)
        elif roll < 0.85:
            key = f"order-{n:05d}"
            body = {
                "member_id": rng.choice(self.members),
                "product_id": self.product,
                "quantity": rng.randint(1, 2),
                "idempotency_key": key,
                "pickup_point": rng.choice(self.points),
            }
            response = self.send("ingest", f"/sessions/{sid}/orders", body)
            if response.status_code == 201:
                self.acked_orders[key] = response.json()
            else:  # sold out, over the limit: a final answer, and nothing may have changed
                assert response.status_code == 409, response.text
                self.refused_orders[key] = response.status_code
        else:
            command_id = f"command-{n:05d}"
            kind = rng.choice(["present_product", "post_notice", "adjust_stock"])
            body: dict[str, Any] = {"type": kind, "command_id": command_id}
            if kind == "present_product":
                body["product_id"] = self.product
            elif kind == "post_notice":
                body["text"] = f"第{n}号公告"
            else:
                body |= {"product_id": self.product, "delta": 3}
            response = self.send("assistant", f"/sessions/{sid}/commands", body)
            assert response.status_code == 200, response.text
            self.acked_commands[command_id] = response.json()
            if kind == "adjust_stock":
                self.adjusted += 3

    def answered(self) -> int:
        """Requests the store has given a final answer to; raises the driver's error."""
        assert self.error is None, repr(self.error)
        return self.answers

    def acknowledged(self) -> dict[str, int]:
        assert self.error is None, repr(self.error)
        return {
            "events": len(self.acked_events),
            "orders": len(self.acked_orders),
            "commands": len(self.acked_commands),
        }


class Follower(threading.Thread):
    """The console's log follower, on its own event loop, folding what it receives."""

    def __init__(self, store: StoreProcess, sid: str) -> None:
        super().__init__(daemon=True)
        self.store, self.sid = store, sid
        self.state = RoomState()
        self.reconnects = 0
        self.loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        client = StoreClient(self.store.url, self.store.token("host"))
        follower = LogFollower(
            client, self.sid, 0, self.state.apply_all, lambda _status, _detail: None
        )

        async def follow() -> None:
            try:
                await follower.run()
            finally:
                self.reconnects = follower.reconnects
                await client.aclose()

        self._task = self.loop.create_task(follow())
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self._task)
        self.loop.close()

    def stop(self) -> None:
        if self._task is not None:
            self.loop.call_soon_threadsafe(self._task.cancel)
        self.join(10)


@pytest.mark.timeout(300)
def test_kill_9_mid_broadcast_loses_nothing_acknowledged(tmp_path: Path) -> None:
    store = StoreProcess(tmp_path / "store.db")
    store.start()
    try:
        sid = store.new_session("断电演练")
        with sqlite3.connect(store.db_path) as conn:
            members = [r[0] for r in conn.execute("SELECT id FROM members LIMIT 300")]
            product = conn.execute("SELECT id FROM products LIMIT 1").fetchone()[0]
            points = [r[0] for r in conn.execute("SELECT id FROM pickup_points LIMIT 20")]
        with store.client() as http:
            http.put(
                "/products",
                json={
                    "products": [{"id": product, "name": "鲜奶", "base_price": 9.9, "stock": STOCK}]
                },
            ).raise_for_status()
            http.put(
                f"/sessions/{sid}/catalog",
                json={"lineup": [product], "offers": [{"product_id": product, "price": 9.9}]},
            ).raise_for_status()
        driver = Driver(store, sid, members, points, product)
        follower = Follower(store, sid)
        follower.start()
        driver.start()
        rng = random.Random(5)

        def let_it_run() -> None:
            """Wait for the store (just started) to answer some requests: how many arrive in
            a given time depends on the machine's load, so wait for the count."""
            start = driver.answered()
            wait_for(
                lambda: driver.answered() >= start + PER_LIFE,
                60,
                lambda: f"the store answered {driver.answered() - start} of {PER_LIFE} requests",
            )

        for _ in range(KILLS):
            let_it_run()
            time.sleep(rng.uniform(0, 0.3))  # paces the kill into a random point of the traffic
            retries = driver.retries
            store.stop(kill=True)  # SIGKILL: no shutdown, no flush, no goodbye
            wait_for(
                lambda before=retries: driver.retries > before,
                60,
                lambda: f"no request met the dead store (driver error: {driver.error!r})",
            )
            time.sleep(rng.uniform(0.05, 0.3))  # paces the restart: down for a random while
            store.start()  # the same file, the same port
        let_it_run()
        wait_for(
            lambda: all(n >= ENOUGH[k] for k, n in driver.acknowledged().items()),
            120,
            lambda: f"acknowledged {driver.acknowledged()}, wanted at least {ENOUGH}",
        )
        driver.stop_flag.set()
        driver.join(30)
        assert driver.error is None, repr(driver.error)
        print(
            f"{len(driver.acked_events)} events, {len(driver.acked_orders)} orders, "
            f"{len(driver.acked_commands)} commands acknowledged; {driver.retries} retries "
            f"across {KILLS} kills"
        )

        with store.client() as http:
            state = http.get(f"/sessions/{sid}/state").json()
        wait_for(
            lambda: follower.state.seq == state["seq"],
            60,
            lambda: f"the follower is at seq {follower.state.seq} of {state['seq']}",
        )
        follower.stop()
        assert follower.reconnects >= 1
        assert follower.state.to_dict() == state

        check_log(store.db_path, sid, driver, product)
    finally:
        store.stop()


def check_log(path: Path, sid: str, driver: Driver, product: str) -> None:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT seq, event_id, type, data FROM events WHERE session_id = ? ORDER BY seq",
            [sid],
        ).fetchall()
        stock = conn.execute("SELECT stock FROM products WHERE id = ?", [product]).fetchone()[0]
        live = conn.execute(
            "SELECT idempotency_key, id, quantity, status FROM live_orders WHERE session_id = ?",
            [sid],
        ).fetchall()
        commands = Counter(
            r[0]
            for r in conn.execute("SELECT command_id FROM commands WHERE session_id = ?", [sid])
        )
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "seq has gaps"
    ids = Counter(r[1] for r in rows)
    assert all(ids[e] == 1 for e in driver.acked_events), "an acknowledged event is lost or doubled"
    by_key = Counter(r[0] for r in live)
    assert all(by_key[k] == 1 for k in driver.acked_orders)
    assert not any(by_key[k] for k in driver.refused_orders), "a refused order was kept"
    placed = Counter(orjson.loads(r[3])["order_id"] for r in rows if r[2] == "order_placed")
    for answer in driver.acked_orders.values():
        assert placed[answer["order_id"]] == 1
    assert sum(placed.values()) == len(live), "order rows and order events disagree"
    assert all(commands[c] == 1 for c in driver.acked_commands)
    sold = sum(r[2] for r in live)
    assert stock == STOCK + driver.adjusted - sold >= 0
