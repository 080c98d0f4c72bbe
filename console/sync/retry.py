"""How the console's IO tries again, on tenacity: one back-off, one idea of "transient".

The log follower, the outbox and the simulator use these. Each takes its ``Backoff`` as a
parameter, so a test can make the waits short instead of patching a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_delay,
    stop_never,
    wait_exponential,
    wait_random,
)
from tenacity.retry import retry_base
from tenacity.wait import wait_base

from console.sync.client import StoreError

# The store may answer these later: a timeout or too many requests (every 5xx too).
TRANSIENT_STATUS = frozenset({408, 429})


@dataclass(frozen=True)
class Backoff:
    """Waits between tries: ``first_s``, doubling up to ``most_s``, each plus up to
    ``jitter_s`` at random, so consoles cut off together do not all come back at once."""

    first_s: float
    most_s: float
    jitter_s: float = 0.0

    def wait(self) -> wait_base:
        exponential = wait_exponential(multiplier=self.first_s, max=self.most_s)
        return exponential + wait_random(0, self.jitter_s) if self.jitter_s else exponential

    def retrying(
        self,
        retry: retry_base,
        *,
        wait: wait_base | Callable[[RetryCallState], float] | None = None,
        give_up_after_s: float | None = None,
        before_sleep: Callable[[RetryCallState], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> AsyncRetrying:
        """Retry what ``retry`` accepts on this schedule (or ``wait``), for ever or until
        ``give_up_after_s`` (then ``tenacity.RetryError``); anything else is raised as is."""
        return AsyncRetrying(
            retry=retry,
            wait=wait if wait is not None else self.wait(),
            stop=stop_never if give_up_after_s is None else stop_after_delay(give_up_after_s),
            before_sleep=before_sleep,
            sleep=sleep,
        )


# The console's link and the simulator both wait out a store restart; the outbox too, and it
# is woken early by a new command anyway.
STORE_BACKOFF = Backoff(first_s=0.25, most_s=4.0, jitter_s=0.1)


def is_store_busy(exc: BaseException) -> bool:
    """The store answered but may take it later (restarting, overloaded, timed out)."""
    return isinstance(exc, StoreError) and (exc.status >= 500 or exc.status in TRANSIENT_STATUS)


# A failed connection or a busy store: worth another try with the same idempotency key.
RETRY_TRANSIENT: retry_base = retry_if_exception_type(httpx.TransportError) | retry_if_exception(
    is_store_busy
)


def start_over(retry_state: RetryCallState) -> None:
    """Count the next failure as the first: after a good spell the back-off starts again."""
    retry_state.attempt_number = 1


def failure(retry_state: RetryCallState) -> BaseException:
    """The exception of the attempt that just failed (for waits and hooks run after one)."""
    exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
    if exc is None:
        raise RuntimeError("no failed attempt to report")
    return exc


def describe(exc: BaseException) -> str:
    """One line for a log or the banner's tooltip (some httpx errors have no message)."""
    return str(exc) or type(exc).__name__
