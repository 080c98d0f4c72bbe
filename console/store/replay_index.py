"""What the store keeps per session as its log grows (回放索引): the room now, replay
checkpoints, the timeline, the stats' facts and every event's time.

One fold serves them all, and it follows the log as it is written, so after a broadcast of a
million events the replay window loads a few hundred samples and the stats at once, and shows
any moment from the nearest checkpoint plus at most ``CHECKPOINT_EVERY`` events.
Checkpoints are compressed JSON snapshots (``console.domain.snapshot``), about 20 MB for a
million events of a 2,000-viewer room; the live objects would take ten times that.
"""

from __future__ import annotations

import bisect
import threading
import zlib
from array import array
from collections import OrderedDict
from typing import Any

import orjson

from console.domain.events import Event
from console.domain.room import RoomState, initial_state
from console.domain.snapshot import from_snapshot, to_snapshot
from console.domain.stats import StatsFacts
from console.domain.timeline import Timeline, TimelineSampler
from console.store import repository
from console.store.prompt_norms import session_settings

CHECKPOINT_EVERY = 2_000
TIMELINE_FIRST_STEP_S = 0.05  # doubles as the broadcast grows (TIMELINE_MAX_SAMPLES)
TIMELINE_MAX_SAMPLES = 800
FOLD_CHUNK = 10_000
INDEXES_KEPT = 16  # sessions; a million-event one holds about 30 MB


def _pack(state: RoomState) -> bytes:
    return zlib.compress(orjson.dumps(to_snapshot(state)), 1)


def _unpack(blob: bytes) -> RoomState:
    return from_snapshot(orjson.loads(zlib.decompress(blob)))


class SessionIndex:
    """One session's fold. ``catch_up`` brings it to the end of the log (one caller at a
    time: ``lock``); the readers (``moment``, ``timeline``, ``seq_at``) only look at
    append-only lists, so they need no lock."""

    def __init__(self, sid: str, every: int = CHECKPOINT_EVERY) -> None:
        self.sid = sid
        self.every = every
        self.lock = threading.Lock()
        self.state = RoomState()
        self.facts = StatsFacts()
        self.sampler = TimelineSampler(TIMELINE_FIRST_STEP_S, TIMELINE_MAX_SAMPLES)
        self.times = array("d")  # event seq n's ts at index n - 1
        self.checkpoint_seqs: list[int] = [0]
        self.checkpoints: list[bytes] = [_pack(self.state)]

    def catch_up(self, db: Any) -> RoomState:
        """Fold what the log gained since the last call; the state at its end."""
        with self.lock:
            if self.state.seq == 0:  # the thresholds it went live with (none yet: defaults)
                self.state = initial_state({"turn_settings": session_settings(db, self.sid)})
                self.checkpoints[0] = _pack(self.state)
            while True:
                events = repository.read_events(db, self.sid, self.state.seq, FOLD_CHUNK)
                self._extend(events)
                if len(events) < FOLD_CHUNK:
                    return self.state

    def _extend(self, events: list[Event]) -> None:
        state, sampler, facts, times = self.state, self.sampler, self.facts, self.times
        for event in events:
            if event.seq <= state.seq:
                continue  # already folded (never from the store's own reads)
            sampler.before(state, event)
            state.apply(event)
            sampler.after(state, event)
            facts.add(event)
            times.append(event.ts)
            if state.seq % self.every == 0:
                self.checkpoints.append(_pack(state))
                self.checkpoint_seqs.append(state.seq)

    # -- reading (any thread) ----------------------------------------------------------

    @property
    def last_seq(self) -> int:
        return len(self.times)

    def ts_of(self, seq: int) -> float | None:
        """The time of event ``seq`` (None for 0 or beyond the end)."""
        return self.times[seq - 1] if 0 < seq <= len(self.times) else None

    def seq_at(self, ts: float) -> int:
        """The last event at or before ``ts`` (0: before the first)."""
        return bisect.bisect_right(self.times, ts)

    def moment(self, db: Any, seq: int) -> RoomState:
        """The room right after event ``seq`` (clamped to the indexed log)."""
        seq = max(0, min(seq, self.last_seq))
        index = bisect.bisect_right(self.checkpoint_seqs, seq) - 1
        start = self.checkpoint_seqs[index]
        state = _unpack(self.checkpoints[index])
        if seq > start:
            state.apply_all(repository.read_events(db, self.sid, start, seq - start))
        return state

    def timeline(self) -> dict[str, Any]:
        """``GET /sessions/{sid}/replay``: the samples, markers, the host aids' record
        (``console.domain.aids``) and bounds of the log."""
        with self.lock:  # a consistent cut: samples, markers and state of the same seq
            samples, markers = self.sampler.finish(self.state)
            aids = self.sampler.aids.copy()
            last = self.state.seq
            step = self.sampler.step_s
            checkpoints = len(self.checkpoints)
        timeline = Timeline(last, self.ts_of(1), self.ts_of(last), step, samples, markers, aids)
        return {
            "session_id": self.sid,
            **timeline.to_json(),
            "checkpoint_every": self.every,
            "checkpoints": checkpoints,
        }


class ReplayIndexes:
    """The store's ``SessionIndex`` per session, made on first use; the ``kept`` most
    recently used stay in memory (a forgotten one is rebuilt from the log when next asked)."""

    def __init__(self, kept: int = INDEXES_KEPT) -> None:
        self._by_session: OrderedDict[str, SessionIndex] = OrderedDict()
        self._kept = kept
        self._lock = threading.Lock()

    def get(self, sid: str) -> SessionIndex:
        with self._lock:
            index = self._by_session.get(sid)
            if index is None:
                index = self._by_session[sid] = SessionIndex(sid)
                while len(self._by_session) > self._kept:
                    self._by_session.popitem(last=False)
            self._by_session.move_to_end(sid)
            return index

    def caught_up(self, db: Any, sid: str) -> SessionIndex:
        """The session's index with the log's end folded in (NotFound for no session)."""
        repository.last_seq(db, sid)  # raises NotFound for an unknown session
        index = self.get(sid)
        index.catch_up(db)
        return index

    def room(self, db: Any, sid: str) -> dict[str, Any]:
        """``GET /sessions/{sid}/state``: the room at the log's end."""
        index = self.caught_up(db, sid)
        with index.lock:
            return index.state.to_dict()

    def waiting_shoutouts(self, db: Any, sid: str) -> set[str]:
        """Ids of the shout-outs on the session's board as of the end of its log."""
        index = self.caught_up(db, sid)
        with index.lock:
            return set(index.state.shoutouts.active)


class IndexPacer:
    """When the store's follower (``schedule.follow_logs``) folds a session's new events.

    Acknowledging events comes first: while a log grows faster than ``busy_rate`` events a
    second (a backlog flushed by a platform, a load test) its fold waits, for at most
    ``max_defer_s``; a log growing at a live room's pace is folded at once. A log first seen
    already long counts as having grown in one pass. Rates are measured over at least
    ``min_interval_s`` (the follower's pass). No clock reads: the caller passes ``now``
    (monotonic seconds), so the pacing is tested with explicit times.
    """

    def __init__(self, busy_rate: float, max_defer_s: float, min_interval_s: float) -> None:
        self.busy_rate = busy_rate
        self.max_defer_s = max_defer_s
        self.min_interval_s = min_interval_s
        self._seen: dict[str, tuple[int, float]] = {}  # the last seq offered, and when
        self._folded: dict[str, int] = {}
        self._deferred_since: dict[str, float] = {}

    def should_fold(self, sid: str, seq: int, now: float) -> bool:
        """Whether to fold ``sid`` up to ``seq`` now; a True is taken as done."""
        before, seen_at = self._seen.get(sid, (0, now - self.min_interval_s))
        self._seen[sid] = (seq, now)
        if seq <= self._folded.get(sid, 0):  # nothing new
            return False
        rate = (seq - before) / max(now - seen_at, self.min_interval_s)
        if rate > self.busy_rate:
            since = self._deferred_since.setdefault(sid, now)
            if now - since < self.max_defer_s:
                return False
        self._deferred_since.pop(sid, None)
        self._folded[sid] = seq
        return True
