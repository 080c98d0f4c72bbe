"""Reservations (预约) for a session, and how many reserved members came (已到).

Where reservations live: a table (``reservations``, one row per session and member), not the
session's event log. The log takes events only while the session is live
(``sessions.require_live``; platform events before the show are refused and counted as early
arrivals), but reservations are made days before, during 预热蓄水; letting them into the log
would either break that rule for one event type or leave them waiting outside it. A row is
stamped, like an event, with the member's circle at the moment they reserved, so a later
re-segmentation does not move a reservation between circles.

The figures stay reconcilable with the log all the same: "已到" (arrived) is a reserved member
with a ``viewer_joined`` in the session's log, so each arrival points at an event. Both the
host's screen ("预约 230 · 已到 140", fetched from ``GET /sessions/{sid}/reservations``),
``/stats`` and the report call ``reservation_figures`` here, so the figure has one definition.

- reserved (预约): distinct members with a reservation for the session, in their circle then;
- arrived (已到): reserved members who joined the room (any ``viewer_joined`` in the log);
- reservation-to-watch conversion = arrived / reserved (DOMAIN.md), per circle and in total.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Set
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from console.domain.decisions import RefusalKind, Refused
from console.domain.identities import BindCode
from console.domain.metrics import Rate
from console.domain.segments import ALL_SEGMENTS, Segment
from console.domain.sessions import SessionStatus

TOTAL = "total"
UNKNOWN_CIRCLE = "unsegmented"  # a member reserved before any segmentation gave them a circle
MAX_CODE_LENGTH = 16
# Only the reservation words: "绑定 123456" is a bind comment (``identities.decide_bind``),
# never a reservation.
_RESERVE_TEXT = re.compile(r"^\s*(?:预约|预定)?\s*[:：]?\s*([0-9A-Za-z]{4,16})\s*$")


class Source(StrEnum):
    """How a reservation came in."""

    API = "api"  # a console, a mini-program or a bot through POST /reservations
    IMPORT = "import"  # a platform's reservation export (CSV)
    CODE = "code"  # an invitation code typed in a group


@dataclass(frozen=True, slots=True)
class Reservation:
    member_id: str
    circle: Segment | None  # the member's circle when they reserved
    source: Source
    ts: float
    invite_code: str = ""  # the invitation it answers, if any (the funnel follows it)


def check_reservable(status: SessionStatus | None) -> None:
    """A session takes reservations until it ends (before the show and while it is live)."""
    if status is None:
        raise Refused(RefusalKind.NOT_FOUND, "sid", "场次不存在")
    if status is SessionStatus.ENDED:
        raise Refused(RefusalKind.CONFLICT, "sid", "本场已结束，不再接受预约")


def code_in(text: str) -> str | None:
    """The code of a message typed in a group ("预约 K7F3Q2A8", "预约：k7f3q2a8", full-width
    characters too), upper-cased; None when the message is not a reservation."""
    found = _RESERVE_TEXT.match(unicodedata.normalize("NFKC", text))
    return found.group(1).upper() if found else None


BIND_CODE_REFUSED = (
    "绑定码无效或已失效（已过期，或已用过：发在群里的绑定码只能用一次），请向助理重新获取"
)


def is_bind_code(typed: str) -> bool:
    """A bind code is all digits (``identities``); an invitation code never is."""
    return typed.isdigit()


def reserve_with_bind_code(code: BindCode | None, typed: str, now: float) -> str:
    """A member's bind code typed in a group ("预约 123456") reserves for that member and is
    spent by it (the store marks it used in the same transaction): a group message is read
    by everyone there, so the code must never bind anyone's handle afterwards
    (``identities.decide_bind`` refuses a used code). Refused naming ``code`` when it is
    unknown, already used or expired, in one and the same words (a group trying numbers
    learns nothing of which codes exist); the member to reserve for otherwise."""
    if code is None or code.code != typed or code.used or now >= code.expires_at:
        raise Refused(RefusalKind.INVALID, "code", BIND_CODE_REFUSED)
    return code.member_id


def _key(circle: Segment | None) -> str:
    return circle.value if circle is not None else UNKNOWN_CIRCLE


@dataclass(frozen=True, slots=True)
class ReservationFigures:
    """Reserved and arrived, per circle and in total (circle keys S1..S6, plus
    ``unsegmented`` when someone reserved without a circle)."""

    reserved: dict[str, int]
    arrived: dict[str, int]

    def conversion(self, key: str = TOTAL) -> Rate:
        return Rate(self.arrived.get(key, 0), self.reserved.get(key, 0))

    def caption(self) -> str:
        """What the host sees on air: "预约 230 · 已到 140"."""
        return reservation_caption(self.reserved.get(TOTAL, 0), self.arrived.get(TOTAL, 0))

    def to_json(self) -> dict[str, Any]:
        def column(key: str) -> dict[str, Any]:
            rate = self.conversion(key)
            return {
                "reserved": self.reserved.get(key, 0),
                "arrived": self.arrived.get(key, 0),
                "reservation_conversion": rate.rounded(),
            }

        circles = [s.value for s in ALL_SEGMENTS]
        if self.reserved.get(UNKNOWN_CIRCLE):
            circles.append(UNKNOWN_CIRCLE)
        return {
            "total": column(TOTAL),
            "by_segment": {key: column(key) for key in circles},
            "caption": self.caption(),
        }


def reservation_caption(reserved: int, arrived: int) -> str:
    return f"预约 {reserved:,} · 已到 {arrived:,}"


def reservation_figures(
    reservations: Iterable[Reservation], joined: Set[str]
) -> ReservationFigures:
    """Reserved and arrived per circle; ``joined`` holds the members with a ``viewer_joined``
    in the session's log. A member with two rows (not possible in the store, whose key is
    session and member) counts once, in the circle of their first reservation."""
    first: dict[str, Reservation] = {}
    for reservation in sorted(reservations, key=lambda r: (r.ts, r.member_id)):
        first.setdefault(reservation.member_id, reservation)
    reserved: dict[str, int] = {TOTAL: 0}
    arrived: dict[str, int] = {TOTAL: 0}
    for member, reservation in first.items():
        key = _key(reservation.circle)
        reserved[TOTAL] += 1
        reserved[key] = reserved.get(key, 0) + 1
        if member in joined:
            arrived[TOTAL] += 1
            arrived[key] = arrived.get(key, 0) + 1
    return ReservationFigures(reserved, arrived)


def caption_from_json(figures: dict[str, Any]) -> str:
    """The host's caption from ``GET /reservations`` (or ``/stats``'s ``reservations``)."""
    total = figures.get("total") or {}
    return reservation_caption(int(total.get("reserved", 0)), int(total.get("arrived", 0)))


RESERVATION_HEADERS = ("圈层", "预约", "已到", "预约到场转化")
RESERVATION_DEFINITION = (
    "已到 = 预约的会员中进过直播间的（日志里有其进场事件）；预约到场转化 = 已到 / 预约。"
)


def reservation_rows(figures: dict[str, Any]) -> list[list[object]]:
    """The report's rows from ``/stats``'s ``reservations``: the total, then each circle."""
    columns = [("合计", figures.get("total") or {})]
    columns += list((figures.get("by_segment") or {}).items())
    return [
        [
            name,
            int(column.get("reserved", 0)),
            int(column.get("arrived", 0)),
            Rate(int(column.get("arrived", 0)), int(column.get("reserved", 0))).percent(),
        ]
        for name, column in columns
    ]
