"""The operator's segmentation window against a real store seeded with the demo brand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from console.domain.repurchase import ltv_text
from console.domain.segments import ALL_SEGMENTS
from console.sync.client import StoreClient
from console.ui.override_dialog import OverrideDialog
from console.ui.segment_models import CHINA, MemberTableModel, TransitionModel, override_text
from console.ui.segments_controller import SegmentsController
from console.ui.segments_window import SegmentsWindow
from tests.helpers import StoreProcess
from tests.ui.layout import check_label


@pytest.fixture
def window(
    store: StoreProcess, font_family: str, run: Callable[..., Any], qloop: Any
) -> Iterator[SegmentsWindow]:
    client = StoreClient(store.url, store.token("operator"))
    shown = SegmentsWindow(SegmentsController(client))
    shown.show()
    run(shown.controller.reload())
    yield shown
    shown.close()
    run(client.aclose())


def overview(store: StoreProcess) -> dict[str, Any]:
    with store.client("operator") as client:
        return dict(client.get("/segmentation").json())


def test_cards_and_matrix_show_the_latest_run(window: SegmentsWindow, store: StoreProcess) -> None:
    latest = overview(store)["latest"]
    for segment in ALL_SEGMENTS:
        assert window.cards[segment].count.text() == f"{latest['counts'][segment.value]:,}"
    assert latest["rules_version"] in window.run_label.text()
    assert window.transitions.count("", "S3") == latest["counts"]["S3"]  # first run: all new
    assert window.page_label.text() == "第 1-50 位 · 共 2,000 位"


def test_filter_and_search(window: SegmentsWindow, store: StoreProcess, qtbot: QtBot) -> None:
    s5 = overview(store)["latest"]["counts"]["S5"]
    window.segment_filter.setCurrentIndex(window.segment_filter.findData("S5"))
    qtbot.waitUntil(lambda: window.page_label.text().endswith(f"共 {s5:,} 位"), timeout=10_000)
    texts = {window.members.index(r, 2).data() for r in range(window.members.rowCount())}
    assert texts == {"S5 KOC影响者"}
    window.segment_filter.setCurrentIndex(0)
    window.search.setText("夏日轻食圈")
    qtbot.waitUntil(lambda: window.page_label.text().endswith("共 120 位"), timeout=10_000)
    assert all("*" in window.members.index(r, 0).data() for r in range(window.members.rowCount()))


def test_override_from_the_window_reaches_the_store_and_can_be_revoked(
    window: SegmentsWindow, store: StoreProcess, qtbot: QtBot
) -> None:
    window.member_view.selectRow(0)
    member = window.selected_member()
    assert member is not None
    assert window.override_button.isEnabled()
    assert not window.revoke_button.isEnabled()
    target = "S1" if member["segment"] != "S1" else "S2"
    dialog = OverrideDialog(member, window)
    dialog.override_chosen.connect(
        lambda mid, seg, reason, expiry: asyncio.ensure_future(
            window.controller.set_override(mid, seg, reason, expiry)
        )
    )
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # a reason is required
    dialog.segment.setCurrentIndex(dialog.segment.findData(target))
    dialog.reason.setText("社群活跃, 店长推荐")
    ok.click()
    qtbot.waitUntil(
        lambda: window.members.index(0, 5).data().startswith(f"→ {target}"), timeout=10_000
    )
    with store.client("operator") as client:
        assert client.get(f"/members/{member['id']}").json()["segment"] == target
    window.member_view.selectRow(0)
    assert window.revoke_button.isEnabled()
    window.revoke_button.click()
    qtbot.waitUntil(lambda: window.members.index(0, 5).data() == "", timeout=10_000)
    with store.client("operator") as client:
        assert client.get(f"/members/{member['id']}").json()["segment"] == member["segment"]


def test_run_now_adds_a_run(window: SegmentsWindow, store: StoreProcess, qtbot: QtBot) -> None:
    before = overview(store)["latest"]["id"]
    window.run_button.click()
    qtbot.waitUntil(lambda: overview(store)["latest"]["id"] == before + 1, timeout=15_000)
    qtbot.waitUntil(
        lambda: window.cards[ALL_SEGMENTS[0]].detail.text().endswith("较上次 +0"), timeout=10_000
    )


def test_run_now_takes_the_as_of_day_and_window(
    window: SegmentsWindow, store: StoreProcess, qtbot: QtBot
) -> None:
    assert window.as_of.displayFormat() == "yyyy-MM-dd"
    assert window.window_days.value() == 365  # the rules' window, from the store
    before = overview(store)["latest"]["id"]
    window.as_of.setDate(QDate(2035, 6, 1))  # long after the demo's newest order
    window.run_button.click()
    qtbot.waitUntil(lambda: "最新订单是 20" in window.status.text(), timeout=15_000)
    assert "加大窗口天数" in window.status.text()
    assert overview(store)["latest"]["id"] == before  # refused: nothing ran
    window.window_days.setValue(5000)
    window.run_button.click()
    qtbot.waitUntil(lambda: overview(store)["latest"]["id"] == before + 1, timeout=15_000)
    latest = overview(store)["latest"]
    assert (latest["as_of"], latest["window_days"]) == ("2035-06-01", 5000)
    qtbot.waitUntil(lambda: "5000 天" in window.run_label.text(), timeout=10_000)
    assert window.window_days.value() == 5000  # the operator's choice stays


def test_the_override_dialog_and_the_list_name_the_same_day(window: SegmentsWindow) -> None:
    member = {"id": "m1", "nick": "林*", "segment": "S4", "explanation": ""}
    dialog = OverrideDialog(member, window)
    chosen: list[Any] = []
    dialog.override_chosen.connect(lambda *args: chosen.append(args))
    dialog.expires.setChecked(True)
    dialog.expiry_date.setDate(QDate(2026, 12, 29))
    assert dialog.expiry_date.text() == "2026-12-29"  # not "29 12 2026"
    dialog.reason.setText("活动嘉宾")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert chosen[0][3] == "2026-12-29"
    # The store keeps a day as its end: midnight China time at the start of the next day.
    end = datetime(2026, 12, 30, tzinfo=CHINA).timestamp()
    text = override_text({"segment": "S1", "reason": "活动嘉宾", "expires_at": end})
    assert text.endswith("(至 2026-12-29)")
    at_time = datetime(2026, 12, 29, 15, 30, tzinfo=CHINA).timestamp()
    assert override_text({"segment": "S1", "reason": "x", "expires_at": at_time}).endswith(
        "(至 2026-12-29 15:30)"
    )


def test_models_are_well_behaved(qtmodeltester: ModelTester) -> None:
    members = MemberTableModel()
    members.set_members(
        [
            {
                "id": "m1",
                "nick": "林*",
                "segment": "S3",
                "explanation": "S3: R3 F3 M3 X5",
                "koc": True,
                "override": None,
                "city": "杭州",
                "facts": None,
                "opted_out": True,
            }
        ]
    )
    qtmodeltester.check(members)
    assert members.index(0, 7).data() == "已退出"  # opted out: the standard offer
    assert members.index(0, 4).data() == "★"
    transitions = TransitionModel()
    transitions.set_transitions(
        [{"from": "S4", "to": "S6", "members": 69}, {"from": "", "to": "S1", "members": 3}]
    )
    qtmodeltester.check(transitions)
    assert transitions.index(4, 5).data() == "69"  # row 4: last run S4; column 5: S6
    assert transitions.index(0, 6).data() == "3"  # new members in total


def test_each_circle_card_shows_its_ltv(window: SegmentsWindow, store: StoreProcess) -> None:
    """LTV by circle, as ``GET /ltv`` has it, on each card, readable (not a 0 px label)."""
    with store.client("operator") as client:
        ltv = client.get("/ltv").json()
    for segment in ALL_SEGMENTS:
        label = window.cards[segment].ltv
        assert label.text() == ltv_text(ltv["by_segment"][segment.value])
        assert label.isVisible()
        assert label.width() > 0
        assert check_label(label) == []
    # The demo brand (seed 000): the diamond core's members are worth the most.
    s1 = ltv["by_segment"]["S1"]["ltv"]
    assert all(s1 > ltv["by_segment"][s.value]["ltv"] for s in ALL_SEGMENTS[1:])
