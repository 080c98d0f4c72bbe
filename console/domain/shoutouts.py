"""Shout-outs (口播提醒): the moments the host should call out, derived from the event log.

The rules are data: ``RULES`` says, per kind, which events trigger it, how urgent it is, how
long the same subject (member, KOC, chain) and the kind as a whole stay quiet after one, and
whether further triggers within a window merge into the open shout-out ("又有3位新朋友下单了")
instead of raising a new one. A raised shout-out stays on the board until the floor assistant
acknowledges it (``shoutout_acknowledged``); pinned ones sort first. Everything is a function
of the events and their timestamps, so the live console and the replay show the same board.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from console.domain.draws import winner_nicks
from console.domain.events import Event, EventType
from console.domain.platform import platform_name
from console.domain.segments import Segment
from console.domain.text import display_text

if TYPE_CHECKING:
    from console.domain.room import RoomState

MAX_ACTIVE = 60
"""Most shout-outs kept waiting; beyond it the least urgent, oldest unpinned one is dropped."""

FOREVER = math.inf


class ShoutoutKind(StrEnum):
    VIP_ARRIVAL = "vip_arrival"  # 钻石核心进场
    VIP_ORDER = "vip_order"  # 钻石核心下单, named thanks
    REFERRAL_WIN = "referral_win"  # KOC 分享带来新朋友下单
    CHAIN_PROGRESS = "chain_progress"  # 还差N单成团
    CHAIN_FORMED = "chain_formed"  # 成团啦
    CHAIN_FAILED = "chain_failed"  # 接龙未成团: tell the room its entries are refunded
    COMEBACK = "comeback"  # a dormant S6 member's first order back
    VIP_QUESTION = "vip_question"  # a question from S1: answered first
    QUESTION = "question"
    PLATFORM_OVERSOLD = "platform_oversold"  # 平台订单超卖: the assistant sorts it out
    DRAW_WINNER = "draw_winner"  # 抽奖结果: 恭喜 林*薇 抽中 定制冰杯
    # Prompts when the room turns (console.domain.turns): for the host and the assistant.
    ONLINE_DROP = "online_drop"  # 在线人数 N 分钟内明显下滑
    CIRCLE_DROP = "circle_drop"  # 一个圈层比整个直播间流失得快
    CHAIN_PACE = "chain_pace"  # 接龙按当前速度到截止时成不了团
    ENTRIES_DROP = "entries_drop"  # 进房人次比前 N 分钟明显少
    CONVERSION_LOW = "conversion_low"  # 讲解中商品转化低于品牌常态


@dataclass(frozen=True)
class Trigger:
    """What a rule found in one event: whom it is about and the template's fields."""

    subject: str
    fields: Mapping[str, Any]
    member_id: str | None = None
    merge_key: str | None = None  # distinct contributors counted when merging (buyers)


Matcher = Callable[["RoomState", Event], Trigger | None]


@dataclass(frozen=True)
class ShoutoutRule:
    """One kind of shout-out.

    ``priority``: 1 is called out first. ``subject_cooldown_s``: after a shout-out about a
    subject, its next trigger within this time is suppressed (``FOREVER``: once a session).
    ``kind_cooldown_s``: the same for the kind as a whole. ``coalesce_s``: a trigger within
    this time of the subject's open shout-out merges into it (count + 1, text refreshed).
    ``supersedes``: kinds whose open shout-out about the same subject this one replaces.
    ``repeat_note``: merged triggers keep the first one's words (a member's first question)
    and append this note with the count (共问了3次) instead of refreshing the text.
    """

    kind: ShoutoutKind
    on: EventType | None  # None: raised by ``console.domain.turns``, not by one event type
    match: Matcher
    template: str
    priority: int
    subject_cooldown_s: float = 0.0
    kind_cooldown_s: float = 0.0
    coalesce_s: float = 0.0
    supersedes: tuple[ShoutoutKind, ...] = ()
    repeat_note: str = ""


@dataclass
class Shoutout:
    id: str  # "so-{seq}" of the event that raised it
    kind: ShoutoutKind
    subject: str
    priority: int
    text: str
    ts: float
    updated_ts: float
    member_id: str | None = None
    count: int = 1
    pinned: bool = False
    contributors: set[str] = field(default_factory=set)
    fields: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> Shoutout:
        return replace(self, contributors=set(self.contributors), fields=dict(self.fields))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "subject": self.subject,
            "priority": self.priority,
            "text": self.text,
            "ts": self.ts,
            "updated_ts": self.updated_ts,
            "member_id": self.member_id,
            "count": self.count,
            "pinned": self.pinned,
        }


# -- matchers: pure functions of (state after the event, event) -----------------------------

_QUESTION_MARKS = ("?", "？", "吗", "怎么", "多少", "什么", "能不能", "有没有", "可以", "几")


def is_question(text: str) -> bool:
    """A comment the host should answer: a question mark or a common question word."""
    return any(mark in text for mark in _QUESTION_MARKS)


def _who(event: Event) -> str:
    return display_text(event.nick, 16) or "访客"


def _product(state: RoomState, product_id: str) -> str:
    return state.product_names.get(product_id) or product_id


def _circle(event: Event) -> str:
    """The circle's name to say on air: none for a member who opted out of personalisation
    (DOMAIN.md: thanked by name, without a circle label)."""
    if event.opted_out or event.segment is None:
        return ""
    return event.segment.label


def _vip_arrival(state: RoomState, event: Event) -> Trigger | None:
    if event.segment is not Segment.S1 or event.member_id is None:
        return None
    fields = {"nick": _who(event), "circle": _circle(event)}
    return Trigger(event.member_id, fields, event.member_id)


def _vip_order(state: RoomState, event: Event) -> Trigger | None:
    if event.segment is not Segment.S1 or event.member_id is None:
        return None
    product = _product(state, str(event.data.get("product_id", "")))
    fields = {"nick": _who(event), "product": product, "circle": _circle(event)}
    return Trigger(event.member_id, fields, event.member_id)


def _referral_win(state: RoomState, event: Event) -> Trigger | None:
    referrer = str(event.data.get("referrer") or "")
    if not referrer or event.member_id is None:
        return None
    koc = display_text(str(event.data.get("referrer_nick") or ""), 16) or referrer
    return Trigger(referrer, {"koc": koc}, referrer, merge_key=event.member_id)


def _chain_progress(state: RoomState, event: Event) -> Trigger | None:
    chain = state.chains.get(str(event.data.get("chain_id") or ""))
    if chain is None or not 0 < chain.missing <= 3:
        return None
    fields = {"product": _product(state, chain.product_id), "missing": chain.missing}
    return Trigger(chain.id, fields)


def _chain_formed(state: RoomState, event: Event) -> Trigger | None:
    chain = state.chains.get(str(event.data.get("chain_id") or ""))
    if chain is None:
        return None
    fields = {"product": _product(state, chain.product_id), "threshold": chain.threshold}
    return Trigger(chain.id, fields)


def _chain_failed(state: RoomState, event: Event) -> Trigger | None:
    chain = state.chains.get(str(event.data.get("chain_id") or ""))
    if chain is None:
        return None
    return Trigger(chain.id, {"product": _product(state, chain.product_id)})


def _platform_oversold(state: RoomState, event: Event) -> Trigger | None:
    data = event.data
    product_id = str(data.get("product_id", ""))
    fields = {
        "platform": platform_name(str(data.get("platform", ""))),
        "product": _product(state, product_id),
        "quantity": data.get("quantity", 0),
        "reason": display_text(str(data.get("reason", "")), 20),
    }
    return Trigger(f"oversold:{product_id}", fields, merge_key=str(event.id))


def _draw_winner(state: RoomState, event: Event) -> Trigger | None:
    """抽奖: the winners by masked nick only, never by circle (an opted-out one included)."""
    nicks = winner_nicks(event.data)
    if not nicks:
        return None
    prize = display_text(str(event.data.get("prize", "")), 40)
    return Trigger(f"draw:{event.id}", {"nicks": "、".join(nicks), "prize": prize})


def _comeback(state: RoomState, event: Event) -> Trigger | None:
    """老友回归: a dormant member (S6) who had bought before this session orders again; a
    first order ever, or a log without the ``returning`` fact, is never greeted back."""
    if event.segment is not Segment.S6 or event.member_id is None:
        return None
    if event.data.get("returning") is not True:
        return None
    return Trigger(event.member_id, {"nick": _who(event)}, event.member_id)


def _question(segments: frozenset[Segment | None]) -> Matcher:
    def match(state: RoomState, event: Event) -> Trigger | None:
        text = str(event.data.get("text", ""))
        if event.segment not in segments or event.member_id is None or not is_question(text):
            return None
        circle = _circle(event)
        fields = {
            "nick": _who(event),
            "text": display_text(text, 60),
            "circle": f"（{circle}）" if circle else "",
        }
        return Trigger(event.member_id, fields, event.member_id)

    return match


_OTHERS: frozenset[Segment | None] = frozenset({*Segment, None}) - {Segment.S1}

RULES: tuple[ShoutoutRule, ...] = (
    ShoutoutRule(
        ShoutoutKind.DRAW_WINNER,
        EventType.DRAW_DRAWN,
        _draw_winner,
        "恭喜 {nicks} 抽中 {prize}",
        priority=1,
    ),
    ShoutoutRule(
        ShoutoutKind.CHAIN_FORMED,
        EventType.CHAIN_FORMED,
        _chain_formed,
        "成团啦！{product}接龙满{threshold}单",
        priority=1,
        subject_cooldown_s=FOREVER,
        supersedes=(ShoutoutKind.CHAIN_PROGRESS, ShoutoutKind.CHAIN_PACE),
    ),
    ShoutoutRule(
        ShoutoutKind.CHAIN_FAILED,
        EventType.CHAIN_FAILED,
        _chain_failed,
        "{product}接龙未成团，已自动退款",
        priority=2,
        subject_cooldown_s=FOREVER,
        supersedes=(ShoutoutKind.CHAIN_PROGRESS, ShoutoutKind.CHAIN_PACE),
    ),
    ShoutoutRule(
        ShoutoutKind.CHAIN_PROGRESS,
        EventType.ORDER_PLACED,
        _chain_progress,
        "{product}接龙还差{missing}单成团",
        priority=2,
        coalesce_s=FOREVER,
    ),
    ShoutoutRule(
        ShoutoutKind.PLATFORM_OVERSOLD,
        EventType.PLATFORM_ORDER_FLAGGED,
        _platform_oversold,
        "平台订单超卖：{platform} {product} ×{quantity}（{reason}），共{count}单待处理",
        priority=1,
        coalesce_s=FOREVER,  # one line per product until the assistant acknowledges it
    ),
    ShoutoutRule(
        ShoutoutKind.VIP_QUESTION,
        EventType.COMMENT,
        _question(frozenset({Segment.S1})),
        "{nick}{circle}提问：{text}",
        priority=2,
        subject_cooldown_s=30,
        coalesce_s=FOREVER,  # while the first is waiting, more from the member merge into it
        repeat_note="（共问了{count}次）",
    ),
    ShoutoutRule(
        ShoutoutKind.VIP_ORDER,
        EventType.ORDER_PLACED,
        _vip_order,
        "感谢{circle} @{nick} 下单{product}",
        priority=3,
        subject_cooldown_s=120,
    ),
    ShoutoutRule(
        ShoutoutKind.REFERRAL_WIN,
        EventType.ORDER_PLACED,
        _referral_win,
        "恭喜@{koc}，通过你的分享又有{count}位新朋友下单了",
        priority=3,
        coalesce_s=90,
    ),
    ShoutoutRule(
        ShoutoutKind.COMEBACK,
        EventType.ORDER_PLACED,
        _comeback,
        "欢迎 @{nick} 回来下单，好久不见！",
        priority=3,
        subject_cooldown_s=FOREVER,
    ),
    ShoutoutRule(
        ShoutoutKind.VIP_ARRIVAL,
        EventType.VIEWER_JOINED,
        _vip_arrival,
        "欢迎{circle} @{nick} 来到直播间",
        priority=4,
        subject_cooldown_s=30 * 60,
    ),
    ShoutoutRule(
        ShoutoutKind.QUESTION,
        EventType.COMMENT,
        _question(_OTHERS),
        "{nick} 提问：{text}",
        priority=6,
        subject_cooldown_s=120,
        kind_cooldown_s=10,
        coalesce_s=FOREVER,
        repeat_note="（共问了{count}次）",
    ),
)


_BY_EVENT: dict[EventType, tuple[ShoutoutRule, ...]] = {
    t: tuple(rule for rule in RULES if rule.on is t) for t in EventType
}


@dataclass
class ShoutoutBoard:
    """The shout-outs waiting for the host, and the memory the cooldowns need."""

    active: dict[str, Shoutout] = field(default_factory=dict)
    raised: int = 0
    merged: int = 0
    suppressed: int = 0
    acknowledged: int = 0
    dropped: int = 0
    superseded: int = 0
    raised_by_kind: dict[ShoutoutKind, int] = field(default_factory=dict)
    _last_by_subject: dict[tuple[ShoutoutKind, str], float] = field(default_factory=dict)
    _last_by_kind: dict[ShoutoutKind, float] = field(default_factory=dict)
    _open_by_subject: dict[tuple[ShoutoutKind, str], str] = field(default_factory=dict)

    def copy(self) -> ShoutoutBoard:
        """An independent copy (replay checkpoints)."""
        return replace(
            self,
            active={sid: shoutout.copy() for sid, shoutout in self.active.items()},
            raised_by_kind=dict(self.raised_by_kind),
            _last_by_subject=dict(self._last_by_subject),
            _last_by_kind=dict(self._last_by_kind),
            _open_by_subject=dict(self._open_by_subject),
        )

    def observe(self, state: RoomState, event: Event) -> None:
        """Apply every rule listening to ``event.type`` (after the reducer folded it)."""
        for rule in _BY_EVENT[event.type]:
            trigger = rule.match(state, event)
            if trigger is not None:
                self._fire(rule, trigger, event)

    def prompt(self, rule: ShoutoutRule, trigger: Trigger, event: Event) -> None:
        """Raise (or refresh) a prompt found over the fold at ``event`` rather than by a rule
        listening to its type (``console.domain.turns``), with ``rule``'s cooldowns."""
        self._fire(rule, trigger, event)

    def _fire(self, rule: ShoutoutRule, trigger: Trigger, event: Event) -> None:
        key = (rule.kind, trigger.subject)
        open_id = self._open_by_subject.get(key)
        current = self.active.get(open_id) if open_id else None
        if current is not None and event.ts - current.ts <= rule.coalesce_s:
            if trigger.merge_key is not None:
                if trigger.merge_key in current.contributors:
                    return
                current.contributors.add(trigger.merge_key)
                current.count = len(current.contributors)
            if rule.repeat_note:
                current.count += 1
            else:
                current.fields.update(trigger.fields)
            current.text = _render(rule, current.fields, current.count)
            current.updated_ts = event.ts
            self.merged += 1
            return
        last = self._last_by_subject.get(key)
        if last is not None and event.ts - last < rule.subject_cooldown_s:
            self.suppressed += 1
            return
        last_kind = self._last_by_kind.get(rule.kind)
        if last_kind is not None and event.ts - last_kind < rule.kind_cooldown_s:
            self.suppressed += 1
            return
        for kind in rule.supersedes:
            replaced = self._open_by_subject.get((kind, trigger.subject))
            if replaced is not None:
                self._remove(replaced)
                self.superseded += 1
        contributors = {trigger.merge_key} if trigger.merge_key is not None else set()
        shoutout = Shoutout(
            id=f"so-{event.seq}-{rule.kind.value}",
            kind=rule.kind,
            subject=trigger.subject,
            priority=rule.priority,
            text=_render(rule, trigger.fields, 1),
            ts=event.ts,
            updated_ts=event.ts,
            member_id=trigger.member_id,
            contributors=contributors,
            fields=dict(trigger.fields),
        )
        self.active[shoutout.id] = shoutout
        self._open_by_subject[key] = shoutout.id
        self._last_by_subject[key] = event.ts
        self._last_by_kind[rule.kind] = event.ts
        self.raised += 1
        self.raised_by_kind[rule.kind] = self.raised_by_kind.get(rule.kind, 0) + 1
        if len(self.active) > MAX_ACTIVE:
            self._remove(max(self.active.values(), key=_drop_order).id)
            self.dropped += 1

    def acknowledge(self, shoutout_id: str) -> bool:
        """The host has called it out: off the board. False if it was not waiting."""
        if shoutout_id not in self.active:
            return False
        self._remove(shoutout_id)
        self.acknowledged += 1
        return True

    def pin(self, shoutout_id: str, pinned: bool) -> bool:
        shoutout = self.active.get(shoutout_id)
        if shoutout is None:
            return False
        shoutout.pinned = pinned
        return True

    def ordered(self) -> list[Shoutout]:
        """The board as the host reads it: pinned first, then by priority, oldest first."""
        return sorted(self.active.values(), key=lambda s: (not s.pinned, s.priority, s.ts, s.id))

    def _remove(self, shoutout_id: str) -> None:
        shoutout = self.active.pop(shoutout_id)
        key = (shoutout.kind, shoutout.subject)
        if self._open_by_subject.get(key) == shoutout_id:
            del self._open_by_subject[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "active": [s.to_dict() for s in self.ordered()],
            "raised": self.raised,
            "merged": self.merged,
            "suppressed": self.suppressed,
            "acknowledged": self.acknowledged,
            "dropped": self.dropped,
            "superseded": self.superseded,
            "raised_by_kind": {k.value: n for k, n in self.raised_by_kind.items()},
        }


def raised_by(board: ShoutoutBoard, event: Event) -> list[Shoutout]:
    """The shout-outs ``event`` raised that are on the board (just after it was folded)."""
    prefix = f"so-{event.seq}-"
    return [s for s in board.active.values() if s.id.startswith(prefix)]


def _drop_order(shoutout: Shoutout) -> tuple[bool, int, float]:
    """The first to go when the board is full: unpinned, least urgent, oldest."""
    return (not shoutout.pinned, shoutout.priority, -shoutout.ts)


def _render(rule: ShoutoutRule, fields: Mapping[str, Any], count: int) -> str:
    text = rule.template.format(**fields, count=count)
    if rule.repeat_note and count > 1:
        text += rule.repeat_note.format(count=count)
    return display_text(text, 120)
