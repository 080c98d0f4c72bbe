"""抽奖 over real HTTP: an assistant command whose logged seed lets anyone re-run it."""

from __future__ import annotations

from typing import Any

from console.domain.draws import rerun_draw
from console.domain.events import Event
from tests.helpers import StoreProcess, event, open_db, post
from tests.store.test_commands import command, events_of
from tests.store.test_orders import shop, state

__all__ = ["shop"]


def whole_log(store: StoreProcess, sid: str) -> list[Event]:
    with store.client("operator") as client:
        log = client.get(f"/sessions/{sid}/events", params={"after": 0, "limit": 1000}).json()
    return [Event.from_dict(raw) for raw in log["events"]]


def test_a_draw_is_logged_with_its_seed_and_re_runs_from_the_events_log(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    members = shop["members"]
    vips, loyal = members["S1"][:3], members["S2"][:3]
    with open_db(store.db_path) as conn:  # one S1 viewer opted out of personalisation
        conn.execute("UPDATE members SET opted_out = 1 WHERE id = ?", [vips[0]])
    post(store, sid, [event("viewer_joined", m) for m in [*vips, *loyal]])
    post(store, sid, [event("comment", m, text="想要冰杯！") for m in vips[1:]])
    post(store, sid, [event("viewer_left", loyal[0])])
    body = {"prize": "定制冰杯", "count": 2, "circles": ["S1", "S2"], "in_room_now": True}
    answer = command(store, sid, "start_draw", "cmd-draw-0001", **body)
    assert answer.status_code == 200, answer.text
    drawn = answer.json()
    assert drawn["eligible"] == 5  # loyal[0] left
    assert len(drawn["winners"]) == 2
    assert len(drawn["seed"]) == 32
    again = command(store, sid, "start_draw", "cmd-draw-0001", **body)
    assert again.json() == drawn  # the same seed and winners: drawn once
    assert again.headers["idempotent-replay"] == "true"

    log = whole_log(store, sid)
    [logged] = [e for e in log if e.type.value == "draw_drawn"]
    rerun = rerun_draw(log, logged)
    assert rerun.agrees
    assert rerun.winners == [w["member_id"] for w in drawn["winners"]]
    assert vips[0] in rerun.eligible
    assert loyal[0] not in rerun.eligible
    for winner in drawn["winners"]:
        assert "*" in winner["nick"]  # masked
        if winner["member_id"] == vips[0]:
            assert winner["circle"] is None

    board = state(store, sid)["shoutouts"]["active"]
    texts = [s["text"] for s in board if s["kind"] == "draw_winner"]
    nicks = "、".join(w["nick"] for w in drawn["winners"])
    assert texts == [f"恭喜 {nicks} 抽中 定制冰杯"]

    # A narrower draw: S1 members who commented.
    narrow = {"prize": "冰杯", "count": 5, "circles": ["S1"], "must_comment": True}
    second = command(store, sid, "start_draw", "cmd-draw-0002", **narrow).json()
    assert second["eligible"] == 2
    assert sorted(w["member_id"] for w in second["winners"]) == sorted(vips[1:])
    log = whole_log(store, sid)
    assert all(rerun_draw(log, e).agrees for e in log if e.type.value == "draw_drawn")


def test_a_draw_nobody_qualifies_for_is_refused_in_chinese(
    store: StoreProcess, shop: dict[str, Any]
) -> None:
    sid = shop["sid"]
    post(store, sid, [event("viewer_joined", shop["members"]["S2"][0])])
    before = state(store, sid)["seq"]
    body = {"prize": "冰杯", "count": 1, "min_watch_minutes": 30}
    answer = command(store, sid, "start_draw", "cmd-draw-none", **body)
    assert answer.status_code == 409
    assert answer.json()["error"] == "circles: 没有符合条件的观众，未抽奖"
    for bad in ({"count": 0}, {"circles": ["S9"]}, {"min_watch_minutes": -1}, {"prize": ""}):
        refused = command(store, sid, "start_draw", "cmd-draw-bad1", **{**body, **bad})
        assert refused.status_code == 422, (bad, refused.text)
    assert state(store, sid)["seq"] == before
    assert events_of(store, sid, "draw_drawn") == []
