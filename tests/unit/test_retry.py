"""The shared retry policy and its three users (follower, outbox, simulator), with fakes of the
store and a back-off of milliseconds; the real store's restarts are in tests/store and tests/ui.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from httpx_sse import ServerSentEvent
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from console.domain.events import Event
from console.sim.planner import PlannedEvent
from console.sim.runner import StoreUnavailable, play
from console.sync.client import StoreError
from console.sync.follower import LinkStatus, LogFollower
from console.sync.outbox import Outbox, OutboxSender
from console.sync.retry import RETRY_TRANSIENT, Backoff, start_over
from tests.helpers import run_async

FAST = Backoff(first_s=0.001, most_s=0.004)
DOWN = httpx.ConnectError("All connection attempts failed")


def waits(backoff: Backoff, attempts: int) -> list[float]:
    wait = backoff.wait()
    state = RetryCallState(AsyncRetrying(), None, (), {})
    result = []
    for n in range(1, attempts + 1):
        state.attempt_number = n
        result.append(wait(state))
    return result


def test_the_back_off_doubles_up_to_its_ceiling() -> None:
    assert waits(Backoff(0.25, 4.0), 7) == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    jittered = waits(Backoff(0.25, 4.0, jitter_s=0.1), 7)
    assert all(
        base <= w <= base + 0.1
        for base, w in zip([0.25, 0.5, 1, 2, 4, 4, 4], jittered, strict=True)
    )


def test_start_over_makes_the_next_wait_the_shortest_again() -> None:
    slept: list[float] = []
    tries = iter(range(10))

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def scenario() -> None:
        retrying = Backoff(1.0, 100.0).retrying(retry_if_exception_type(OSError), sleep=sleep)
        async for attempt in retrying:
            with attempt:
                n = next(tries)
                if n == 3:
                    start_over(attempt.retry_state)  # a good spell, then it fails again
                if n < 5:
                    raise OSError("down")

    run_async(scenario())
    assert slept == [1.0, 2.0, 4.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (DOWN, True),
        (httpx.ReadTimeout("slow"), True),
        (StoreError(503, "restarting"), True),
        (StoreError(429, "busy"), True),
        (StoreError(409, "sold out"), False),
        (StoreError(422, "bad field"), False),
        (ValueError("a bug"), False),
    ],
)
def test_transient_means_the_network_or_a_busy_store(exc: BaseException, retried: bool) -> None:
    state = RetryCallState(AsyncRetrying(), None, (), {})
    state.set_exception((type(exc), exc, None))
    assert RETRY_TRANSIENT(state) is retried


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.001)


def stored(seq: int) -> Event:
    return Event.from_dict({"seq": seq, "id": f"e{seq}", "type": "like", "ts": 1.0})


class FakeLog:
    """The store as the follower sees it: the first calls fail as scripted; ``read_events``
    serves up to ``visible``; each stream sends ``streams[n]`` and then ends (the last one
    stays open)."""

    def __init__(
        self, visible: int, streams: list[list[int]], failures: list[BaseException]
    ) -> None:
        self.visible = visible
        self.streams = streams
        self.failures = failures
        self.reads: list[int] = []
        self.opened: list[int] = []

    async def read_events(self, _sid: str, after: int, limit: int) -> tuple[list[Event], int]:
        self.reads.append(after)
        if self.failures:
            raise self.failures.pop(0)
        return [stored(s) for s in range(after + 1, self.visible + 1)][:limit], self.visible

    @asynccontextmanager
    async def stream(self, _sid: str, after: int) -> AsyncIterator[FakeLog]:
        self.opened.append(after)
        yield self

    async def aiter_sse(self) -> AsyncIterator[ServerSentEvent]:
        if not self.streams:
            await asyncio.Event().wait()  # open and quiet until cancelled
        for seq in self.streams.pop(0):
            self.visible = max(self.visible, seq)
            raw = {"seq": seq, "id": f"e{seq}", "type": "like", "ts": 1.0}
            yield ServerSentEvent(data=orjson.dumps(raw).decode(), id=str(seq))


@dataclass
class Followed:
    delivered: list[int] = field(default_factory=list)
    statuses: list[LinkStatus] = field(default_factory=list)
    reconnects: int = 0


def follow(log: FakeLog, until: Callable[[Followed], bool]) -> Followed:
    """Run a follower on ``log`` until ``until`` holds; what it delivered and showed."""
    seen = Followed()

    async def scenario() -> None:
        follower = LogFollower(
            log,
            "s1",
            0,
            lambda events: seen.delivered.extend(e.seq for e in events),
            lambda status, _detail: seen.statuses.append(status),
            backoff=FAST,
        )
        task = asyncio.ensure_future(follower.run())
        try:
            await wait_until(lambda: until(seen))
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        seen.reconnects = follower.reconnects

    run_async(scenario())
    return seen


def live_again_with(count: int) -> Callable[[Followed], bool]:
    return lambda f: len(f.delivered) == count and f.statuses.count(LinkStatus.LIVE) == 2


def test_the_follower_counts_each_failed_try_and_resumes_after_the_last_seq() -> None:
    log = FakeLog(visible=5, streams=[[3, 4, 5, 6, 7, 8, 9, 10]], failures=[DOWN, DOWN, DOWN])
    follower = follow(
        log, lambda f: len(f.delivered) == 10 and f.statuses.count(LinkStatus.LIVE) == 2
    )
    assert follower.delivered == list(range(1, 11))
    # Three refused connections, then live; the stream ends: one more, then live again.
    assert follower.statuses == [
        *[LinkStatus.RECONNECTING] * 3,
        LinkStatus.LIVE,
        LinkStatus.RECONNECTING,
        LinkStatus.LIVE,
    ]
    assert follower.reconnects == 4
    assert log.reads == [0, 0, 0, 0, 10]
    assert log.opened == [5, 10]


def test_a_gap_in_the_stream_reconnects_from_the_last_contiguous_seq() -> None:
    log = FakeLog(visible=2, streams=[[3, 5]], failures=[])
    follower = follow(
        log, lambda f: len(f.delivered) == 5 and f.statuses.count(LinkStatus.LIVE) == 2
    )
    assert follower.delivered == [1, 2, 3, 4, 5]
    assert log.reads == [0, 3]
    assert follower.reconnects == 1


def test_a_refusal_is_shown_and_retried_slowly_but_is_no_reconnect() -> None:
    log = FakeLog(visible=1, streams=[], failures=[StoreError(401, "bad token"), DOWN])
    follower = follow(log, lambda f: LinkStatus.LIVE in f.statuses)
    assert follower.statuses == [
        LinkStatus.REFUSED,
        LinkStatus.RECONNECTING,
        LinkStatus.LIVE,
    ]
    assert follower.reconnects == 1


class FakeCommands:
    """``command()`` answers from a script per command id (an exception or a reply)."""

    base_url = "http://store.test"

    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def command(self, _sid: str, body: dict[str, Any]) -> dict[str, Any]:
        command_id = body["command_id"]
        self.calls.append(command_id)
        answer = self.answers[command_id].pop(0) if self.answers[command_id] else {"ok": True}
        if isinstance(answer, BaseException):
            raise answer
        return dict(answer)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def test_the_outbox_retries_in_order_and_settles_a_refusal_at_once(outbox: Outbox) -> None:
    client = FakeCommands(
        {
            "cmd-a": [DOWN, StoreError(503, "restarting"), StoreError(401, "token")],
            "cmd-b": [StoreError(409, "only 5 in stock")],
            "cmd-c": [],
        }
    )
    for command_id in client.answers:
        outbox.add(client.base_url, "s1", {"type": "post_notice", "command_id": command_id})
    settled: list[tuple[str, str]] = []

    async def scenario() -> None:
        sender = OutboxSender(
            client,
            outbox,
            lambda command_id, state, _answer: settled.append((command_id, state)),
            backoff=FAST,
        )
        task = asyncio.ensure_future(sender.run())
        await wait_until(lambda: len(settled) == 3)
        task.cancel()

    run_async(scenario())
    assert settled == [("cmd-a", "sent"), ("cmd-b", "refused"), ("cmd-c", "sent")]
    assert client.calls == ["cmd-a"] * 4 + ["cmd-b", "cmd-c"]
    assert outbox.status(client.base_url).last_refusal == "only 5 in stock"
    assert not outbox.pending(client.base_url)


def test_a_new_command_cuts_the_outbox_back_off_short(outbox: Outbox) -> None:
    client = FakeCommands({"cmd-a": [DOWN], "cmd-b": []})
    outbox.add(client.base_url, "s1", {"type": "post_notice", "command_id": "cmd-a"})

    async def scenario() -> None:
        sender = OutboxSender(client, outbox, backoff=Backoff(60.0, 60.0))
        task = asyncio.ensure_future(sender.run())
        await wait_until(lambda: client.calls == ["cmd-a"])
        outbox.add(client.base_url, "s1", {"type": "post_notice", "command_id": "cmd-b"})
        sender.wake()
        await wait_until(lambda: sender.sent == 2, timeout=2.0)
        task.cancel()

    run_async(scenario())
    assert client.calls == ["cmd-a", "cmd-a", "cmd-b"]


class FakeIngest:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.batches: list[list[str]] = []

    async def post_events(self, _sid: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches.append([e["id"] for e in events])
        if self.failures:
            raise self.failures.pop(0)
        return {"accepted": len(events)}


def plan(count: int) -> list[PlannedEvent]:
    return [PlannedEvent(0.0, {"id": f"ev-{n}", "type": "like"}, "event") for n in range(count)]


def test_the_simulator_resends_the_same_ids_through_a_restart() -> None:
    client = FakeIngest([DOWN, StoreError(502, "bad gateway")])
    sent = run_async(play(client, "s1", plan(3), speed=0, backoff=FAST))
    assert sent == 3
    assert client.batches == [["ev-0", "ev-1", "ev-2"]] * 3


def test_the_simulator_gives_up_after_its_deadline_with_a_clear_error() -> None:
    client = FakeIngest([StoreError(503, "database locked")] * 10_000)
    started = time.monotonic()
    with pytest.raises(
        StoreUnavailable, match=r"gave up after 0\.05 s .*HTTP 503: database locked"
    ):
        run_async(play(client, "s1", plan(1), 0, backoff=FAST, give_up_after_s=0.05))
    assert time.monotonic() - started < 2
    assert len(client.batches) > 1


def test_a_refused_request_is_not_retried_by_the_simulator() -> None:
    client = FakeIngest([StoreError(422, "bad event")])
    with pytest.raises(StoreError, match="bad event"):
        run_async(play(client, "s1", plan(1), 0, backoff=FAST))
    assert len(client.batches) == 1
