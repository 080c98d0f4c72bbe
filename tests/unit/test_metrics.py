"""One definition per figure: the live room and ``/stats`` agree on every log prefix."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.metrics import Rate, chain_conversion, room_chain_conversion
from console.domain.room import RoomState, fold
from console.domain.segments import Segment
from console.domain.stats import StatsFacts, rate_from_json, session_stats, stats_from_facts

MEMBERS = [f"m{n}" for n in range(7)]
AUDIENCE = {"m0": Segment.S1, "m1": Segment.S1, "m2": Segment.S6, "m3": None, "m9": Segment.S2}

_actions = st.lists(
    st.tuples(
        st.sampled_from(["join", "join", "leave", "comment", "open", "order", "cancel", "formed"]),
        st.integers(0, len(MEMBERS) - 1),
        st.sampled_from([*Segment, None]),
        st.integers(0, 20),
    ),
    max_size=60,
)


def store_log(actions: list[tuple[str, int, Segment | None, int]]) -> list[Event]:
    """A log as the store writes one: unique order ids, each cancellation of a standing order
    repeating its member and figures, chain entries naming an opened 接龙."""
    events: list[Event] = []
    chains: list[str] = []
    standing: dict[str, dict[str, Any]] = {}  # order id -> its order_placed data and member

    def add(kind: EventType, member: str | None, segment: Segment | None, **data: Any) -> None:
        n = len(events) + 1
        events.append(Event(n, f"e{n}", kind, 1000.0 + n, member, segment, False, "", data))

    for kind, who, segment, pick in actions:
        member = MEMBERS[who]
        if kind == "join":
            add(EventType.VIEWER_JOINED, member, segment)
        elif kind == "leave":
            add(EventType.VIEWER_LEFT, member, segment)
        elif kind == "comment":
            add(EventType.COMMENT, member, segment, text="+1")
        elif kind == "open":
            chain = f"c{len(chains)}"
            chains.append(chain)
            add(
                EventType.CHAIN_OPENED,
                None,
                None,
                chain_id=chain,
                product_id="p1",
                threshold=2,
                cap=50,
                deadline=9000.0,
            )
        elif kind == "formed" and chains:
            add(EventType.CHAIN_FORMED, None, None, chain_id=chains[pick % len(chains)])
        elif kind == "order":
            data = {
                "order_id": f"o{len(events) + 1}",
                "product_id": "p1",
                "quantity": 1 + pick % 3,
                "amount": 990 * (1 + pick),
                "chain_id": chains[pick % len(chains)] if chains and pick % 2 else "",
                "pickup_point": f"pt{pick % 3}",
                "new_customer": pick % 4 == 0,
            }
            standing[data["order_id"]] = {"member": member, "segment": segment, "data": data}
            add(EventType.ORDER_PLACED, member, segment, **data)
        elif kind == "cancel" and standing:
            order_id = sorted(standing)[pick % len(standing)]
            placed = standing.pop(order_id)
            add(EventType.ORDER_CANCELLED, placed["member"], placed["segment"], **placed["data"])
    return events


@settings(max_examples=150, deadline=None)
@given(_actions)
def test_the_live_room_and_the_review_agree_on_every_prefix(actions: list[Any]) -> None:
    events = store_log(actions)
    state, facts = RoomState(), StatsFacts()
    for event in events:
        state.apply(event)
        facts.add(event)
        total = stats_from_facts(facts, AUDIENCE, {})["total"]
        live = room_chain_conversion(state)
        assert total["chain_conversion"] == live.rounded()
        if live.value is not None:
            assert rate_from_json(total, "chain_conversion") == live
        assert total["orders"] == state.orders
        assert total["gmv"] == state.gmv / 100
        assert total["buyers"] == len(state.buyers)
        assert total["watched"] == len(state.watched_members)
        assert total["chains_opened"] == len(state.chains)


def log(*specs: tuple[EventType, str | None, dict[str, Any]]) -> list[Event]:
    return [
        Event(n, f"e{n}", kind, 1000.0 + n, member, Segment.S1 if member else None, False, "", d)
        for n, (kind, member, d) in enumerate(specs, start=1)
    ]


OPEN = (
    EventType.CHAIN_OPENED,
    None,
    {"chain_id": "c1", "product_id": "p1", "threshold": 2, "cap": 9, "deadline": 9e3},
)
ORDER = {"order_id": "o1", "product_id": "p1", "quantity": 1, "amount": 29800, "chain_id": "c1"}


def test_an_order_then_its_cancellation_converts_nobody_anywhere() -> None:
    events = log(
        OPEN,
        (EventType.VIEWER_JOINED, "a", {}),
        (EventType.VIEWER_JOINED, "b", {}),
        (EventType.ORDER_PLACED, "a", ORDER),
        (EventType.ORDER_CANCELLED, "a", ORDER),
    )
    state = fold(events)
    assert room_chain_conversion(state) == Rate(0, 2)
    assert room_chain_conversion(state).percent(0) == "0%"
    total = session_stats(events, {}, {})["total"]
    assert (total["chain_conversion"], total["chain_entrants"], total["watched"]) == (0.0, 0, 2)
    assert (total["orders"], total["buyers"], total["gmv"]) == (0, 0, 0.0)
    assert (state.orders, len(state.buyers), state.gmv) == (0, 0, 0)
    assert state.chains["c1"].entries == 0


def test_one_of_two_orders_cancelled_still_converts_its_buyer() -> None:
    second = {**ORDER, "order_id": "o2"}
    events = log(
        OPEN,
        (EventType.VIEWER_JOINED, "a", {}),
        (EventType.ORDER_PLACED, "a", ORDER),
        (EventType.ORDER_PLACED, "a", second),
        (EventType.ORDER_CANCELLED, "a", ORDER),
    )
    assert room_chain_conversion(fold(events)) == Rate(1, 1)
    assert session_stats(events, {}, {})["total"]["chain_conversion"] == 1.0


def test_a_session_without_a_chain_has_no_chain_conversion() -> None:
    events = log(
        (EventType.VIEWER_JOINED, "a", {}),
        (EventType.ORDER_PLACED, "a", {**ORDER, "chain_id": ""}),
    )
    live = room_chain_conversion(fold(events))
    assert live.value is None
    assert (live.percent(0), live.fraction()) == ("—", "—")
    total = session_stats(events, {}, {})["total"]
    assert total["chain_conversion"] is None
    assert rate_from_json(total, "chain_conversion") is None
    assert total["chain_entrants"] == 1  # a bought: a count, shown labelled, with no rate
    # The moment a 接龙 opens there is something to convert to.
    opened = [*events, Event(3, "e3", OPEN[0], 1003.0, None, None, False, "", OPEN[2])]
    assert room_chain_conversion(fold(opened)) == Rate(1, 1)


def test_a_rate_shows_its_own_figures_and_nothing_to_divide_by_as_a_dash() -> None:
    assert Rate(105, 120).percent() == "87.5%"
    assert Rate(105, 120).fraction() == "105/120"
    assert Rate(105, 120).rounded() == 0.875
    assert Rate(0, 0).percent() == Rate(3, 0).fraction() == "—"
    assert Rate(0, 0).rounded() is None
    assert chain_conversion(5, 10, chains_opened=0) == Rate(0, 0)
