"""The SSE stream: ids are seq, resume with Last-Event-ID, and the follower over restarts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx

from console.domain.events import Event
from console.sync.client import StoreClient
from console.sync.follower import LinkStatus, LogFollower
from tests.helpers import StoreProcess, event, open_stream, post, run_async, wait_for_async


def read_stream(
    store: StoreProcess,
    sid: str,
    last_event_id: int | None,
    count: int,
    on_first: Callable[[], object] | None = None,
) -> list[dict]:
    """Read ``count`` events from the stream, then drop the connection; ``on_first`` runs
    once the first event has arrived (the stream is connected and following)."""
    received = []
    with open_stream(store, sid, last_event_id=last_event_id) as source:
        for message in source.iter_sse():
            payload = json.loads(message.data)
            assert message.id == str(payload["seq"])
            received.append(payload)
            if len(received) == 1 and on_first is not None:
                on_first()
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
    received = read_stream(  # the next two are posted only once the first has arrived
        shared_store,
        sid,
        0,
        3,
        on_first=lambda: post(shared_store, sid, [event("comment", text="来了"), event("like")]),
    )
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
        await wait_for_async(lambda: len(delivered) == 50)
        await asyncio.to_thread(store.restart)
        await asyncio.to_thread(post, store, sid, [event("like") for _ in range(25)])
        await wait_for_async(
            lambda: len(delivered) == 75 and statuses[-1] is LinkStatus.LIVE,
            message=lambda: f"{len(delivered)} of 75 delivered, link {statuses[-1:]}",
        )
        task.cancel()
        await client.aclose()
        assert follower.reconnects >= 1

    run_async(scenario())
    assert [e.seq for e in delivered] == list(range(1, 76))
    assert LinkStatus.RECONNECTING in statuses


def test_an_idle_stream_carries_a_heartbeat(shared_store: StoreProcess) -> None:
    """A quiet room must not look like a dead link: the store writes a comment every few
    seconds, well inside the console's read timeout."""
    from console.store.app import STREAM_HEARTBEAT_S
    from console.sync.client import STREAM_READ_TIMEOUT_S

    assert STREAM_READ_TIMEOUT_S >= 3 * STREAM_HEARTBEAT_S
    sid = shared_store.new_session("安静的直播间")
    headers = {"Authorization": f"Bearer {shared_store.token('host')}"}
    lines = []
    with (  # the console's own read timeout: a quiet stream never runs into it
        httpx.Client(timeout=httpx.Timeout(10, read=STREAM_READ_TIMEOUT_S)) as client,
        client.stream(
            "GET", f"{shared_store.url}/api/v1/sessions/{sid}/stream", headers=headers
        ) as response,
    ):
        for line in response.iter_lines():
            if line:
                lines.append(line)
            if len(lines) == 2:
                break
    assert lines == [": alive", ": alive"]  # again and again, and nothing else
