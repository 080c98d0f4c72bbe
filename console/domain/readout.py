"""Read-out queue (语音播报): which waiting shout-out the host's earpiece says next.

Pure: the console's voice service (``console.ui.voice``) hands in the board's waiting
shout-outs and the time; the queue answers with the next one to say, most urgent first
(priority, then oldest), never two at once (one in flight until ``finished``), never the
same one twice, and only of the kinds the host wants read. One acknowledged while it was
being synthesised is skipped (``still_waiting``). One waiting longer than ``max_age_s`` is
stale news: not read. One in flight longer than ``stuck_after_s`` (a player that never
reported back) is given up so the queue moves on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from console.domain.shoutouts import Shoutout, ShoutoutKind

DEFAULT_KINDS: frozenset[ShoutoutKind] = frozenset(
    {
        ShoutoutKind.DRAW_WINNER,
        ShoutoutKind.CHAIN_FORMED,
        ShoutoutKind.CHAIN_FAILED,
        ShoutoutKind.CHAIN_PROGRESS,
        ShoutoutKind.PLATFORM_OVERSOLD,
        ShoutoutKind.VIP_QUESTION,
        ShoutoutKind.VIP_ORDER,
        ShoutoutKind.REFERRAL_WIN,
        ShoutoutKind.COMEBACK,
        ShoutoutKind.VIP_ARRIVAL,
    }
)
"""Read by default: everything but the plain questions and the room-turn prompts (they are
many, and for the floor assistant rather than the host's ear)."""

MAX_AGE_S = 120.0
STUCK_AFTER_S = 30.0


@dataclass(frozen=True)
class Readout:
    """One shout-out to say: its id (to mark it read) and its words."""

    id: str
    kind: ShoutoutKind
    text: str


def read_order(shoutout: Shoutout) -> tuple[int, float, str]:
    """Most urgent first, then the oldest (pins are for the screen, not the ear)."""
    return (shoutout.priority, shoutout.ts, shoutout.id)


@dataclass
class ReadoutQueue:
    kinds: frozenset[ShoutoutKind] = DEFAULT_KINDS
    max_age_s: float = MAX_AGE_S
    stuck_after_s: float = STUCK_AFTER_S
    read: set[str] = field(default_factory=set)
    in_flight: Readout | None = None
    in_flight_since: float = 0.0
    skipped: int = 0

    def next(self, waiting: Iterable[Shoutout], now: float) -> Readout | None:
        """The next to say, now in flight; None while one is in flight or none is due."""
        if self.in_flight is not None:
            if now - self.in_flight_since < self.stuck_after_s:
                return None
            self.finished(self.in_flight.id)
        due = [
            s
            for s in waiting
            if s.kind in self.kinds and s.id not in self.read and now - s.ts <= self.max_age_s
        ]
        if not due:
            return None
        chosen = min(due, key=read_order)
        self.in_flight = Readout(chosen.id, chosen.kind, chosen.text)
        self.in_flight_since = now
        return self.in_flight

    def still_waiting(self, waiting_ids: Iterable[str]) -> bool:
        """Is the one in flight still on the board? If not (acknowledged meanwhile), it is
        dropped unsaid and the queue is free again."""
        if self.in_flight is None:
            return False
        if self.in_flight.id in set(waiting_ids):
            return True
        self.skipped += 1
        self.finished(self.in_flight.id)
        return False

    def finished(self, shoutout_id: str) -> None:
        """Said (or given up): never again, and the next may go."""
        self.read.add(shoutout_id)
        if self.in_flight is not None and self.in_flight.id == shoutout_id:
            self.in_flight = None

    def forget(self, waiting_ids: Iterable[str]) -> None:
        """Drop the memory of shout-outs no longer on the board (keeps ``read`` small)."""
        keep = set(waiting_ids)
        if self.in_flight is not None:
            keep.add(self.in_flight.id)
        self.read &= keep
