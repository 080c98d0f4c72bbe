"""The layout check for the review side: the replay window, the segmentation window and the
report's charts, in each state, at the sizes people use (``tests.ui.layout``). PNGs go to
``$TEST_OUTPUT`` (default ``out/layout/``) beside the live windows'.

One store for the module with a real rehearsal in it (the 鲜直达 scenario played as fast as
it goes, on its own clock) and a second session with a hostile title to compare against.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QMainWindow

from console.sync.client import StoreClient
from console.ui.app import save_screenshot
from console.ui.replay_window import ReplayController, ReplayWindow
from console.ui.report import build_charts
from console.ui.segments_controller import SegmentsController
from console.ui.segments_window import SegmentsWindow
from tests.e2e.scenarios import rehearse
from tests.helpers import StoreProcess, event, post
from tests.ui.layout import check_chart, check_window
from tests.ui.test_layout import OUTPUT, SIZES, settle, wait

HOSTILE_TITLE = ("超长场次名" + "🥛鲜奶" * 60)[:120]
REPLAY_STATES = ("start", "chain_open", "chain_formed", "end", "stats", "compare", "exported")
SEGMENT_STATES = ("loaded", "filtered", "nothing_found")


class Review:
    """A store with a rehearsal, and the operator's replay and segmentation windows on it."""

    def __init__(self, store: StoreProcess, folder: Path, family: str) -> None:
        self.store = store
        self.folder = folder
        self.sid = rehearse(store, "xianzhida-summer-light", folder)[0]
        self.other = store.new_session(HOSTILE_TITLE)
        with store.client() as client:
            client.patch(f"/sessions/{self.other}", json={"status": "live"}).raise_for_status()
        post(store, self.other, [event("viewer_joined", "m00001")])
        with store.client() as client:
            log = client.get(f"/sessions/{self.sid}/events", params={"limit": 5_000}).json()
        self.first_seq = {
            kind: next(e["seq"] for e in log["events"] if e["type"] == kind)
            for kind in ("chain_opened", "chain_formed")
        }
        self.last_seq = int(log["last_seq"])
        self.client = StoreClient(store.url, store.token("operator"))
        self.replay = ReplayWindow(ReplayController(self.client, self.sid), family)
        self.replay.show()
        self.segments = SegmentsWindow(SegmentsController(self.client))
        self.segments.show()
        self.done(self.replay.controller.load(), "replay loaded")
        self.done(self.segments.controller.reload(), "segments loaded")

    def done(self, coro: Any, what: str) -> Any:
        task = asyncio.ensure_future(coro)
        wait(task.done, what, 60)
        return task.result()

    def show_seq(self, seq: int) -> None:
        self.replay.tabs.setCurrentIndex(0)
        self.done(self.replay.show_seq(seq), f"moment {seq}")

    def close(self) -> None:
        for window in (self.replay, self.segments):
            window.close()
        self.done(self.client.aclose(), "client closed")


@pytest.fixture(scope="module")
def review(
    qapp: QApplication,
    qloop: qasync.QEventLoop,
    font_family: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Review]:
    folder = tmp_path_factory.mktemp("review")
    store = StoreProcess(folder / "store.db")
    store.start()
    try:
        shown = Review(store, folder, font_family)
        yield shown
        shown.close()
    finally:
        store.stop()


def to_replay_state(review: Review, state: str) -> None:
    replay = review.replay
    if state == "start":
        review.show_seq(0)
    elif state == "chain_open":
        review.show_seq(review.first_seq["chain_opened"] + 20)
        assert "还差" in " ".join(replay.chains.captions())
    elif state == "chain_formed":
        review.show_seq(review.first_seq["chain_formed"] + 1)
        assert "成团啦" in " ".join(replay.chains.captions())
    elif state == "end":
        review.show_seq(review.last_seq)
    elif state == "stats":
        replay.tabs.setCurrentIndex(1)
    elif state == "compare":
        replay.tabs.setCurrentIndex(2)
        for row in range(replay.session_list.count()):
            replay.session_list.item(row).setCheckState(Qt.CheckState.Checked)
        replay.compare_button.click()
        wait(lambda: replay.compare_table.rowCount() >= 2, "two sessions compared")
    elif state == "exported":
        replay.tabs.setCurrentIndex(0)
        replay.export_report(review.folder / "report")
        assert replay.export_label.text().startswith("已导出")


def to_segments_state(review: Review, state: str) -> None:
    window = review.segments
    if state == "loaded":
        return
    if state == "filtered":
        window.segment_filter.setCurrentIndex(window.segment_filter.findData("S5"))
        wait(lambda: "共" in window.page_label.text() and window.members.rowCount() > 0, "S5")
    elif state == "nothing_found":
        window.segment_filter.setCurrentIndex(0)
        window.search.setText("没有这个人zzz")
        wait(lambda: window.members.rowCount() == 0, "no member found")


def check_at(window: QMainWindow, name: str, size: str) -> list[str]:
    settle(window, SIZES[size])
    assert save_screenshot(window, OUTPUT / f"{name}-{size}.png")
    assert window.size() == SIZES[size], f"window cannot shrink to {size}: {window.size()}"
    return check_window(window)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", REPLAY_STATES)
def test_replay_layout(review: Review, state: str, size: str) -> None:
    to_replay_state(review, state)
    problems = check_at(review.replay, f"replay-{state}", size)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", SEGMENT_STATES)
def test_segments_layout(review: Review, state: str, size: str) -> None:
    to_segments_state(review, state)
    problems = check_at(review.segments, f"segments-{state}", size)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ["viewers", "gmv", "gmv_by_segment"])
def test_report_chart_layout(review: Review, name: str) -> None:
    controller = review.replay.controller
    assert controller.timeline is not None
    charts = build_charts(
        controller.stats, controller.timeline.samples, controller.timeline.markers
    )
    chart = charts[name]
    chart.show()
    for _ in range(3):
        QApplication.processEvents()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    chart.grab().save(str(OUTPUT / f"report-{name}.png"), "PNG")
    problems = check_chart(chart)
    for drawn in charts.values():  # closed and gone (a second close would fail in pyqtgraph)
        drawn.close()
        drawn.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not problems, "\n".join(problems)


def test_a_rehearsal_replays_on_its_own_clock(review: Review) -> None:
    """Played as fast as it goes, the scenario's hour still reads as an hour: the markers
    spread over the show, the 接龙 opens near its scripted minute (55)."""
    controller = review.replay.controller
    markers = {m.kind.value: m.minute for m in controller.markers}
    assert 54 <= markers["chain_opened"] <= 56, markers
    assert controller.samples[-1].minute >= 59
