"""The live feed's lines (互动流), chains' ends included."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.feed import FEED_TYPES, FeedReader, describe


def ev(seq: int, kind: EventType, member: str | None = None, **data: Any) -> Event:
    return Event(seq, f"e{seq}", kind, float(seq), member, nick="林*薇", data=data)


def opened(seq: int, chain: str = "c1", threshold: int = 5) -> Event:
    return ev(
        seq,
        EventType.CHAIN_OPENED,
        chain_id=chain,
        product_id="xzd-avocado",
        product_name="牛油果 6个装",
        threshold=threshold,
    )


def refund(seq: int, chain: str = "c1", reason: str = "chain_failed") -> Event:
    return ev(seq, EventType.ORDER_CANCELLED, f"m{seq}", chain_id=chain, reason=reason)


def test_a_failed_chain_says_how_many_entries_were_refunded() -> None:
    reader = FeedReader()
    log = [
        opened(1),
        ev(2, EventType.ORDER_PLACED, "m2", chain_id="c1"),
        ev(3, EventType.ORDER_PLACED, "m3", chain_id="c1"),
        ev(4, EventType.ORDER_PLACED, "m4", chain_id="c1"),
        refund(5, reason="assistant"),  # 退单 by hand before the end: not a refund of failure
        refund(6),
        refund(7),
        ev(8, EventType.CHAIN_FAILED, chain_id="c1", by="assistant"),
    ]
    # The store logs the refunds and the failure together, but they may arrive apart.
    lines = reader.lines(log[:6]) + reader.lines(log[6:])
    assert [(e.seq, text) for e, text in lines] == [(8, "牛油果 6个装 接龙未成团，已退款 2 单")]


def test_a_formed_chain_says_so_with_its_threshold() -> None:
    reader = FeedReader()
    lines = reader.lines(
        [opened(1, "c1", 3), opened(2, "c2", 9), ev(3, EventType.CHAIN_FORMED, chain_id="c1")]
    )
    assert [text for _, text in lines] == ["牛油果 6个装 接龙成团（满3单）"]


def test_a_chain_the_reader_never_saw_open_still_has_a_line() -> None:
    lines = FeedReader().lines(
        [ev(1, EventType.CHAIN_FAILED, chain_id="gone"), ev(2, EventType.CHAIN_FORMED)]
    )
    assert [text for _, text in lines] == ["接龙未成团，已退款", "接龙成团"]


def test_hostile_product_names_stay_one_short_line() -> None:
    reader = FeedReader()
    chain = opened(1)
    chain.data["product_name"] = "\u202e牛油果\n" + "长" * 300
    chain.data["threshold"] = "many"
    ((_, line),) = reader.lines([chain, ev(2, EventType.CHAIN_FORMED, chain_id="c1")])
    assert "\n" not in line
    assert "\u202e" not in line
    assert len(line) < 60
    assert line.endswith("接龙成团（满0单）")


@given(st.lists(st.sampled_from(list(EventType)), max_size=40))
def test_the_feed_lists_exactly_the_feed_types_in_log_order(kinds: list[EventType]) -> None:
    log = [ev(n, kind, f"m{n}", chain_id="c1", text="好吃吗") for n, kind in enumerate(kinds, 1)]
    lines = FeedReader().lines(log)
    assert [e.seq for e, _ in lines] == [e.seq for e in log if e.type in FEED_TYPES]
    for event, text in lines:
        if event.type not in (EventType.CHAIN_FORMED, EventType.CHAIN_FAILED):
            assert text == describe(event)
