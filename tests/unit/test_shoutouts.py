"""Shout-out rules: triggers, priorities, cooldowns, coalescing, acknowledgement, replay."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.room import RoomState, fold
from console.domain.segments import Segment
from console.domain.shoutouts import MAX_ACTIVE, RULES, ShoutoutKind, is_question


class Log:
    """Builds a log with gapless seq and explicit timestamps."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(
        self,
        kind: EventType,
        ts: float,
        member: str | None = None,
        segment: Segment | None = None,
        nick: str = "",
        **data: Any,
    ) -> Event:
        seq = len(self.events) + 1
        event = Event(seq, f"e{seq}", kind, ts, member, segment, False, nick, data)
        self.events.append(event)
        return event

    def order(self, ts: float, member: str, segment: Segment | None, **data: Any) -> Event:
        data.setdefault("product_id", "p1")
        data.setdefault("product_name", "牛油果")
        data.setdefault("quantity", 1)
        data.setdefault("amount", 990)
        return self.add(EventType.ORDER_PLACED, ts, member, segment, nick=member, **data)

    def state(self) -> RoomState:
        return fold(self.events)


def kinds(state: RoomState) -> list[ShoutoutKind]:
    return [s.kind for s in state.shoutouts.ordered()]


def test_every_rule_is_well_formed() -> None:
    assert len({rule.kind for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.priority >= 1
        assert rule.subject_cooldown_s >= 0
        assert rule.kind_cooldown_s >= 0
        assert rule.coalesce_s >= 0


def test_s1_arrival_is_called_out_by_nick_and_not_again_within_the_cooldown() -> None:
    log = Log()
    log.add(EventType.VIEWER_JOINED, 0, "a", Segment.S1, nick="林*薇")
    log.add(EventType.VIEWER_JOINED, 1, "b", Segment.S3, nick="王*")
    log.add(EventType.VIEWER_LEFT, 60, "a", Segment.S1)
    log.add(EventType.VIEWER_JOINED, 120, "a", Segment.S1, nick="林*薇")  # within 30 min
    state = log.state()
    board = state.shoutouts
    assert kinds(state) == [ShoutoutKind.VIP_ARRIVAL]
    assert board.ordered()[0].text == "欢迎钻石核心 @林*薇 来到直播间"
    assert board.suppressed == 1
    log.add(EventType.VIEWER_JOINED, 120 + 30 * 60, "a", Segment.S1, nick="林*薇")
    assert log.state().shoutouts.raised == 2


def test_referral_wins_coalesce_per_koc_over_the_window() -> None:
    log = Log()
    for n, buyer in enumerate(("n1", "n2", "n2", "n3")):
        log.order(10.0 + n, buyer, Segment.S6, referrer="koc", referrer_nick="小*美")
    log.order(12.0, "x", Segment.S4, referrer="other", referrer_nick="赵*")
    state = log.state()
    wins = [s for s in state.shoutouts.ordered() if s.kind is ShoutoutKind.REFERRAL_WIN]
    by_koc = {s.subject: s for s in wins}
    assert by_koc["koc"].count == 3  # n2 twice counts once
    assert by_koc["koc"].text == "恭喜@小*美，通过你的分享又有3位新朋友下单了"
    assert by_koc["other"].count == 1
    # Past the window a new shout-out starts for the same KOC.
    log.order(200.0, "n4", Segment.S6, referrer="koc", referrer_nick="小*美")
    wins = [s for s in log.state().shoutouts.ordered() if s.subject == "koc"]
    assert [s.count for s in wins] == [3, 1]


def test_chain_milestones_count_down_then_form_and_replace_the_countdown() -> None:
    log = Log()
    log.add(
        EventType.CHAIN_OPENED,
        0,
        chain_id="c1",
        product_id="p1",
        product_name="牛油果",
        threshold=5,
        cap=10,
        deadline=3600,
    )
    log.order(1, "m1", Segment.S3, chain_id="c1")  # 4 missing: nothing yet
    assert ShoutoutKind.CHAIN_PROGRESS not in kinds(log.state())
    log.order(2, "m2", Segment.S3, chain_id="c1")  # 3 missing
    board = log.state().shoutouts
    (progress,) = board.ordered()
    assert progress.text == "牛油果接龙还差3单成团"
    log.order(3, "m3", Segment.S3, chain_id="c1")
    log.order(4, "m4", Segment.S3, chain_id="c1")
    (progress,) = log.state().shoutouts.ordered()
    assert progress.text == "牛油果接龙还差1单成团"  # the same shout-out, updated
    log.order(5, "m5", Segment.S3, chain_id="c1")
    log.add(EventType.CHAIN_FORMED, 5, chain_id="c1")
    state = log.state()
    assert [s.text for s in state.shoutouts.ordered()] == ["成团啦！牛油果接龙满5单"]
    assert state.shoutouts.ordered()[0].priority == 1
    assert state.shoutouts.superseded == 1


def test_a_dormant_member_is_welcomed_back_once() -> None:
    log = Log()
    log.order(1, "s6", Segment.S6, returning=True)
    log.order(2, "s6", Segment.S6, returning=True)
    log.order(3, "s5", Segment.S5, returning=True)
    state = log.state()
    assert kinds(state) == [ShoutoutKind.COMEBACK]
    assert state.shoutouts.suppressed == 1


def test_a_first_order_ever_is_never_greeted_as_a_comeback() -> None:
    """欢迎回来 greeted first-time buyers: only a member who bought before this session
    (the store's ``returning`` fact) is a comeback; a log without the fact greets nobody."""
    log = Log()
    log.order(1, "new", Segment.S6, returning=False, new_customer=True)
    log.order(2, "new", Segment.S6, returning=False)  # their second order, same session
    log.order(3, "old-log", Segment.S6)
    assert ShoutoutKind.COMEBACK not in kinds(log.state())


def test_s1_questions_come_before_others_and_before_older_lower_priority_ones() -> None:
    log = Log()
    log.add(EventType.COMMENT, 1, "a", Segment.S4, nick="甲", text="什么时候发货？")
    log.add(EventType.COMMENT, 2, "b", Segment.S1, nick="乙", text="樱桃是车厘子吗")
    log.add(EventType.COMMENT, 3, "c", Segment.S2, nick="丙", text="讲得好清楚")  # not a question
    state = log.state()
    assert kinds(state) == [ShoutoutKind.VIP_QUESTION, ShoutoutKind.QUESTION]
    assert state.shoutouts.ordered()[0].text == "乙（钻石核心）提问：樱桃是车厘子吗"


def test_other_questions_have_a_kind_cooldown() -> None:
    log = Log()
    log.add(EventType.COMMENT, 0, "a", Segment.S4, nick="甲", text="几点发货？")
    log.add(EventType.COMMENT, 5, "b", Segment.S5, nick="乙", text="多少钱？")  # within 10 s
    log.add(EventType.COMMENT, 11, "c", Segment.S5, nick="丙", text="多少钱？")
    state = log.state()
    assert state.shoutouts.raised == 2
    assert state.shoutouts.suppressed == 1


def test_acknowledged_shoutouts_leave_and_pinned_ones_lead() -> None:
    log = Log()
    log.add(EventType.VIEWER_JOINED, 0, "a", Segment.S1, nick="甲")
    log.add(EventType.COMMENT, 1, "b", Segment.S1, nick="乙", text="能送到自提点吗")
    first, second = (s.id for s in log.state().shoutouts.ordered())
    assert log.state().shoutouts.ordered()[0].kind is ShoutoutKind.VIP_QUESTION
    log.add(EventType.SHOUTOUT_PINNED, 2, shoutout_id=second, pinned=True)
    assert log.state().shoutouts.ordered()[0].id == second
    log.add(EventType.SHOUTOUT_ACKNOWLEDGED, 3, shoutout_id=first)
    log.add(EventType.SHOUTOUT_ACKNOWLEDGED, 4, shoutout_id=first)  # twice: no effect
    log.add(EventType.SHOUTOUT_ACKNOWLEDGED, 5, shoutout_id="so-unknown")
    state = log.state()
    assert [s.id for s in state.shoutouts.ordered()] == [second]
    assert state.shoutouts.acknowledged == 1
    # Unacknowledged ones stay however long it takes.
    log.add(EventType.LIKE, 99_999, "z", Segment.S5, count=1)
    assert [s.id for s in log.state().shoutouts.ordered()] == [second]


def test_the_board_is_bounded_and_drops_the_least_urgent_first() -> None:
    log = Log()
    log.add(EventType.VIEWER_JOINED, 0, "vip", Segment.S1, nick="甲")
    for n in range(MAX_ACTIVE + 5):
        log.add(EventType.COMMENT, 100 + 11 * n, f"m{n}", Segment.S4, nick="乙", text="吗")
    board = log.state().shoutouts
    assert len(board.active) == MAX_ACTIVE
    assert board.dropped == 6
    assert board.ordered()[0].kind is ShoutoutKind.VIP_ARRIVAL  # a question went, not the VIP


def test_notices_and_presenting_product_fold_from_commands() -> None:
    log = Log()
    log.add(EventType.PRODUCT_PRESENTED, 1, product_id="p2", product_name="西瓜")
    for n in range(25):
        log.add(EventType.NOTICE_POSTED, 2 + n, text=f"公告{n}")
    log.add(EventType.STOCK_ADJUSTED, 30, product_id="p2", delta=5, stock_left=55)
    state = log.state()
    assert state.presenting == "p2"
    assert state.presenting_since == 1
    assert state.product_names["p2"] == "西瓜"
    assert len(state.notices) == 20
    assert state.notices[-1]["text"] == "公告24"
    assert state.stock_left["p2"] == 55


def test_question_words() -> None:
    assert is_question("能送到自提点吗")
    assert is_question("298包含几天的量？")
    assert not is_question("小林老师讲得好清楚")


_segments = st.sampled_from([*Segment, None])
_event_specs = st.lists(
    st.tuples(
        st.sampled_from(["join", "comment", "order", "ack"]),
        st.integers(0, 6),
        _segments,
        st.floats(0, 30),
    ),
    max_size=80,
)


@settings(max_examples=150)
@given(_event_specs)
def test_folding_in_pieces_gives_the_same_board_as_folding_at_once(specs: list[Any]) -> None:
    log = Log()
    ts = 0.0
    for action, who, segment, gap in specs:
        ts += gap
        member = f"m{who}"
        if action == "join":
            log.add(EventType.VIEWER_JOINED, ts, member, segment, nick=member)
        elif action == "comment":
            log.add(EventType.COMMENT, ts, member, segment, nick=member, text="有没有？")
        elif action == "order":
            log.order(ts, member, segment, referrer="k" if who % 2 else "")
        else:
            log.add(EventType.SHOUTOUT_ACKNOWLEDGED, ts, shoutout_id=f"so-{who}-vip_arrival")
    whole = log.state().shoutouts
    split = len(log.events) // 2
    halves = fold(log.events[split:], fold(log.events[:split])).shoutouts
    assert whole.to_dict() == halves.to_dict()
    assert whole.raised == (
        len(whole.active) + whole.acknowledged + whole.dropped + whole.superseded
    )
    assert all(s.priority >= 1 for s in whole.active.values())


def test_an_opted_out_member_is_thanked_by_name_without_a_circle() -> None:
    """DOMAIN.md: an opted-out member is thanked by name, never announced as 钻石核心."""
    log = Log()
    for kind, ts, data in (
        (EventType.VIEWER_JOINED, 1, {}),
        (EventType.COMMENT, 2, {"text": "有没有大瓶装？"}),
        (EventType.ORDER_PLACED, 3, {"product_id": "p1", "amount": 990, "quantity": 1}),
    ):
        seq = len(log.events) + 1
        log.events.append(
            Event(seq, f"e{seq}", kind, ts, "vip", Segment.S1, False, "林*薇", data, True)
        )
    texts = [s.text for s in log.state().shoutouts.ordered()]
    assert len(texts) == 3
    assert all("林*薇" in text and "钻石核心" not in text for text in texts), texts
    log.add(EventType.VIEWER_JOINED, 4, "vip2", Segment.S1, nick="王*")
    assert any("钻石核心" in s.text for s in log.state().shoutouts.ordered())


def test_a_members_repeated_questions_merge_into_their_first() -> None:
    """The same members' repeated questions filled the board and pushed 还差N单成团 down."""
    log = Log()
    log.add(EventType.COMMENT, 1, "a", Segment.S4, nick="甲", text="什么时候发货？")
    log.add(EventType.COMMENT, 200, "a", Segment.S4, nick="甲", text="发货了吗？")
    log.add(EventType.COMMENT, 400, "a", Segment.S4, nick="甲", text="到底几号发？")
    log.add(EventType.COMMENT, 401, "b", Segment.S1, nick="乙", text="有大瓶吗？")
    log.add(EventType.COMMENT, 402, "b", Segment.S1, nick="乙", text="大瓶多少钱？")
    board = log.state().shoutouts.ordered()
    assert [s.text for s in board] == [
        "乙（钻石核心）提问：有大瓶吗？（共问了2次）",
        "甲 提问：什么时候发货？（共问了3次）",
    ]
    assert [s.count for s in board] == [2, 3]


def test_a_failed_chain_leaves_a_shoutout_in_place_of_its_countdown() -> None:
    log = Log()
    log.add(
        EventType.CHAIN_OPENED,
        1,
        chain_id="c1",
        product_id="p1",
        product_name="牛油果",
        threshold=3,
        cap=9,
        deadline=100.0,
    )
    log.order(2, "a", Segment.S4, chain_id="c1", pickup_point="pt")
    log.add(EventType.CHAIN_FAILED, 100, chain_id="c1", by="deadline")
    assert [(s.kind, s.text) for s in log.state().shoutouts.ordered()] == [
        (ShoutoutKind.CHAIN_FAILED, "牛油果接龙未成团，已自动退款")
    ]
