"""Figures derived from the room state for the live screen (and, later, the replay)."""

from __future__ import annotations

from collections.abc import Mapping

from console.domain.room import RoomState
from console.domain.segments import ALL_SEGMENTS, Segment


def chain_conversion(state: RoomState) -> float | None:
    """直播到接龙转化率: watchers with an order or chain entry / watchers (None before any)."""
    watched = state.watched_members
    if not watched:
        return None
    return len(state.buyers & watched) / len(watched)


def tiers_to_address(online_by_segment: Mapping[Segment, int], count: int = 2) -> list[Segment]:
    """The circles most present in the room now, largest first (whom the host talks to)."""
    present = [s for s in ALL_SEGMENTS if online_by_segment.get(s, 0) > 0]
    present.sort(key=lambda s: (-online_by_segment[s], ALL_SEGMENTS.index(s)))
    return present[:count]
