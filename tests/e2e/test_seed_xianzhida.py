"""Seed 003 end to end with the host's aids: 鲜直达《夏日轻食计划》 played as a rehearsal
(``main.py simulate --speed 0``) into a store of its own, then checked from its log: the
福袋 draw re-runs from the log to the same winners, the 秒杀 starts and ends on its timer
(the script's clock), the room's turns raise a prompt, and the presented products carry
their 话术 lines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from console.domain import draws
from console.domain.catalog import script_for
from console.domain.events import Event, EventType
from console.domain.room import RoomState
from console.domain.timeline import Timeline, TimelineSampler
from console.domain.turns import TURN_RULES
from console.ui.widgets.product_card import card_focus
from tests.e2e.scenarios import rehearse
from tests.helpers import StoreProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@dataclass
class Played:
    log: list[Event]
    cards: list[dict[str, Any]]
    replay: Timeline


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    home = tmp_path_factory.mktemp("xianzhida")
    store = StoreProcess(home / "xianzhida.db")
    store.start()
    try:
        [sid] = rehearse(store, "xianzhida-summer-light", home)
        headers = {"Authorization": f"Bearer {store.token('operator')}"}
        with httpx.Client(base_url=f"{store.url}/api/v1", headers=headers, timeout=120) as http:
            log: list[Event] = []
            while page := http.get(
                f"/sessions/{sid}/events", params={"after": len(log), "limit": 5000}
            ).json()["events"]:
                log += [Event.from_dict(raw) for raw in page]
            cards = http.get(f"/sessions/{sid}/cards").json()
            replay = Timeline.from_json(http.get(f"/sessions/{sid}/replay").json())
        yield Played(log, cards, replay)
    finally:
        store.stop()


def of_type(log: list[Event], kind: EventType) -> list[Event]:
    return [e for e in log if e.type is kind]


def test_the_draw_re_runs_from_the_log_to_the_same_winners(played: Played) -> None:
    [drawn] = of_type(played.log, EventType.DRAW_DRAWN)
    data = drawn.data
    assert data["prize"] == "《7天轻食食谱》签名版"
    assert data["circles"] == ["S3", "S4", "S6"]
    assert (data["min_watch_minutes"], data["must_comment"], data["in_room_now"]) == (
        20.0,
        True,
        True,
    )
    assert len(data["seed"]) == 32
    rerun = draws.rerun_draw(played.log, drawn)
    assert rerun.agrees
    assert len(rerun.winners) == 3
    assert rerun.winners == draws.draw(rerun.eligible, 3, draws.parse_seed(data["seed"]))
    # The winners are watchers of those circles who commented before the draw.
    before = played.log[: drawn.seq - 1]
    commented = {e.member_id for e in of_type(before, EventType.COMMENT)}
    assert set(rerun.winners) <= commented
    circles = {e.member_id: e.segment for e in before if e.member_id}
    assert {circles[m].value for m in rerun.winners if circles[m]} <= {"S3", "S4", "S6"}


def test_the_flash_sale_starts_and_ends_on_its_timer(played: Played) -> None:
    [started] = of_type(played.log, EventType.FLASH_SALE_STARTED)
    [ended] = of_type(played.log, EventType.FLASH_SALE_ENDED)
    sale = started.data
    assert (sale["product_id"], sale["price"], sale["units"]) == ("xzd-cherry", 68.0, 20)
    assert (sale["limit_per_member"], sale["circles"]) == (2, ["S2", "S3", "S5"])
    assert sale["ends_at"] == pytest.approx(started.ts + 5 * 60)
    sold = [
        e
        for e in of_type(played.log, EventType.ORDER_PLACED)
        if e.data.get("flash_sale_id") == sale["sale_id"]
    ]
    units = sum(int(e.data["quantity"]) for e in sold)
    assert 0 < units <= 20
    assert all(e.data["unit_price"] == 6800 for e in sold)  # fen
    assert all(started.ts <= e.ts < sale["ends_at"] for e in sold)
    if units < 20:  # it ran its time: ended by its timer on the script's clock
        assert ended.data["reason"] == "time"
        assert ended.ts == pytest.approx(sale["ends_at"])
        neighbours = played.log[ended.seq - 2], played.log[ended.seq]
        assert neighbours[0].ts <= ended.ts <= neighbours[1].ts
    # The replay and report's record of it is the same.
    [record] = played.replay.aids.flash_sales.values()
    assert (record.sold, record.ended_reason) == (units, ended.data["reason"])


def test_the_rooms_turns_raise_prompts_seen_alike_by_the_store_and_a_console(
    played: Played,
) -> None:
    state, sampler = RoomState(), TimelineSampler(60.0)
    for event in played.log:
        sampler.before(state, event)
        state.apply(event)
        sampler.after(state, event)
    raised = sum(n for kind, n in state.shoutouts.raised_by_kind.items() if kind in TURN_RULES)
    assert raised >= 1
    assert sampler.aids.prompts == played.replay.aids.prompts
    assert len(sampler.aids.prompts) == raised
    assert sampler.aids.draws == played.replay.aids.draws


def test_the_presented_products_show_their_script_lines(played: Played) -> None:
    """Each product presented with 话术 in the catalog shows lines for the room at that
    moment (the circles most present), as the host view and the replay choose them."""
    cards = {c["product_id"]: c for c in played.cards}
    state = RoomState()
    shown: dict[str, list[str]] = {}
    for event in played.log:
        state.apply(event)
        if event.type is EventType.PRODUCT_PRESENTED and state.presenting:
            card = cards[state.presenting]
            focus = card_focus(card, state.online_by_segment)
            lines, _ = script_for(card.get("script"), focus)
            shown.setdefault(state.presenting, lines)
    assert set(shown) >= {"xzd-pack", "xzd-cherry"}
    assert shown["xzd-cherry"][0] == "当季车厘子，冷链锁鲜，个个脆甜，坏果包赔。"
    assert shown["xzd-pack"]  # general lines or a present circle's own
    assert not shown["xzd-chicken"]  # no 话术 in the catalog: none shown


def test_the_store_kept_its_records_in_the_replay(played: Played) -> None:
    kinds = {m.kind for m in played.replay.markers}
    assert {EventType.FLASH_SALE_STARTED, EventType.FLASH_SALE_ENDED} <= kinds
    assert EventType.DRAW_DRAWN in kinds
