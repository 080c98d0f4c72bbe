"""The six RFM+X circles (分层) a member is routed into."""

from __future__ import annotations

from enum import StrEnum


class Segment(StrEnum):
    """A member's circle for pricing and room routing (seed 000)."""

    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"
    S5 = "S5"
    S6 = "S6"

    @property
    def label(self) -> str:
        """The Chinese name used on screen, e.g. 钻石核心."""
        return SEGMENT_LABELS[self]


SEGMENT_LABELS: dict[Segment, str] = {
    Segment.S1: "钻石核心",
    Segment.S2: "忠诚复购",
    Segment.S3: "高潜成长",
    Segment.S4: "价格敏感",
    Segment.S5: "KOC影响者",
    Segment.S6: "沉睡新客",
}

ALL_SEGMENTS: tuple[Segment, ...] = tuple(Segment)


def parse_segment(value: object) -> Segment | None:
    """The segment named by ``value``, or None for an unknown or missing one."""
    if isinstance(value, str):
        try:
            return Segment(value)
        except ValueError:
            return None
    return None
