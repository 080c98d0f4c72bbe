"""接龙 progress in the room, on a log built by hand."""

from __future__ import annotations

from typing import Any

from console.domain.chains import ChainStatus
from console.domain.events import Event, EventType
from console.domain.room import fold
from console.domain.segments import Segment

CHAIN = {
    "chain_id": "c1",
    "product_id": "p-pack",
    "threshold": 3,
    "cap": 5,
    "deadline": 500.0,
    "gift_first": 2,
    "gift": "《7天轻食食谱》",
}


def log(*specs: tuple[str, str | None, dict[str, Any]]) -> list[Event]:
    return [
        Event(
            n,
            f"e{n}",
            EventType(kind),
            100.0 + n,
            member,
            Segment.S3 if member else None,
            data=data,
        )
        for n, (kind, member, data) in enumerate(specs, start=1)
    ]


def entry(member: str, point: str, amount: int = 29800) -> tuple[str, str, dict[str, Any]]:
    return (
        "order_placed",
        member,
        {
            "order_id": f"o-{member}",
            "product_id": "p-pack",
            "quantity": 1,
            "amount": amount,
            "chain_id": "c1",
            "pickup_point": point,
        },
    )


def test_entries_count_toward_forming_per_pickup_point() -> None:
    state = fold(log(("chain_opened", None, CHAIN), entry("a", "pt-1"), entry("b", "pt-2")))
    chain = state.chains["c1"]
    assert (chain.entries, chain.missing, chain.status) == (2, 1, ChainStatus.OPEN)
    assert chain.by_point == {"pt-1": 1, "pt-2": 1}
    formed = fold(
        log(
            ("chain_opened", None, CHAIN),
            entry("a", "pt-1"),
            entry("b", "pt-2"),
            entry("c", "pt-1"),
            ("chain_formed", None, {"chain_id": "c1"}),
        )
    )
    chain = formed.chains["c1"]
    assert (chain.entries, chain.missing, chain.status) == (3, 0, ChainStatus.FORMED)
    assert chain.by_point == {"pt-1": 2, "pt-2": 1}
    assert formed.to_dict()["chains"]["c1"]["missing"] == 0


def test_a_failed_chain_cancels_its_entries() -> None:
    cancelled = {
        "order_id": "o-a",
        "product_id": "p-pack",
        "quantity": 1,
        "amount": 29800,
        "chain_id": "c1",
        "pickup_point": "pt-1",
        "stock_left": 50,
    }
    state = fold(
        log(
            ("chain_opened", None, CHAIN),
            entry("a", "pt-1"),
            ("order_cancelled", "a", cancelled),
            ("chain_failed", None, {"chain_id": "c1"}),
        )
    )
    chain = state.chains["c1"]
    assert (chain.entries, chain.status, chain.by_point) == (0, ChainStatus.FAILED, {"pt-1": 0})
    assert (state.orders, state.gmv, state.cancelled_orders) == (0, 0, 1)
    assert state.gmv_by_segment[Segment.S3] == 0
    assert state.stock_left["p-pack"] == 50


def test_malformed_commerce_events_never_break_the_room() -> None:
    state = fold(
        log(("chain_opened", None, {}), ("chain_formed", None, {}), ("order_placed", "a", {}))
    )
    assert state.chains == {}
    assert state.orders == 1
