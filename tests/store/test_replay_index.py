"""The store's replay index on a real SQLite file: any moment equals folding the log up to
it, however the log arrived, and a fresh index (a restarted store) agrees."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.room import fold
from console.domain.segments import Segment
from console.domain.snapshot import to_snapshot
from console.store import repository
from console.store.context import StoreContext
from console.store.replay_index import ReplayIndexes, SessionIndex
from console.store.schedule import follow_logs
from console.store.schema import connect, open_store
from tests.backends import store_target
from tests.helpers import live_session, run_async, wait_for_async
from tests.unit.test_snapshot import build, event_specs


def as_incoming(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type.value,
        "ts": event.ts,
        "member_id": event.member_id,
        "data": dict(event.data),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_specs, st.integers(1, 25), st.integers(1, 4))
def test_any_moment_equals_folding_up_to_it(specs: list[Any], every: int, pieces: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = store_target(Path(tmp))
        open_store(path).close()
        db = connect(path)
        try:
            sid = live_session(db, "回放索引")
            incoming = [as_incoming(e) for e in build(specs)]
            index = SessionIndex(sid, every=every)
            step = max(1, len(incoming) // pieces)
            for first in range(0, len(incoming), step):  # the index follows as the log grows
                repository.append_events(db, sid, incoming[first : first + step])
                index.catch_up(db)
            log = repository.read_events(db, sid, 0, len(incoming) + 1)
            assert index.last_seq == len(log)
            for seq in range(len(log) + 1):
                assert to_snapshot(index.moment(db, seq)) == to_snapshot(fold(log[:seq]))
            restarted = SessionIndex(sid, every=every)
            restarted.catch_up(db)  # folded from scratch in one go
            assert to_snapshot(restarted.state) == to_snapshot(index.state)
            assert restarted.timeline() == index.timeline()
        finally:
            db.close()


def test_moments_by_time_and_the_timeline(tmp_path: Path) -> None:
    target = store_target(tmp_path)
    open_store(target).close()
    db = connect(target)
    specs = [(EventType.VIEWER_JOINED, n, Segment.S1, 10.0) for n in range(5)]
    sid = live_session(db, "按时间")
    repository.append_events(db, sid, [as_incoming(e) for e in build(specs)])  # 1010 ... 1050
    index = SessionIndex(sid, every=2)
    index.catch_up(db)
    assert [index.seq_at(t) for t in (1000.0, 1010.0, 1025.0, 9999.0)] == [0, 1, 2, 5]
    assert index.ts_of(3) == 1030.0
    assert index.ts_of(0) is None
    assert index.checkpoint_seqs == [0, 2, 4]
    timeline = index.timeline()
    assert timeline["last_seq"] == 5
    assert (timeline["first_ts"], timeline["last_ts"]) == (1010.0, 1050.0)
    assert [s["online"] for s in timeline["samples"]][-1] == 5
    assert index.moment(db, 99).seq == 5  # clamped to the log
    db.close()


def test_the_store_keeps_the_most_recent_indexes_and_rebuilds_a_forgotten_one(
    tmp_path: Path,
) -> None:
    target = store_target(tmp_path)
    open_store(target).close()
    db = connect(target)
    indexes = ReplayIndexes(kept=2)
    sids = []
    for n in range(3):
        sid = live_session(db, f"场次{n}")
        specs = [(EventType.VIEWER_JOINED, k, Segment.S2, 1.0) for k in range(n + 1)]
        repository.append_events(db, sid, [as_incoming(e) for e in build(specs)])
        sids.append(sid)
    first = indexes.caught_up(db, sids[0])
    indexes.caught_up(db, sids[1])
    indexes.caught_up(db, sids[2])  # the first is forgotten now
    again = indexes.caught_up(db, sids[0])
    assert again is not first
    assert to_snapshot(again.state) == to_snapshot(first.state)
    db.close()


def grow_and_follow(
    tmp_path: Path, pieces: int, size: int, **pacing: float
) -> tuple[int, int, int]:
    """With the store's follower running, append ``pieces`` batches of ``size`` events to a
    session (publishing each, as the routes do) and wait, with a deadline, until its index
    reaches the end of the log. The index's seq, the log's, and the index's seq of a second
    session whose events were never published."""

    async def scenario() -> tuple[int, int, int]:
        ctx = StoreContext(store_target(tmp_path))
        task = asyncio.ensure_future(follow_logs(ctx, every_s=0.01, **pacing))
        try:
            quiet = await ctx.write(live_session, "无人问津")
            specs = [(EventType.LIKE, k % 5, Segment.S3, 0.5) for k in range(10)]
            await ctx.write(repository.append_events, quiet, [as_incoming(e) for e in build(specs)])
            sid = await ctx.write(live_session, "自动跟随")
            last = 0
            for piece in range(pieces):
                specs = [(EventType.LIKE, k % 5, Segment.S3, 0.01) for k in range(size)]
                batch = [
                    {**as_incoming(e), "id": f"grow-{piece}-{k}"}
                    for k, e in enumerate(build(specs))
                ]
                last = (await ctx.write(repository.append_events, sid, batch)).last_seq
                ctx.notifier.publish(sid, last)
            await wait_for_async(
                lambda: ctx.indexes.get(sid).last_seq == last,
                message=lambda: f"the index is at {ctx.indexes.get(sid).last_seq} of {last}",
            )
            return ctx.indexes.get(sid).last_seq, last, ctx.indexes.get(quiet).last_seq
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            ctx.close()

    return run_async(scenario())


def test_the_store_folds_a_growing_log_by_itself(tmp_path: Path) -> None:
    """The background follower keeps the index at the end of every log that grows, and
    leaves alone the ones that do not. (When it folds is ``IndexPacer``'s, tested with
    explicit times in ``tests/unit/test_index_pacing.py``.)"""
    folded, last, quiet = grow_and_follow(tmp_path, pieces=4, size=10)
    assert folded == last == 40
    assert quiet == 0


def test_a_log_growing_very_fast_is_indexed_once_the_burst_is_over(tmp_path: Path) -> None:
    """Every piece is a burst here (``busy_rate`` of 1 event a second), so each pass defers
    the fold; once the log stops growing the follower folds all of it."""
    folded, last, _ = grow_and_follow(tmp_path, pieces=15, size=100, busy_rate=1, max_defer_s=600)
    assert folded == last == 1_500
