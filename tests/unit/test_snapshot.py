"""Room snapshots: JSON round trips that fold on exactly as the original would."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.room import RoomState, fold
from console.domain.segments import Segment
from console.domain.snapshot import FORMAT, SnapshotError, from_snapshot, to_snapshot

_kinds = st.sampled_from(
    [
        EventType.VIEWER_JOINED,
        EventType.VIEWER_LEFT,
        EventType.COMMENT,
        EventType.LIKE,
        EventType.SHARE,
        EventType.ORDER_PLACED,
        EventType.ORDER_CANCELLED,
        EventType.CHAIN_OPENED,
        EventType.CHAIN_FORMED,
        EventType.PRODUCT_PRESENTED,
        EventType.NOTICE_POSTED,
        EventType.SHOUTOUT_ACKNOWLEDGED,
        EventType.SHOUTOUT_PINNED,
    ]
)
event_specs = st.lists(
    st.tuples(_kinds, st.integers(0, 6), st.sampled_from([*Segment, None]), st.floats(0, 40)),
    max_size=150,
)


def build(specs: list[Any]) -> list[Event]:
    """A log touching every part of the state: viewers, orders in a chain, referrals,
    cancellations, presentations, notices and the shout-out board."""
    events = []
    ts = 1000.0
    for n, (kind, who, segment, gap) in enumerate(specs, start=1):
        ts += gap
        data: dict[str, Any] = {}
        if kind is EventType.COMMENT:
            data = {"text": "能送到自提点吗？"}
        elif kind in (EventType.ORDER_PLACED, EventType.ORDER_CANCELLED):
            data = {
                "order_id": f"o{who}",
                "product_id": f"p{who % 2}",
                "product_name": "鲜奶",
                "amount": 990 * (who + 1),
                "quantity": 1,
                "chain_id": "c1",
                "pickup_point": f"pt{who % 3}",
                "new_customer": who % 2 == 0,
                "referrer": "m1" if who > 3 else "",
                "referrer_koc": who > 3,
                "stock_left": 100 - n,
            }
        elif kind in (EventType.CHAIN_OPENED, EventType.CHAIN_FORMED):
            data = {"chain_id": "c1", "product_id": "p0", "threshold": 3, "cap": 50}
            data |= {"deadline": 5000.0, "gift_first": 2, "gift": "冰袋"}
        elif kind is EventType.PRODUCT_PRESENTED:
            data = {"product_id": f"p{who % 2}"}
        elif kind is EventType.NOTICE_POSTED:
            data = {"text": f"公告{who}"}
        elif kind in (EventType.SHOUTOUT_ACKNOWLEDGED, EventType.SHOUTOUT_PINNED):
            data = {"shoutout_id": f"so-{who}-vip_arrival", "pinned": who % 2 == 1}
        events.append(Event(n, f"e{n}", kind, ts, f"m{who}", segment, who == 1, f"m{who}", data))
    return events


def wire(state: RoomState) -> RoomState:
    return from_snapshot(orjson.loads(orjson.dumps(to_snapshot(state))))


@settings(max_examples=150)
@given(event_specs, st.floats(0, 1))
def test_a_restored_snapshot_folds_on_like_the_original(specs: list[Any], cut: float) -> None:
    events = build(specs)
    half = int(len(events) * cut)
    restored = wire(fold(events[:half]))
    assert to_snapshot(restored) == to_snapshot(fold(events[:half]))
    restored.apply_all(events[half:])
    whole = fold(events)
    assert to_snapshot(restored) == to_snapshot(whole)
    assert restored.to_dict() == whole.to_dict()
    assert restored == whole  # the dataclasses compare field by field, board included


def test_a_snapshot_of_a_busy_room_round_trips() -> None:
    events = build(
        [(EventType.VIEWER_JOINED, n, Segment.S1, 1.0) for n in range(6)]
        + [(EventType.CHAIN_OPENED, 0, None, 1.0)]
        + [(EventType.ORDER_PLACED, n, Segment.S2, 1.0) for n in range(6)]
        + [(EventType.NOTICE_POSTED, 2, None, 1.0), (EventType.SHOUTOUT_PINNED, 1, None, 1.0)]
    )
    state = fold(events)
    assert state.chains["c1"].entries == 6
    assert state.shoutouts.active
    assert state.notices
    assert wire(state) == state


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda s: s.update(format=99), f"format {FORMAT}"),
        (lambda s: s.pop("watched_members"), "lacks 'watched_members'"),
        (lambda s: s.update(online_by_segment={"S9": 1}), "'online_by_segment'"),
        (lambda s: s.update(chains=[{"id": "c"}]), "'chains'"),
    ],
)
def test_a_damaged_snapshot_is_refused_by_name(damage: Any, message: str) -> None:
    snapshot = to_snapshot(fold(build([(EventType.VIEWER_JOINED, 1, Segment.S1, 1.0)])))
    damage(snapshot)
    with pytest.raises(SnapshotError, match=message):
        from_snapshot(snapshot)
