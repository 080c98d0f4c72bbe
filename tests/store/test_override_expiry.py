"""An override ends at its time, to within seconds (tracker issue 15: 90 s came 10 min late)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import date
from pathlib import Path

from console.domain.segments import Segment
from console.store.context import StoreContext
from console.store.overrides import active_override, set_override
from console.store.schedule import run_override_expiry
from console.store.schema import open_store
from console.store.segmentation import run_segmentation
from tests.backends import store_target
from tests.data.heavy_tail import generate, load_into
from tests.helpers import run_async

START = 1_800_000_000.0
DEADLINE_S = 5.0


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_override_expires_within_seconds_of_its_time(tmp_path: Path) -> None:
    path = store_target(tmp_path)
    db = open_store(path)
    load_into(db, generate(50, seed=1))
    run_segmentation(db, date(2018, 9, 3), lambda: START)
    member = "h0000001"
    computed = db.execute("SELECT segment FROM members WHERE id = ?", [member]).fetchone()[0]
    set_override(db, member, Segment.S1, "直播嘉宾, 只到节目结束", "运营", START + 90, START)
    db.close()
    clock = FakeClock(START)

    async def scenario() -> tuple[str | None, str | None]:
        ctx = StoreContext(path, clock=clock)
        # The real bound (2 s), not a test-only one: an override set while the loop sleeps
        # must still end within a few seconds of its time.
        task = asyncio.ensure_future(run_override_expiry(ctx))
        try:
            await asyncio.sleep(0.3)
            before = await ctx.read(active_override, member)
            clock.now = START + 91  # 90 s and a second later
            deadline = time.monotonic() + DEADLINE_S
            while await ctx.read(active_override, member) is not None:
                assert time.monotonic() < deadline, "the override did not expire in time"
                await asyncio.sleep(0.05)
            return (
                None if before is None else str(before["segment"]),
                await ctx.read(
                    lambda d: d.execute(
                        "SELECT segment FROM members WHERE id = ?", [member]
                    ).fetchone()[0]
                ),
            )
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            ctx.close()

    before, after = run_async(scenario())
    assert before == "S1"  # still in force before its time
    assert after == computed  # the rules' circle is back
