"""The SSE stream: ids are seq, resume with Last-Event-ID, and the follower over restarts."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
from httpx_sse import connect_sse

from console.domain.events import Event
from console.sync.client import StoreClient
from console.sync.follower import LinkStatus, LogFollower
from tests.helpers import StoreProcess, event, post, run_async


def read_stream(store: StoreProcess, sid: str, last_event_id: int | None, count: int) -> list[dict]:
    headers = {"Authorization": f"Bearer {store.token('host')}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    received = []
    with (
        httpx.Client(timeout=10) as client,
        connect_sse(
            client, "GET", f"{store.url}/api/v1/sessions/{sid}/stream", headers=headers
        ) as source,
    ):
        for message in source.iter_sse():
            payload = json.loads(message.data)
            assert message.id == str(payload["seq"])
            received.append(payload)
            if len(received) == count:
                break  # dropping the connection mid-stream
    return received


def test_resume_after_a_dropped_connection_has_no_gap_and_no_duplicate(
    shared_store: StoreProcess,
) -> None:
    sid = shared_store.new_session()
    post(shared_store, sid, [event("like", f"m{n:05d}") for n in range(1, 101)])
    first = read_stream(shared_store, sid, None, 37)
    rest = read_stream(shared_store, sid, first[-1]["seq"], 63)
    assert [e["seq"] for e in first + rest] == list(range(1, 101))


def test_events_posted_while_connected_arrive_live(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    post(shared_store, sid, [event("viewer_joined")])

    def later() -> None:
        time.sleep(0.3)
        post(shared_store, sid, [event("comment", text="来了"), event("like")])

    threading.Thread(target=later).start()
    received = read_stream(shared_store, sid, 0, 3)
    assert [(e["seq"], e["type"]) for e in received] == [
        (1, "viewer_joined"),
        (2, "comment"),
        (3, "like"),
    ]


def test_a_bad_last_event_id_is_refused(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    headers = {"Authorization": f"Bearer {shared_store.token('host')}", "Last-Event-ID": "abc"}
    response = httpx.get(f"{shared_store.url}/api/v1/sessions/{sid}/stream", headers=headers)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "Last-Event-ID"


def test_the_follower_survives_a_store_restart_exactly_once(store: StoreProcess) -> None:
    sid = store.new_session()
    delivered: list[Event] = []
    statuses: list[LinkStatus] = []

    async def scenario() -> None:
        client = StoreClient(store.url, store.token("host"))
        follower = LogFollower(client, sid, 0, delivered.extend, lambda s, _d: statuses.append(s))
        task = asyncio.ensure_future(follower.run())
        await asyncio.to_thread(
            post, store, sid, [event("like", f"m{n:05d}") for n in range(1, 51)]
        )
        await wait_for(lambda: len(delivered) == 50)
        await asyncio.to_thread(store.restart)
        await asyncio.to_thread(post, store, sid, [event("like") for _ in range(25)])
        await wait_for(lambda: len(delivered) == 75 and statuses[-1] is LinkStatus.LIVE)
        task.cancel()
        await client.aclose()
        assert follower.reconnects >= 1

    run_async(scenario())
    assert [e.seq for e in delivered] == list(range(1, 76))
    assert LinkStatus.RECONNECTING in statuses


async def wait_for(condition: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def test_an_idle_stream_carries_a_heartbeat(shared_store: StoreProcess) -> None:
    """A quiet room must not look like a dead link: the store writes a comment every few
    seconds, well inside the console's read timeout."""
    from console.store.app import STREAM_HEARTBEAT_S
    from console.sync.client import STREAM_READ_TIMEOUT_S

    assert STREAM_READ_TIMEOUT_S >= 3 * STREAM_HEARTBEAT_S
    sid = shared_store.new_session("安静的直播间")
    headers = {"Authorization": f"Bearer {shared_store.token('host')}"}
    started = time.monotonic()
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=STREAM_HEARTBEAT_S + 2)) as client,
        client.stream(
            "GET", f"{shared_store.url}/api/v1/sessions/{sid}/stream", headers=headers
        ) as response,
    ):
        first = next(response.iter_text())
    assert first.startswith(": alive")
    assert STREAM_HEARTBEAT_S - 1 < time.monotonic() - started < STREAM_HEARTBEAT_S + 2
