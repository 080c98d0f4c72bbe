"""Several store processes over one PostgreSQL database: live fan-out between them,
orders that never oversell whichever process takes them, the background jobs in exactly
one process, and a ``kill -9`` of one process mid-broadcast."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from console.store.schema import open_store, transaction
from tests.backends import postgres_admin_url, requires_postgres, store_target
from tests.helpers import StoreProcess, event, open_db, open_stream, post, wait_for
from tests.store.test_chains_api import open_chain
from tests.store.test_orders import members_by_segment, open_shop, order

pytestmark = [requires_postgres, pytest.mark.timeout(300)]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[StoreProcess, StoreProcess]]:
    """Two store processes, A and B, over one database with the demo shop, live."""
    a = StoreProcess(tmp_path / "store.db")
    b = StoreProcess(a.db_path, seed=False)
    a.start()
    b.start()
    try:
        yield a, b
    finally:
        for store in (a, b):
            store.stop(kill=True)


def test_an_event_ingested_through_one_process_streams_from_the_other(
    pair: tuple[StoreProcess, StoreProcess],
) -> None:
    a, b = pair
    sid = open_shop(a)
    sent = [event("comment", text=f"第 {n} 条") for n in range(30)]
    with open_stream(b, sid) as source:
        frames = source.iter_sse()
        post(a, sid, sent[:10])
        post(a, sid, sent[10:])
        got: list[str] = []
        for frame in frames:
            if frame.event == "message" and frame.data:
                streamed = json.loads(frame.data)
                if streamed["type"] == "comment":
                    got.append(streamed["id"])
            if len(got) == len(sent):
                break
    assert got == [e["id"] for e in sent]


async def _buy_all(stores: list[StoreProcess], sid: str, bodies: list[dict[str, Any]]) -> list[int]:
    async def buy(client: httpx.AsyncClient, body: dict[str, Any]) -> int:
        return (await client.post(f"/sessions/{sid}/orders", json=body)).status_code

    clients = [
        httpx.AsyncClient(
            base_url=s.url + "/api/v1",
            headers={"Authorization": f"Bearer {s.token('ingest')}"},
            timeout=30,
        )
        for s in stores
    ]
    try:
        return list(
            await asyncio.gather(
                *(buy(clients[n % len(clients)], body) for n, body in enumerate(bodies))
            )
        )
    finally:
        for client in clients:
            await client.aclose()


def test_orders_through_both_processes_never_oversell(
    pair: tuple[StoreProcess, StoreProcess],
) -> None:
    a, b = pair
    sid = open_shop(a, stock=7)
    buyers = [m for members in members_by_segment(a).values() for m in members][:40]
    bodies = [order(m, product="p-pack") for m in buyers]
    statuses = asyncio.run(_buy_all([a, b], sid, bodies))
    assert statuses.count(201) + statuses.count(200) == 7, statuses
    assert all(code in (200, 201, 409) for code in statuses), statuses
    with open_db(a.db_path) as db:
        assert db.execute("SELECT stock FROM products WHERE id = 'p-pack'").fetchone()[0] == 0
        placed = db.execute(
            "SELECT count(*) FROM events WHERE session_id = ? AND type = 'order_placed'", [sid]
        ).fetchone()[0]
    assert placed == 7
    # The same requests again, through the other process: each answered as before.
    again = asyncio.run(_buy_all([b, a], sid, bodies))
    assert again.count(201) + again.count(200) == 7


def holder(store: StoreProcess) -> str | None:
    with open_db(store.db_path) as db:
        row = db.execute("SELECT holder FROM job_runner").fetchone()
    return None if row is None else str(row[0])


def test_the_background_jobs_run_in_one_process_and_move_when_it_dies(
    pair: tuple[StoreProcess, StoreProcess],
) -> None:
    a, b = pair
    pids = {a.process.pid: a, b.process.pid: b}  # type: ignore[union-attr]
    wait_for(lambda: holder(a) is not None, message="no process took the jobs")
    first = holder(a)
    assert first is not None
    running = pids[int(first.rsplit(":", 1)[1])]
    other = b if running is a else a
    assert other.process is not None
    other_pid = other.process.pid
    running.stop(kill=True)  # kill -9: its connection, and so its lock, goes with it
    wait_for(
        lambda: holder(other) == first.rsplit(":", 1)[0] + f":{other_pid}",
        message=lambda: f"jobs still with {holder(other)}",
    )
    # A 接龙 past its deadline is ended once, by the process that now runs the jobs.
    sid = open_shop(other)
    opened = open_chain(other, sid, deadline_minutes=0.02)  # about a second
    assert opened.status_code == 201, opened.text

    def ended() -> int:
        with open_db(other.db_path) as db:
            return int(
                db.execute(
                    "SELECT count(*) FROM events WHERE session_id = ? "
                    "AND type IN ('chain_failed', 'chain_formed', 'chain_closed')",
                    [sid],
                ).fetchone()[0]
            )

    wait_for(lambda: ended() >= 1, message="the 接龙 never ended")
    assert ended() == 1


def test_kill_9_of_one_process_mid_broadcast_loses_and_doubles_nothing(
    pair: tuple[StoreProcess, StoreProcess],
) -> None:
    """Events and orders stream into A while it is killed; each request that failed is
    sent again to B, as a platform adapter or a buyer's retry would, with the same event
    ids and idempotency keys."""
    a, b = pair
    sid = open_shop(a, stock=15)
    buyers = [m for members in members_by_segment(a).values() for m in members][:60]
    batches = [[event("comment", text=f"{n}-{k}") for k in range(20)] for n in range(60)]
    orders = [order(m, product="p-pack") for m in buyers]
    answers: dict[str, int] = {}
    killed = threading.Event()

    def client(store: StoreProcess) -> httpx.Client:
        return store.client("ingest")

    def deliver(path: str, body: dict[str, Any]) -> int:
        """To A until it is gone, then (and for anything A failed) to B."""
        for store in (a, b):
            if store is a and killed.is_set():
                continue
            try:
                with client(store) as http:
                    return http.post(path, json=body).status_code
            except httpx.TransportError:
                continue
        raise AssertionError(f"neither process took {path}")

    def ingest() -> None:
        for batch in batches:
            assert deliver(f"/sessions/{sid}/events", {"events": batch}) == 200

    def buy() -> None:
        for body in orders:
            answers[body["idempotency_key"]] = deliver(f"/sessions/{sid}/orders", body)

    workers = [threading.Thread(target=ingest), threading.Thread(target=buy)]
    for worker in workers:
        worker.start()
    wait_for(lambda: len(answers) >= 10, message="no orders went through before the kill")
    a.stop(kill=True)  # SIGKILL mid-broadcast: requests in flight die with it
    killed.set()
    for worker in workers:
        worker.join(120)
    # Every request once more through B: stored ids and keys are answered, not repeated.
    ingest()
    again = [deliver(f"/sessions/{sid}/orders", body) for body in orders]
    assert sum(code in (200, 201) for code in again) == 15
    with open_db(b.db_path) as db:
        ids = [
            r[0]
            for r in db.execute(
                "SELECT event_id FROM events WHERE session_id = ? AND type = 'comment'", [sid]
            )
        ]
        placed = db.execute(
            "SELECT count(*) FROM events WHERE session_id = ? AND type = 'order_placed'", [sid]
        ).fetchone()[0]
        assert db.execute("SELECT stock FROM products WHERE id = 'p-pack'").fetchone()[0] == 0
        last_seq, count = db.execute(
            "SELECT s.last_seq, (SELECT count(*) FROM events WHERE session_id = s.id) "
            "FROM sessions AS s WHERE s.id = ?",
            [sid],
        ).fetchone()
    assert sorted(ids) == sorted(e["id"] for batch in batches for e in batch)  # 0 lost, 0 doubled
    assert placed == 15  # 0 oversold, no order twice
    assert last_seq == count  # gapless
    with b.client("host") as host:  # B still serves
        assert host.get(f"/sessions/{sid}/state").status_code == 200


def test_a_store_whose_connections_are_dropped_answers_503_then_recovers(
    pair: tuple[StoreProcess, StoreProcess],
) -> None:
    """The server drops every connection of the store's database (a failover, a restart):
    requests meanwhile get 503 in Chinese, then the store reconnects by itself, and a
    stream opened before goes on receiving (its listener reconnects and tops it up)."""
    a, _b = pair
    sid = open_shop(a)
    with open_stream(a, sid, timeout=30) as source:
        frames = source.iter_sse()
        drop_connections(a)
        answers: list[int] = []

        def accepted() -> bool:
            with a.client("ingest") as client:
                answer = client.post(
                    f"/sessions/{sid}/events", json={"events": [event("comment", text="回来了")]}
                )
            answers.append(answer.status_code)
            if answer.status_code == 503:
                assert answer.json()["problems"][0]["reason"] == "数据库暂时不可用，请稍后重试"
            return answer.status_code == 200

        wait_for(accepted, message=lambda: f"answers: {answers}")
        assert set(answers) <= {200, 503}, answers
        for frame in frames:
            if frame.data and json.loads(frame.data)["type"] == "comment":
                break


def test_the_background_jobs_outlive_dropped_connections(
    pair: tuple[StoreProcess, StoreProcess],
) -> None:
    """Every connection of the database dropped while a 接龙 runs, and no request comes
    after: the jobs take their lock again on a new connection, find the writer's gone,
    reconnect, and end the 接龙 at its deadline."""
    a, _b = pair
    sid = open_shop(a)
    opened = open_chain(a, sid, key="cmd-open-before-drop", deadline_minutes=0.05)  # 3 s
    assert opened.status_code == 201, opened.text
    drop_connections(a)
    wait_for(
        lambda: _chain_ended(a, sid),
        message="the 接龙 never ended after the drop: the background jobs died",
    )


def drop_connections(store: StoreProcess) -> None:
    """What a failover does to a store: the server ends every connection to its database."""
    with open_db(postgres_admin_url() or "") as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = ? AND pid <> pg_backend_pid()",
            [store.db_path.rsplit("/", 1)[1]],
        )


def _chain_ended(store: StoreProcess, sid: str) -> bool:
    with open_db(store.db_path) as db:
        row = db.execute(
            "SELECT count(*) FROM events WHERE session_id = ? "
            "AND type IN ('chain_failed', 'chain_formed', 'chain_closed')",
            [sid],
        ).fetchone()
    return bool(row[0])


def bad_write_after_a_read(db: Any) -> None:
    with transaction(db) as conn:
        conn.execute("SELECT count(*) FROM products").fetchone()  # a read, then ...
        conn.execute(  # ... a write nobody reads back: it fails only at COMMIT
            "INSERT INTO products (id, name, base_price, stock, updated_at) "
            "VALUES ('p-bad', '坏', -1, 0, 0)"
        )


def test_an_error_at_commit_leaves_the_connection_fit_for_the_next_transaction(
    tmp_path: Path,
) -> None:
    """A queued write fails only when the pipeline ends (at COMMIT): the transaction is
    rolled back, and the next one on the same connection goes through."""
    target = store_target(tmp_path)
    db = open_store(target)
    try:
        with pytest.raises(psycopg.errors.CheckViolation):
            bad_write_after_a_read(db)
        with transaction(db) as conn:
            conn.execute(
                "INSERT INTO products (id, name, base_price, stock, updated_at) "
                "VALUES ('p-good', '好', 1, 0, 0)"
            )
        ids = [r[0] for r in db.execute("SELECT id FROM products WHERE id LIKE 'p-%'")]
        assert ids == ["p-good"]
    finally:
        db.close()
