"""Replay (回放): the room at any moment of a recorded session, fast.

The log is folded once with the live reducer; every ``every`` events a snapshot is kept. The
room at ``seq`` is the nearest snapshot at or before it with the few events after it folded
in, so any moment costs at most ``every`` events of work, never a fold from the start.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from console.domain.events import Event
from console.domain.room import RoomState
from console.domain.timeline import TimelineSampler

CHECKPOINT_EVERY = 2_000


class Replay:
    def __init__(
        self,
        events: Sequence[Event],
        every: int = CHECKPOINT_EVERY,
        timeline_step_s: float | None = None,
    ) -> None:
        """``events``: the whole log in ``seq`` order, gapless from 1. With
        ``timeline_step_s`` the same fold also samples the timeline (``samples``,
        ``markers``)."""
        self.events = events
        self.every = every
        self._seqs: list[int] = [0]
        self._states: list[RoomState] = [RoomState()]
        sampler = TimelineSampler(timeline_step_s) if timeline_step_s else None
        state = RoomState()
        for n, event in enumerate(events, start=1):
            if sampler is not None:
                sampler.before(state, event)
            state.apply(event)
            if sampler is not None:
                sampler.after(state, event)
            if n % every == 0 and n < len(events):
                self._seqs.append(state.seq)
                self._states.append(state.snapshot())
        self.final = state
        self.samples, self.markers = sampler.finish(state) if sampler else ([], [])

    @property
    def last_seq(self) -> int:
        return self.final.seq

    @property
    def checkpoints(self) -> int:
        return len(self._states)

    def state_at(self, seq: int) -> RoomState:
        """The room as it was right after event ``seq`` (0: before the first)."""
        seq = max(0, min(seq, self.last_seq))
        if seq == self.last_seq:
            return self.final
        index = bisect.bisect_right(self._seqs, seq) - 1
        state = self._states[index].snapshot()
        start = self._seqs[index]
        # Events are gapless from seq 1: event ``n`` sits at index ``n - 1``.
        state.apply_all(self.events[start:seq])
        return state

    def seq_at_time(self, ts: float) -> int:
        """The last event at or before epoch time ``ts`` (0 if before the first)."""
        index = bisect.bisect_right(self.events, ts, key=lambda e: e.ts)
        return self.events[index - 1].seq if index else 0
