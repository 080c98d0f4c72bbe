"""Prompts when the room turns: the room or a circle leaving, a 接龙 too slow (by event time)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.room import RoomState, fold
from console.domain.segments import Segment
from console.domain.shoutouts import ShoutoutKind
from console.domain.snapshot import from_snapshot, to_snapshot
from console.domain.turn_norms import DROP_SHARE, WINDOW_MIN
from console.domain.turns import (
    QUIET_MIN,
    TURN_RULES,
    chain_shortfall,
    counts_at,
    record,
)

T0 = 72_000.0  # 20:00 on the first day, on a minute boundary
TURN_KINDS = (ShoutoutKind.ONLINE_DROP, ShoutoutKind.CIRCLE_DROP, ShoutoutKind.CHAIN_PACE)


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(
        self,
        kind: EventType,
        ts: float,
        member: str | None = None,
        segment: Segment | None = None,
        **data: Any,
    ) -> None:
        seq = len(self.events) + 1
        self.events.append(Event(seq, f"e{seq}", kind, ts, member, segment, False, "", data))

    def join(self, ts: float, member: str, segment: Segment | None) -> None:
        self.add(EventType.VIEWER_JOINED, ts, member, segment)

    def leave(self, ts: float, member: str) -> None:
        self.add(EventType.VIEWER_LEFT, ts, member)

    def ticks(self, start: float, end: float, every: float = 20.0) -> None:
        """Likes from a guest, so that event time passes in a room where nobody moves."""
        ts = start
        while ts < end:
            self.add(EventType.LIKE, ts, None, None, count=1)
            ts += every

    def sorted(self) -> list[Event]:
        events = sorted(self.events, key=lambda e: e.ts)
        return [
            Event(n, f"e{n}", e.type, e.ts, e.member_id, e.segment, False, "", e.data)
            for n, e in enumerate(events, start=1)
        ]


def turns(state: RoomState, kind: ShoutoutKind) -> list[Any]:
    return [s for s in state.shoutouts.ordered() if s.kind is kind]


def raised(state: RoomState, kind: ShoutoutKind) -> int:
    return state.shoutouts.raised_by_kind.get(kind, 0)


def room(s1: int = 20, s2: int = 20, s4: int = 20) -> Log:
    log = Log()
    for n in range(s1):
        log.join(T0 + n, f"a{n}", Segment.S1)
    for n in range(s2):
        log.join(T0 + n, f"b{n}", Segment.S2)
    for n in range(s4):
        log.join(T0 + n, f"d{n}", Segment.S4)
    return log


def test_a_circle_losing_40_percent_in_five_minutes_raises_exactly_one_prompt() -> None:
    log = room()
    log.ticks(T0 + 30, T0 + 25 * 60)
    # Minutes 6 to 10: eight of the twenty S1 viewers leave, the others stay.
    for n in range(8):
        log.leave(T0 + 6 * 60 + n * 30, f"a{n}")
    state = fold(log.sorted())
    assert raised(state, ShoutoutKind.CIRCLE_DROP) == 1
    (prompt,) = turns(state, ShoutoutKind.CIRCLE_DROP)
    assert prompt.subject == "S1"
    assert prompt.text.startswith(f"S1 钻石核心 在线 {WINDOW_MIN}分钟内少了 ")
    assert "可推该圈层专属价" in prompt.text
    # 8 of 60 is 13%: the room as a whole did not turn.
    assert raised(state, ShoutoutKind.ONLINE_DROP) == 0
    assert state.online_by_segment[Segment.S1] == 12


def test_the_prompt_shows_the_fall_when_it_crossed_and_refreshes_while_it_waits() -> None:
    log = room(s1=10, s2=20, s4=0)
    log.ticks(T0 + 30, T0 + 12 * 60)
    for n in range(5):
        log.leave(T0 + 6 * 60 + n * 10, f"a{n}")  # 10 -> 5 within a minute
    state = fold(log.sorted())
    (prompt,) = turns(state, ShoutoutKind.CIRCLE_DROP)
    assert "少了 50%" in prompt.text
    assert raised(state, ShoutoutKind.CIRCLE_DROP) == 1


def test_a_steady_room_raises_no_prompt() -> None:
    log = room()
    log.ticks(T0 + 30, T0 + 40 * 60)
    # Viewers come and go, one in, one out, in every circle: the mix stays the same.
    for minute in range(2, 38):
        for n, segment in enumerate((Segment.S1, Segment.S2, Segment.S4)):
            letter = "abd"[n]
            log.leave(T0 + minute * 60 + n, f"{letter}{minute % 20}")
            log.join(T0 + minute * 60 + 30 + n, f"{letter}{minute % 20}", segment)
    state = fold(log.sorted())
    assert [raised(state, kind) for kind in TURN_KINDS] == [0, 0, 0]


def test_the_whole_room_falling_is_one_room_prompt_not_a_circle_one() -> None:
    log = room()
    log.ticks(T0 + 30, T0 + 15 * 60)
    for n in range(8):  # 24 of 60 leave, 8 from each circle: nobody faster than the room
        for letter in "abd":
            log.leave(T0 + 6 * 60 + n * 20, f"{letter}{n}")
    state = fold(log.sorted())
    assert raised(state, ShoutoutKind.ONLINE_DROP) == 1
    assert raised(state, ShoutoutKind.CIRCLE_DROP) == 0
    (prompt,) = turns(state, ShoutoutKind.ONLINE_DROP)
    assert prompt.text.startswith(f"在线 {WINDOW_MIN}分钟内少了 40%（60→36）")


def test_the_same_condition_again_after_acknowledgement_waits_out_the_window() -> None:
    log = room(s1=20, s2=20, s4=20)
    log.ticks(T0 + 30, T0 + 40 * 60)
    for n in range(8):
        log.leave(T0 + 6 * 60 + n * 5, f"a{n}")  # 20 -> 12 at minute 6
    events = log.sorted()
    first = fold(events)
    (prompt,) = turns(first, ShoutoutKind.CIRCLE_DROP)
    # The assistant acknowledges it at once; the circle keeps leaving.
    log.add(EventType.SHOUTOUT_ACKNOWLEDGED, prompt.ts + 1, None, None, shoutout_id=prompt.id)
    for n in range(8, 13):  # 12 -> 7 two minutes later: quiet, the window is not over
        log.leave(prompt.ts + 2 * 60 + n, f"a{n}")
    state = fold(log.sorted())
    assert raised(state, ShoutoutKind.CIRCLE_DROP) == 2  # once more, only after the window
    (again,) = turns(state, ShoutoutKind.CIRCLE_DROP)
    assert again.ts >= prompt.ts + WINDOW_MIN * 60


def test_a_price_sensitive_circle_is_named_plainly() -> None:
    log = room(s1=20, s2=20, s4=10)
    log.ticks(T0 + 30, T0 + 12 * 60)
    for n in range(5):
        log.leave(T0 + 6 * 60 + n * 10, f"d{n}")
    (prompt,) = turns(fold(log.sorted()), ShoutoutKind.CIRCLE_DROP)
    assert prompt.text.startswith("S4 观众 在线 5分钟内少了 50%")
    assert "价格敏感" not in prompt.text


def test_a_small_circle_losing_two_of_three_is_noise() -> None:
    log = room(s1=3, s2=20, s4=20)
    log.ticks(T0 + 30, T0 + 15 * 60)
    log.leave(T0 + 6 * 60, "a0")
    log.leave(T0 + 6 * 60 + 10, "a1")
    assert raised(fold(log.sorted()), ShoutoutKind.CIRCLE_DROP) == 0


def chain_log(entries_at: list[float]) -> Log:
    log = Log()
    log.add(
        EventType.CHAIN_OPENED,
        T0,
        None,
        None,
        chain_id="c1",
        product_id="p1",
        product_name="夏日轻食能量包",
        threshold=50,
        cap=200,
        deadline=T0 + 20 * 60,
    )
    for n, ts in enumerate(entries_at):
        log.add(
            EventType.ORDER_PLACED,
            ts,
            f"m{n}",
            Segment.S2,
            order_id=f"o{n}",
            product_id="p1",
            quantity=1,
            amount=29800,
            chain_id="c1",
            pickup_point="pt1",
        )
    return log


def test_a_slow_chain_raises_the_pace_prompt_with_the_missing_count() -> None:
    # 10 entries in the first 5 minutes of a 20-minute 接龙 toward 50: at that pace 40 by the
    # deadline, 10 short.
    log = chain_log([T0 + 20 + n * 25 for n in range(10)])
    log.ticks(T0 + 5 * 60, T0 + 5 * 60 + 30)
    state = fold(log.sorted())
    assert raised(state, ShoutoutKind.CHAIN_PACE) == 1
    (prompt,) = turns(state, ShoutoutKind.CHAIN_PACE)
    assert prompt.subject == "c1"
    assert prompt.text.startswith("夏日轻食能量包接龙按当前速度 截止时差 10 单")
    assert "还剩15分钟" in prompt.text


def test_a_chain_on_pace_raises_nothing_and_forming_removes_a_pace_prompt() -> None:
    quick = chain_log([T0 + 5 + n * 5 for n in range(30)])
    quick.ticks(T0 + 60, T0 + 10 * 60)
    assert raised(fold(quick.sorted()), ShoutoutKind.CHAIN_PACE) == 0
    slow = chain_log([T0 + 20 + n * 25 for n in range(10)])
    slow.ticks(T0 + 5 * 60, T0 + 5 * 60 + 30)
    slow.add(EventType.CHAIN_FORMED, T0 + 6 * 60, None, None, chain_id="c1")
    state = fold(slow.sorted())
    assert turns(state, ShoutoutKind.CHAIN_PACE) == []
    assert ShoutoutKind.CHAIN_FORMED in [s.kind for s in state.shoutouts.ordered()]


def test_chain_shortfall_is_the_pace_projected_to_the_deadline() -> None:
    assert chain_shortfall(10, 50, 0.0, 1200.0, 300.0) == 10
    assert chain_shortfall(12, 50, 0.0, 1200.0, 300.0) == 2
    assert chain_shortfall(13, 50, 0.0, 1200.0, 300.0) == 0
    assert chain_shortfall(0, 50, 0.0, 1200.0, 300.0) == 50
    assert chain_shortfall(1, 50, 0.0, 1200.0, 60.0) is None  # too early to judge
    assert chain_shortfall(1, 50, 0.0, 1200.0, 1200.0) is None  # past the deadline


def test_the_minutes_carry_counts_forward() -> None:
    ring: list[tuple[int, tuple[int, ...]]] = []
    for minute in (100, 101, 103, 110):
        record(ring, minute, (minute,))
    assert [m for m, _ in ring] == [100, 101, 103, 110]
    assert counts_at(ring, 111 - WINDOW_MIN) == (103,)  # 106: as it stood since 103 closed
    assert counts_at(ring, 110) == (110,)
    assert counts_at(ring, 99) is None
    assert 0 < DROP_SHARE < 1
    assert all(rule.subject_cooldown_s == QUIET_MIN * 60 for rule in TURN_RULES.values())


# -- folding in pieces, or through a snapshot, gives the same prompts ------------------------

_step = st.tuples(
    st.sampled_from(["join", "leave", "leave", "leave", "order", "like"]),  # rooms that empty
    st.integers(0, 29),
    st.sampled_from([Segment.S1, Segment.S2, Segment.S5, None]),
    st.floats(0, 30),
)


def random_log(steps: list[tuple[str, int, Segment | None, float]], exodus: int = 0) -> list[Event]:
    """A room of 30 where viewers come, go and order at random, and ``exodus`` S1 viewers
    leave together six minutes in."""
    log = room(s1=15, s2=15, s4=0)
    for n in range(exodus):
        log.leave(T0 + 6 * 60 + n * 3, f"a{n}")
    log.add(
        EventType.CHAIN_OPENED,
        T0 + 20,
        None,
        None,
        chain_id="c1",
        product_id="p1",
        threshold=40,
        cap=100,
        deadline=T0 + 40 * 60,
    )
    ts = T0 + 30
    for n, (what, who, segment, gap) in enumerate(steps):
        ts += gap
        member = f"{'ab'[who % 2]}{who % 15}"
        if what == "join":
            log.join(ts, member, segment)
        elif what == "leave":
            log.leave(ts, member)
        elif what == "order":
            log.add(
                EventType.ORDER_PLACED,
                ts,
                member,
                segment,
                order_id=f"o{n}",
                product_id="p1",
                quantity=1,
                amount=100,
                chain_id="c1",
            )
        else:
            log.add(EventType.LIKE, ts, None, None, count=1)
    return log.sorted()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_step, min_size=1, max_size=150),
    st.integers(0, 12),
    st.lists(st.integers(0, 200), max_size=5),
    st.floats(0, 1),
)
def test_folding_in_pieces_or_through_a_snapshot_raises_the_same_prompts(
    steps: list[tuple[str, int, Segment | None, float]], exodus: int, cuts: list[int], cut: float
) -> None:
    events = random_log(steps, exodus)
    whole = fold(events)
    pieces = RoomState()
    start = 0
    for end in sorted({min(c, len(events)) for c in cuts} | {len(events)}):
        pieces = fold(events[start:end], pieces)
        start = end
    assert pieces == whole
    assert pieces.shoutouts.to_dict() == whole.shoutouts.to_dict()
    half = int(len(events) * cut)
    restored = from_snapshot(orjson.loads(orjson.dumps(to_snapshot(fold(events[:half])))))
    restored.apply_all(events[half:])
    assert restored == whole
