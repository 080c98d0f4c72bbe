"""The SSE stream: ids are seq, resume with Last-Event-ID, and the follower over restarts."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st

from console.domain.events import Event
from console.logs import log_file
from console.store import repository, stream
from console.store.schema import open_store
from console.sync.client import StoreClient
from console.sync.follower import LinkStatus, LogFollower
from tests.backends import store_target
from tests.helpers import (
    StoreProcess,
    event,
    live_session,
    open_stream,
    post,
    run_async,
    wait_for,
    wait_for_async,
)

# No Qt here: a Qt warning in this module comes from another test's Qt objects still alive in
# the same worker (it failed the fan-out test once, "QBasicTimer::start: Timers cannot be
# started from another thread"); only a critical Qt message fails these tests.
pytestmark = pytest.mark.qt_log_level_fail("CRITICAL")


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


# -- the fan-out (console.store.stream) ----------------------------------------------------


def frames_of(body: bytes) -> tuple[list[int], list[str]]:
    """The ids of the events in ``body`` (SSE frames) and the reasons of its errors."""
    ids, errors = [], []
    for frame in body.split(b"\n\n"):
        if frame.startswith(b"id: "):
            ids.append(int(frame.split(b"\n", 1)[0][4:]))
        elif frame.startswith(b"event: error\ndata: "):
            errors.append(frame.split(b"data: ", 1)[1].decode())
    return ids, errors


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    backlog=st.integers(0, 40),
    batches=st.lists(st.integers(1, 20), min_size=1, max_size=25),
    start=st.integers(0, 30),
    bound=st.integers(12, 60),
    chunk=st.integers(1, 15),
    pauses=st.lists(st.integers(0, 3), min_size=1, max_size=20),
    reader_lag=st.integers(0, 6),
    read_lag=st.integers(0, 30),
)
def test_every_event_once_in_order_across_the_switch_from_catch_up_to_live(
    tmp_path: Path,
    backlog: int,
    batches: list[int],
    start: int,
    bound: int,
    chunk: int,
    pauses: list[int],
    reader_lag: int,
    read_lag: int,
) -> None:
    """A stream subscribes, reads the backlog from the database while the writer keeps
    appending (and handing out), then goes live: whatever the interleaving, it sends every
    event after its start exactly once, in order; or, if it fell more than ``bound`` behind
    once live, a prefix of them and then the reason it was cut off. Its queue never holds
    more than ``bound``."""
    db = open_store(store_target(tmp_path, f"fan-{uuid.uuid4().hex}"))
    sid = live_session(db, "扇出")

    def append(count: int) -> None:
        repository.append_events(db, sid, [event("like") for _ in range(count)])

    append(backlog)
    start = min(start, backlog)
    final = backlog + sum(batches)
    body = bytearray()
    hang_up = asyncio.Event()
    turns = itertools.cycle(pauses)

    async def yield_a_little() -> None:
        for _ in range(next(turns)):
            await asyncio.sleep(0)

    async def read(after: int) -> list[tuple[int, bytes]]:
        await yield_a_little()  # a thread hop: the writer may append meanwhile
        rows = stream.read_frames(db, sid, after, chunk)
        for _ in range(read_lag):  # ... or after this read, before its rows are sent
            await asyncio.sleep(0)
        return rows

    async def send(message: dict[str, Any]) -> None:
        body.extend(message.get("body", b""))
        for _ in range(reader_lag):
            await asyncio.sleep(0)

    async def receive() -> dict[str, Any]:
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def scenario() -> stream.Subscriber:
        broadcaster = stream.Broadcaster(max_events=bound, max_bytes=1 << 30)
        broadcaster.start(lambda _token: True)
        subscriber = broadcaster.subscribe(sid, repository.last_seq(db, sid), "token")
        response = stream.LogStream(broadcaster, read, subscriber, start)
        serving = asyncio.ensure_future(response({"type": "http"}, receive, send))  # type: ignore[arg-type]
        for count in batches:
            append(count)
            broadcaster.after_write(db)
            await yield_a_little()
        await wait_for_async(
            lambda: serving.done() or frames_of(bytes(body))[0][-1:] == [final],
            message=lambda: f"stream at {frames_of(bytes(body))[0][-1:]} of {final}",
        )
        hang_up.set()
        await asyncio.wait_for(serving, 10)
        broadcaster.stop()
        assert not broadcaster.subscribers()
        return subscriber

    with patch.object(stream, "CHUNK_EVENTS", chunk):
        subscriber = run_async(scenario())
    db.close()
    ids, errors = frames_of(bytes(body))
    hypothesis_event("cut off" if errors else "every event")
    hypothesis_event(f"queue dropped while catching up: {min(subscriber.drops, 1)}")
    assert subscriber.peak_events <= bound
    assert ids == list(range(start + 1, start + 1 + len(ids)))
    if errors:
        assert errors == [stream.CUT_OFF.format(events=bound)]
        assert "读取太慢" in errors[0]
    else:
        assert ids[-1:] == ([final] if final > start else [])


def test_a_slow_reader_is_cut_off_with_the_reason_and_the_others_keep_up(
    store: StoreProcess,
) -> None:
    """A console that stops reading is cut off once its queue is full (its last words say
    why, in Chinese); a console reading along gets every event meanwhile."""
    sid = store.new_session("慢读者")
    stuck = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        stalled_reader_is_cut_off(store, sid, stuck)
    finally:
        stuck.close()


def stalled_reader_is_cut_off(store: StoreProcess, sid: str, stuck: socket.socket) -> None:
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before the handshake
    stuck.connect(("127.0.0.1", store.port))
    stuck.sendall(
        f"GET /api/v1/sessions/{sid}/stream HTTP/1.1\r\nHost: t\r\n"
        f"Authorization: Bearer {store.token('host')}\r\n\r\n".encode()
    )
    assert stuck.recv(12) == b"HTTP/1.1 200"  # connected; it reads nothing more
    received: list[int] = []
    done = threading.Event()

    def follow() -> None:
        with open_stream(store, sid, last_event_id=0, timeout=30) as source:
            for message in source.iter_sse():
                if not message.data:  # a heartbeat (httpx-sse repeats the last id on it)
                    continue
                received.append(int(message.id))
                if done.is_set() and received[-1] == last[0]:
                    return

    last = [0]
    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    from console.store.stream import CUT_OFF, QUEUE_EVENTS

    def cut_off() -> bool:
        last[0] = post(store, sid, [event("comment", text="还有货吗" * 20) for _ in range(500)])[
            "last_seq"
        ]
        return "cut off: reader too slow" in log_file().read_text(encoding="utf-8")

    wait_for(cut_off, message="the stalled stream was never cut off")
    tail = b""  # read at once: the store waits CUT_OFF_GRACE_S for it, then closes
    stuck.settimeout(15)
    while not tail.endswith(b"0\r\n\r\n"):  # the end of the chunked body
        data = stuck.recv(65536)
        assert data, "closed before its last words"
        tail = (tail + data)[-4096:]
    done.set()
    reader.join(30)
    assert received == list(range(1, last[0] + 1))
    assert CUT_OFF.format(events=QUEUE_EVENTS).encode() in tail
    assert b"event: error\ndata: " in tail
