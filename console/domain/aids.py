"""What the host's aids did in a broadcast (复盘): its 抽奖, its 秒杀 and the prompts the room's
turns raised, recorded by the same fold that samples the timeline (``TimelineSampler``), so
the replay, the report and the live screens agree.

- A draw is its ``draw_drawn`` event as logged: prize, conditions, how many qualified, the
  winners by masked nick (``draws.winner_nicks``), and the seed that re-runs it
  (``draws.rerun_draw``).
- A flash sale runs from its ``flash_sale_started`` to its ``flash_sale_ended``; its units
  left are what the room showed (``RoomState.flash_sales``: each flash order's
  ``flash_units_left``), so units sold = its units less those.
- A prompt is a turn shout-out (``turns.TURN_RULES``) at the moment it was raised, in the
  words the board showed then.

Pure: the records are made from the folded state and the event just folded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from console.domain.draws import winner_nicks
from console.domain.events import Event, EventType
from console.domain.flash import END_REASONS
from console.domain.segments import parse_segment
from console.domain.shoutouts import ShoutoutKind, raised_by
from console.domain.text import display_text
from console.domain.turns import TURN_RULES

if TYPE_CHECKING:
    from console.domain.room import RoomState


@dataclass(frozen=True)
class DrawRecord:
    """One 抽奖 as its ``draw_drawn`` event logged it (``minute``: from the first event)."""

    minute: float
    seq: int
    prize: str
    count: int
    circles: tuple[str, ...]
    min_watch_minutes: float
    must_comment: bool
    in_room_now: bool
    eligible: int
    winners: tuple[str, ...]  # masked nicks, in drawing order
    seed: str  # 32 hex digits: with the log before ``seq``, re-runs the draw

    def conditions(self) -> str:
        """ "S3、S4、S6 · 看满20分钟 · 评论过 · 在直播间" ("全部观众" when none)."""
        parts = ["、".join(self.circles) if self.circles else "全部圈层"]
        if self.min_watch_minutes:
            parts.append(f"看满{self.min_watch_minutes:g}分钟")
        if self.must_comment:
            parts.append("评论过")
        if self.in_room_now:
            parts.append("在直播间")
        return " · ".join(parts)


@dataclass(frozen=True)
class FlashRecord:
    """One 秒杀: as started, with the units the room last showed left and how it ended."""

    minute: float
    seq: int
    sale_id: str
    product_id: str
    product_name: str
    price: float  # yuan
    units: int
    units_left: int
    limit_per_member: int
    minutes: float  # as started
    circles: tuple[str, ...]
    ended_minute: float | None = None
    ended_reason: str | None = None  # "time", "sold_out"; None: still running at the end

    @property
    def sold(self) -> int:
        return self.units - self.units_left

    @property
    def ran_minutes(self) -> float | None:
        return None if self.ended_minute is None else self.ended_minute - self.minute

    def ended_text(self) -> str:
        """Why it ended, in words ("到时结束", "售罄", "直播结束时仍在进行")."""
        if self.ended_reason is None:
            return "直播结束时仍在进行"
        return END_REASONS.get(self.ended_reason, self.ended_reason)


@dataclass(frozen=True)
class PromptRecord:
    """A prompt when the room turned, as the board raised it."""

    minute: float
    seq: int
    kind: ShoutoutKind
    text: str


@dataclass
class AidsRecord:
    """The session's draws, flash sales (by sale id, in the order started) and prompts."""

    draws: list[DrawRecord] = field(default_factory=list)
    flash_sales: dict[str, FlashRecord] = field(default_factory=dict)
    prompts: list[PromptRecord] = field(default_factory=list)

    def copy(self) -> AidsRecord:
        return AidsRecord(list(self.draws), dict(self.flash_sales), list(self.prompts))

    def after(self, state: RoomState, event: Event, minute: float) -> None:
        """Record what ``event`` (just folded into ``state``, ``minute`` into the show) did."""
        data = event.data
        if event.type is EventType.DRAW_DRAWN:
            self.draws.append(_draw(event, minute))
        elif event.type is EventType.FLASH_SALE_STARTED:
            sale = _flash(event, minute)
            self.flash_sales[sale.sale_id] = sale
        elif event.type is EventType.ORDER_PLACED and data.get("flash_sale_id"):
            sale_id = str(data["flash_sale_id"])
            found = self.flash_sales.get(sale_id)
            shown = state.flash_sales.get(found.product_id) if found else None
            if found is not None and shown is not None and shown["sale_id"] == sale_id:
                left = int(shown["units_left"])
                self.flash_sales[sale_id] = replace(found, units_left=left)
        elif event.type is EventType.FLASH_SALE_ENDED:
            sale_id = str(data.get("sale_id", ""))
            found = self.flash_sales.get(sale_id)
            if found is not None and found.ended_minute is None:
                reason = str(data.get("reason", ""))
                self.flash_sales[sale_id] = replace(found, ended_minute=minute, ended_reason=reason)
        for shoutout in raised_by(state.shoutouts, event):
            if shoutout.kind in TURN_RULES:
                self.prompts.append(PromptRecord(minute, event.seq, shoutout.kind, shoutout.text))

    def to_json(self) -> dict[str, Any]:
        return {
            "draws": [_plain(d) for d in self.draws],
            "flash_sales": [_plain(s) for s in self.flash_sales.values()],
            "prompts": [{**_plain(p), "kind": p.kind.value} for p in self.prompts],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> AidsRecord:
        draws = [
            DrawRecord(**{**d, "circles": tuple(d["circles"]), "winners": tuple(d["winners"])})
            for d in value.get("draws") or ()
        ]
        sales = [
            FlashRecord(**{**s, "circles": tuple(s["circles"])})
            for s in value.get("flash_sales") or ()
        ]
        prompts = [
            PromptRecord(**{**p, "kind": ShoutoutKind(p["kind"])})
            for p in value.get("prompts") or ()
        ]
        return cls(draws, {s.sale_id: s for s in sales}, prompts)


def _plain(record: DrawRecord | FlashRecord | PromptRecord) -> dict[str, Any]:
    out = {}
    for name in record.__dataclass_fields__:
        value = getattr(record, name)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def _circles(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(s.value for s in (parse_segment(v) for v in value) if s is not None)


def _draw(event: Event, minute: float) -> DrawRecord:
    data = event.data
    return DrawRecord(
        minute=minute,
        seq=event.seq,
        prize=display_text(str(data.get("prize", "")), 40),
        count=int(data.get("count") or 0),
        circles=_circles(data.get("circles")),
        min_watch_minutes=float(data.get("min_watch_minutes") or 0),
        must_comment=bool(data.get("must_comment")),
        in_room_now=bool(data.get("in_room_now")),
        eligible=int(data.get("eligible") or 0),
        winners=tuple(winner_nicks(data)),
        seed=str(data.get("seed", "")),
    )


def _flash(event: Event, minute: float) -> FlashRecord:
    data = event.data
    units = int(data.get("units") or 0)
    return FlashRecord(
        minute=minute,
        seq=event.seq,
        sale_id=str(data.get("sale_id", "")),
        product_id=str(data.get("product_id", "")),
        product_name=display_text(str(data.get("product_name") or data.get("product_id", "")), 40),
        price=float(data.get("price") or 0),
        units=units,
        units_left=units,
        limit_per_member=int(data.get("limit_per_member") or 0),
        minutes=float(data.get("minutes") or 0),
        circles=_circles(data.get("circles")),
    )
