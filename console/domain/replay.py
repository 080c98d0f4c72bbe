"""Replay (回放): the room at any moment of a recorded session, fast.

The log is folded once with the live reducer; every ``every`` events a snapshot is kept. The
room at ``seq`` is the nearest snapshot at or before it with the few events after it folded
in, so any moment costs at most ``every`` events of work, never a fold from the start.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

from console.domain.events import Event
from console.domain.room import RoomState

CHECKPOINT_EVERY = 10_000


class Replay:
    def __init__(
        self,
        events: Sequence[Event],
        every: int = CHECKPOINT_EVERY,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``events``: the whole log in ``seq`` order, gapless from 1."""
        self.events = events
        self.every = every
        self._seqs: list[int] = [0]
        self._states: list[RoomState] = [RoomState()]
        state = RoomState()
        for start in range(0, len(events), every):
            state.apply_all(events[start : start + every])
            if start + every < len(events):
                self._seqs.append(state.seq)
                self._states.append(state.snapshot())
            if progress is not None:
                progress(min(start + every, len(events)), len(events))
        self.final = state

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
