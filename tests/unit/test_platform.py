"""Live platforms in the domain: 接龙 comments, which chain they join, bind codes, platform
orders (stock taken once, returned once), and what the room and the feed show."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.catalog import Product
from console.domain.chains import Chain, ChainStatus
from console.domain.comment_chain import (
    OpenChain,
    chain_for_comment,
    check_pattern,
    join_quantity,
)
from console.domain.decisions import Refused
from console.domain.events import Event, EventType
from console.domain.feed import FeedReader
from console.domain.identities import BindCode, Handle, bind_code_in, decide_bind
from console.domain.platform import AdapterHealth, handle_tag
from console.domain.platform_orders import (
    KnownPlatformOrder,
    PlatformOrder,
    PlatformOrderFacts,
    PlatformOrderState,
    decide_platform_order,
)
from console.domain.redaction import redact_event_data
from console.domain.room import fold
from console.domain.sessions import SessionStatus
from console.domain.snapshot import from_snapshot, to_snapshot


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("+1", 1),
        ("+2", 2),
        ("＋３", 3),
        ("接龙 2份", 2),
        ("接龙2", 2),
        ("2份", 2),
        (" +1 ", 1),
        ("+0", None),
        ("+1 好吃吗", None),
        ("我+1", None),
        ("1", None),
        ("+1000", None),
    ],
)
def test_the_default_pattern(text: str, quantity: int | None) -> None:
    assert join_quantity(text) == quantity


def test_a_chains_own_pattern() -> None:
    assert join_quantity("要3份", "要N份|我要") == 3
    assert join_quantity("我要", "要N份|我要") == 1
    assert join_quantity("+1", "要N份|我要") is None
    assert join_quantity("a.*b", "a.*b") == 1  # a template, never a regular expression
    assert join_quantity("aXXb", "a.*b") is None
    assert check_pattern("  ") is None
    for bad in ("N", "要N份N", "+N||"):
        with pytest.raises(Refused, match="comment_pattern"):
            check_pattern(bad)


def _open(cid: str, product: str, opened: float, status: ChainStatus = ChainStatus.OPEN) -> Any:
    return OpenChain(Chain(cid, product, 3, 10, 9e9, status=status), opened)


def test_a_comment_joins_the_chain_on_the_presented_product_else_the_newest() -> None:
    chains = [_open("c1", "p-a", 1.0), _open("c2", "p-b", 2.0), _open("c3", "p-c", 3.0)]
    assert chain_for_comment(chains, "p-a").chain.id == "c1"  # type: ignore[union-attr]
    assert chain_for_comment(chains, "p-z").chain.id == "c3"  # type: ignore[union-attr]
    assert chain_for_comment(chains, None).chain.id == "c3"  # type: ignore[union-attr]
    ended = [_open("c1", "p-a", 1.0, ChainStatus.CLOSED), _open("c2", "p-b", 2.0)]
    assert chain_for_comment(ended, "p-a").chain.id == "c2"  # type: ignore[union-attr]
    assert chain_for_comment([_open("c1", "p-a", 1.0, ChainStatus.FAILED)], "p-a") is None


@given(
    st.lists(
        st.tuples(st.sampled_from(["p-a", "p-b"]), st.floats(0, 100), st.sampled_from(ChainStatus)),
        max_size=6,
    ),
    st.sampled_from(["p-a", "p-b", None]),
)
def test_the_chosen_chain_always_takes_entries(
    specs: list[tuple[str, float, ChainStatus]], presenting: str | None
) -> None:
    chains = [_open(f"c{i}", p, t, s) for i, (p, t, s) in enumerate(specs)]
    chosen = chain_for_comment(chains, presenting)
    active = [c for c in chains if c.chain.status.active]
    assert (chosen is None) == (not active)
    if chosen is not None:
        assert chosen.chain.status.active
        if any(c.chain.product_id == presenting for c in active):
            assert chosen.chain.product_id == presenting


def test_a_bind_code_binds_an_unbound_handle_once_before_it_expires() -> None:
    assert bind_code_in("绑定 123456") == "123456"
    assert bind_code_in("绑定：１２３４５６") == "123456"
    assert bind_code_in("绑定 12345") is None
    code = BindCode("123456", "m1", expires_at=100.0)
    binding = decide_bind(Handle("tiktok", "u1"), code, "123456", 50.0, "tag")
    assert binding.member_id == "m1"
    assert binding.event.type is EventType.IDENTITY_BOUND
    assert "u1" not in str(binding.event.data)  # the log keeps the tag only
    cases = [
        (Handle("tiktok", "u1", "m2"), code, 50.0, "已绑定"),
        (Handle("tiktok", "u1"), None, 50.0, "无效"),
        (Handle("tiktok", "u1"), BindCode("123456", "m1", 100.0, used=True), 50.0, "已使用"),
        (Handle("tiktok", "u1"), code, 100.0, "已过期"),
    ]
    for handle, found, now, reason in cases:
        with pytest.raises(Refused, match=reason):
            decide_bind(handle, found, "123456", now, "tag")


def test_redaction_hides_bind_codes_and_handles() -> None:
    data = {"text": "绑定 123456", "platform_user": {"platform": "tiktok", "handle": "u1"}}
    clean = redact_event_data(data)
    assert clean is not None
    assert "123456" not in clean["text"]
    assert clean["platform_user"] == {"platform": "tiktok", "tag": handle_tag("tiktok", "u1")}


PRODUCT = Product("p", "冰酸奶", 2990, "", "")


def _decide(
    status: str, stock: int, known: KnownPlatformOrder | None = None, quantity: int = 2
) -> Any:
    order = PlatformOrder("tiktok", "T1", status, "p", quantity, 5000, "m1")
    facts = PlatformOrderFacts(SessionStatus.LIVE, known, PRODUCT, stock, False)
    return decide_platform_order(order, facts, "o_1", 10.0)


def test_a_paid_platform_order_takes_stock_at_the_platforms_price() -> None:
    decision = _decide("paid", 5)
    assert decision.state is PlatformOrderState.PLACED
    assert decision.stock_left == 3
    placed = decision.events[0]
    assert placed.type is EventType.ORDER_PLACED
    assert (placed.data["amount"], placed.data["platform_order_id"]) == (5000, "T1")


def test_an_oversold_platform_order_is_flagged_and_takes_nothing() -> None:
    decision = _decide("paid", 1)
    assert decision.state is PlatformOrderState.FLAGGED
    assert decision.stock_left is None
    assert [e.type for e in decision.events] == [EventType.PLATFORM_ORDER_FLAGGED]
    assert FeedReader().describe(_event(decision.events[0])).startswith("平台订单超卖：抖音")


def _event(new: Any, seq: int = 1) -> Event:
    return Event(seq, f"e{seq}", new.type, new.ts, new.member_id, data=new.data)


@given(st.lists(st.sampled_from(["paid", "cancelled", "refunded"]), max_size=8), st.integers(0, 4))
def test_any_status_sequence_takes_stock_at_most_once_and_returns_it_at_most_once(
    statuses: list[str], stock: int
) -> None:
    """Platforms resend and reorder: whatever comes, the stock is the start, or the start
    less the one order while it stands."""
    start = stock
    known: KnownPlatformOrder | None = None
    for status in statuses:
        decision = _decide(status, stock, known)
        if decision.state is None:
            continue
        if decision.stock_left is not None:
            stock = decision.stock_left
        standing = decision.order if decision.state is PlatformOrderState.PLACED else None
        known = KnownPlatformOrder(decision.state, standing)
        assert stock in (start, start - 2)
        assert (stock == start - 2) == (known.state is PlatformOrderState.PLACED)


def test_the_room_shows_the_platforms_counts_links_and_stream_state() -> None:
    events = [
        Event(
            1,
            "a",
            EventType.ROOM_STATS,
            1.0,
            data={"platform": "tiktok", "online": 12, "total_viewers": 30},
        ),
        Event(
            2,
            "b",
            EventType.ROOM_STATS,
            2.0,
            data={"platform": "tiktok", "online": 15, "total_viewers": 31},
        ),
        Event(
            3,
            "c",
            EventType.ADAPTER_STATUS,
            3.0,
            data={
                "source": "wechat",
                "connected": False,
                "last_message_ts": None,
                "lag_s": None,
                "dropped": 2,
            },
        ),
        Event(4, "d", EventType.LIVE_STARTED, 4.0, data={"platform": "tiktok"}),
        Event(5, "e", EventType.FOLLOW, 5.0, member_id="m1", nick="林*薇"),
    ]
    half = fold(events[:2])
    room = fold(events[2:], from_snapshot(to_snapshot(half)))
    assert room.platform_counts["tiktok"].online == 15
    assert room.adapters["wechat"].label() == "微信小店 ○ 断开"
    assert room.platform_live == {"tiktok": True}
    assert room.to_dict()["platform_counts"]["tiktok"]["total_viewers"] == 31
    lines = [line for _, line in FeedReader().lines(events)]
    assert lines == ["抖音 平台开播", "林*薇 关注了主播"]
    health = AdapterHealth("tiktok", True, 1.0, 0.4, 0, 1.0)
    assert health.label() == "抖音 ● 已连接 · 延迟 0.4s"
