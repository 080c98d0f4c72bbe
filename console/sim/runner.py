"""Plays an event plan against a store in (compressed) real time (``main.py simulate``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from tenacity import RetryError, before_sleep_log

from console.domain.flash import MIN_MINUTES
from console.sim.planner import PlannedEvent
from console.sync.client import StoreClient, StoreError
from console.sync.retry import RETRY_TRANSIENT, STORE_BACKOFF, Backoff, describe

log = logging.getLogger(__name__)
T = TypeVar("T")
BATCH_WINDOW_S = 0.05
MAX_ORDERS_IN_FLIGHT = 16  # events due within this window go out in one request
MAX_BATCH = 1_000
GIVE_UP_AFTER_S = 60.0  # a store restart takes seconds; a minute away is an outage


class StoreUnavailable(Exception):
    """The store did not take a request for ``GIVE_UP_AFTER_S``; the message says why."""


async def play(
    client: StoreClient,
    sid: str,
    events: Sequence[PlannedEvent],
    speed: float,
    clock: Callable[[], float] = time.monotonic,
    *,
    backoff: Backoff = STORE_BACKOFF,
    give_up_after_s: float = GIVE_UP_AFTER_S,
) -> int:
    """Send the plan on schedule (``speed`` x real time; 0 = as fast as possible).

    Room events go out in batches, stamped with the wall-clock time they are sent; played as
    fast as possible they carry the script's own time instead (its start plus their offset),
    and the session must be a rehearsal (``SessionClock.REHEARSAL``) so that the orders and
    commands in between are stamped on that clock too. Commands and orders go one by one.
    Every request is retried with the same ids (event ids, command ids, idempotency keys),
    which the store deduplicates, so a store restart mid-broadcast loses and doubles nothing;
    after ``give_up_after_s`` of failures it raises ``StoreUnavailable``. Returns the number
    of items sent.
    """
    player = _Player(client, sid, speed, backoff, give_up_after_s)
    start = clock()
    script_start = time.time()
    index = 0
    while index < len(events):
        due = events[index].offset_s / speed if speed > 0 else 0.0
        delay = start + due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        horizon = (clock() - start + BATCH_WINDOW_S) * speed if speed > 0 else float("inf")
        if events[index].kind == "order":
            # Orders due together go out together (shoppers do not queue behind each other).
            due_orders: list[PlannedEvent] = []
            while (
                index < len(events)
                and events[index].kind == "order"
                and len(due_orders) < MAX_ORDERS_IN_FLIGHT
                and events[index].offset_s <= horizon
            ):
                due_orders.append(events[index])
                index += 1
            await asyncio.gather(*(player.act(item) for item in due_orders))
            continue
        if events[index].kind != "event":
            await player.act(events[index])
            index += 1
            continue
        batch: list[dict[str, object]] = []
        while (
            index < len(events)
            and events[index].kind == "event"
            and len(batch) < MAX_BATCH
            and events[index].offset_s <= horizon
        ):
            ts = time.time() if speed > 0 else script_start + events[index].offset_s
            batch.append({**events[index].event, "ts": ts})
            index += 1
        await player.send(client.post_events, batch)
    return index


class _Player:
    """Sends the plan's commands and orders; remembers the chains it opened."""

    def __init__(
        self, client: StoreClient, sid: str, speed: float, backoff: Backoff, give_up_after_s: float
    ) -> None:
        self.client = client
        self.sid = sid
        self.speed = speed
        self.backoff = backoff
        self.give_up_after_s = give_up_after_s
        self.chains: dict[str, str] = {}  # product -> chain id
        self.codes: dict[str, str | None] = {}
        self.refused = 0

    async def send(self, send: Callable[[str, Any], Awaitable[T]], body: Any) -> T:
        """``send(sid, body)``, retrying transport errors and a busy store (a restart) with
        the same body, so the same ids; a refusal is raised at once."""
        retrying = self.backoff.retrying(
            RETRY_TRANSIENT,
            give_up_after_s=self.give_up_after_s,
            before_sleep=before_sleep_log(log, logging.INFO),
        )
        try:
            result: T = await retrying(send, self.sid, body)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            reason = describe(last) if last is not None else "no answer"
            raise StoreUnavailable(
                f"gave up after {self.give_up_after_s:g} s of retries: {reason}"
            ) from last
        return result

    async def act(self, item: PlannedEvent) -> None:
        try:
            if item.kind == "command":
                command = dict(item.event)
                if "deadline_minutes" in command and self.speed > 0:
                    # A chain's deadline runs in the broadcast's (compressed) time.
                    command["deadline_minutes"] = command["deadline_minutes"] / self.speed
                if "min_watch_minutes" in command and self.speed > 0:
                    # A draw's "watched at least N minutes" too.
                    command["min_watch_minutes"] = command["min_watch_minutes"] / self.speed
                if "minutes" in command and self.speed > 0:
                    # So does a 秒杀's, down to the shortest sale the store takes.
                    command["minutes"] = max(MIN_MINUTES, command["minutes"] / self.speed)
                answer = await self.send(self.client.command, command)
                if item.event["type"] == "open_chain":
                    self.chains[str(item.event["product_id"])] = str(answer["chain_id"])
            else:
                answer = await self.send(self.client.place_order, await self._order(item))
                if item.event.get("cancel_later"):
                    await self._cancel(item, str(answer["order_id"]))
        except StoreError as exc:
            # A refusal is part of a broadcast (sold out, over the limit, chain full).
            self.refused += 1
            log.info("simulated %s refused: %s", item.kind, exc.reason)

    async def _cancel(self, item: PlannedEvent, order_id: str) -> None:
        """The buyer never picks it up: the floor assistant cancels it (stock returns)."""
        command = {
            "type": "cancel_order",
            "command_id": f"cancel-{item.event['idempotency_key']}",
            "order_id": order_id,
            "reason": "未自提",
        }
        await self.send(self.client.command, command)

    async def _order(self, item: PlannedEvent) -> dict[str, Any]:
        planned_only = ("chain_product", "referrer_member", "cancel_later")
        body = {k: v for k, v in item.event.items() if k not in planned_only}
        chain = self.chains.get(str(item.event.get("chain_product", "")))
        if chain is not None:
            body["chain_id"] = chain
        koc = item.event.get("referrer_member")
        if koc:
            code = await self._code(str(koc))
            if code:
                body["referrer"] = code
        return body

    async def _code(self, member: str) -> str | None:
        if member not in self.codes or self.codes[member] is None:
            try:
                self.codes[member] = await self.client.referral_code(self.sid, member)
            except StoreError:
                self.codes[member] = None  # has not shared yet
        return self.codes[member]
