"""A session's log over real HTTP: only the operator's calls move a session, and only a live
session takes events; platform events before or after the show are refused and counted."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import StoreProcess, event, post, wait_for
from tests.store.test_chains_api import enter, open_chain
from tests.store.test_orders import order, shop, state

__all__ = ["shop"]


def ingest(store: StoreProcess, sid: str, events: list[dict[str, Any]]) -> httpx.Response:
    with store.client("ingest") as client:
        return client.post(f"/sessions/{sid}/events", json={"events": events})


def session(store: StoreProcess, sid: str) -> dict[str, Any]:
    with store.client("host") as client:
        return dict(client.get(f"/sessions/{sid}").json())


def listed(store: StoreProcess, sid: str) -> dict[str, Any]:
    with store.client("host") as client:
        return next(s for s in client.get("/sessions").json() if s["id"] == sid)


def set_status(store: StoreProcess, sid: str, status: str) -> httpx.Response:
    with store.client("operator") as client:
        return client.patch(f"/sessions/{sid}", json={"status": status})


def review(store: StoreProcess, sid: str) -> tuple[Any, ...]:
    with store.client("host") as client:
        return (
            client.get(f"/sessions/{sid}/stats").json(),
            client.get(f"/sessions/{sid}/events").json(),
        )


def test_late_platform_events_are_refused_counted_and_leave_the_review_alone(
    shared_store: StoreProcess,
) -> None:
    sid = shared_store.new_session("下播后")
    on_air = [event("viewer_joined", "m00001"), event("comment", "m00001", text="好喝")]
    assert post(shared_store, sid, on_air)["accepted"] == 2
    assert set_status(shared_store, sid, "ended").status_code == 200
    before = review(shared_store, sid)

    late = [event("viewer_joined", "m00002"), event("like", "m00002")]
    refused = ingest(shared_store, sid, late)
    assert refused.status_code == 409, refused.text
    assert refused.json()["problems"][0]["field"] == "status"
    assert "本场已结束" in refused.json()["error"]
    assert review(shared_store, sid) == before  # not one number of the 复盘 moved
    # The platform retries the same batch: still refused, counted once.
    assert ingest(shared_store, sid, late).status_code == 409
    assert ingest(shared_store, sid, [event("share", "m00003")]).status_code == 409
    for shown in (session(shared_store, sid), listed(shared_store, sid)):
        assert (shown["status"], shown["late_events"], shown["early_events"]) == ("ended", 3, 0)
        assert shown["last_seq"] == 2
    # What was stored during the show, sent again, is acknowledged as a repeat.
    again = ingest(shared_store, sid, on_air)
    assert again.status_code == 200, again.text
    assert again.json() == {"accepted": 0, "duplicates": 2, "last_seq": 2}
    assert session(shared_store, sid)["late_events"] == 3


def test_an_event_never_starts_a_show(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session("预告", live=False)
    refused = ingest(shared_store, sid, [event("viewer_joined", "m00001")])
    assert refused.status_code == 409, refused.text
    assert refused.json()["problems"][0]["field"] == "status"
    assert "直播尚未开始" in refused.json()["error"]
    shown = session(shared_store, sid)
    assert (shown["status"], shown["started_at"], shown["last_seq"]) == ("scheduled", None, 0)
    assert (shown["early_events"], shown["late_events"]) == (1, 0)
    # The operator's call starts it; then the platform's events go in.
    assert set_status(shared_store, sid, "live").status_code == 200
    assert post(shared_store, sid, [event("viewer_joined", "m00001")])["accepted"] == 1
    assert session(shared_store, sid)["early_events"] == 1  # kept apart from the log


def test_an_ended_session_stays_ended(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session("复播")
    assert set_status(shared_store, sid, "ended").status_code == 200
    ended_at = session(shared_store, sid)["ended_at"]
    for wanted in ("live", "scheduled"):
        answer = set_status(shared_store, sid, wanted)
        assert answer.status_code == 409, answer.text
        assert answer.json()["problems"][0]["field"] == "status"
    repeated = set_status(shared_store, sid, "ended")  # a repeated call changes nothing
    assert repeated.status_code == 200
    assert (repeated.json()["status"], repeated.json()["ended_at"]) == ("ended", ended_at)
    bad = set_status(shared_store, sid, "paused")
    assert (bad.status_code, bad.json()["problems"][0]["field"]) == (422, "body.status")


def test_orders_and_commands_wait_for_the_operators_call(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = store.new_session("还没开播", live=False)
    with store.client("operator") as client:
        lineup = {"lineup": ["p-pack"], "offers": []}
        assert client.put(f"/sessions/{sid}/catalog", json=lineup).status_code == 200
    buyer = shop["members"]["S4"][0]
    with store.client("ingest") as client:
        placed = client.post(f"/sessions/{sid}/orders", json=order(buyer))
    assert (placed.status_code, placed.json()["error"]) == (409, "sid: 本场未开播，不在直播中")
    with store.client("assistant") as client:
        notice = client.post(
            f"/sessions/{sid}/commands",
            json={"command_id": "cmd-early-01", "type": "post_notice", "text": "马上开始"},
        )
    assert (notice.status_code, notice.json()["error"]) == (409, "sid: 本场未开播，不在直播中")
    assert open_chain(store, sid, key="cmd-early-02").status_code == 409
    assert (session(store, sid)["status"], session(store, sid)["last_seq"]) == ("scheduled", 0)


def test_the_shows_end_ends_its_chains_and_nothing_is_logged_after_it(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    chain = open_chain(store, sid).json()["chain_id"]
    buyer = shop["members"]["S4"][0]
    assert enter(store, sid, buyer, chain).status_code == 201  # 1 of 3: not formed
    assert set_status(store, sid, "ended").status_code == 200
    room = state(store, sid)
    # It could never form (no order joins after the show): it failed at the end, its entry
    # cancelled and its stock back, in the log before the show ended.
    assert room["chains"][chain]["status"] == "failed"
    assert (room["orders"], room["cancelled_orders"]) == (0, 1)
    with store.client("host") as client:
        log = client.get(f"/sessions/{sid}/events").json()["events"]
    assert log[-1]["type"] == "chain_failed"
    assert log[-1]["data"]["by"] == "session_ended"
    ended = session(store, sid)
    assert ended["last_seq"] == log[-1]["seq"]
    assert log[-1]["ts"] <= ended["ended_at"]
    # Closing it by hand after the show is refused, and the log does not grow.
    with store.client("assistant") as client:
        closed = client.post(
            f"/sessions/{sid}/chains/{chain}/close", json={"command_id": "cmd-close-9"}
        )
    assert closed.status_code == 409, closed.text
    wait_for(lambda: state(store, sid)["seq"] == ended["last_seq"])
    assert session(store, sid)["last_seq"] == ended["last_seq"]
