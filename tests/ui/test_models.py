"""Qt models and the Qt binding itself."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject
from pytestqt.modeltest import ModelTester

from console.domain.events import Event, EventType
from console.domain.segments import Segment
from console.ui.feed_model import FeedModel


def events(start: int, count: int, kind: EventType = EventType.COMMENT) -> list[Event]:
    return [
        Event(
            n, f"e{n}", kind, float(n), f"m{n}", Segment.S2, nick="林*薇", data={"text": f"第{n}条"}
        )
        for n in range(start, start + count)
    ]


def test_feed_model_is_a_well_behaved_model(qtmodeltester: ModelTester) -> None:
    model = FeedModel(capacity=5)
    qtmodeltester.check(model)
    model.add(events(1, 3))
    model.add(events(4, 4))
    model.add(events(8, 12, EventType.LIKE))  # likes stay out of the feed
    qtmodeltester.check(model)
    assert model.rowCount() == 5
    assert [model.index(r).data(FeedModel.SeqRole) for r in range(5)] == [7, 6, 5, 4, 3]
    assert model.index(0).data() == "林*薇：第7条"


def test_qt_binding_keeps_bool_reference_counts() -> None:
    """PySide6 6.12.0 lost a reference to True/False on each bool property() read."""
    holder = QObject()
    holder.setProperty("flag", True)
    before = sys.getrefcount(True)
    for _ in range(300):  # enough to see a leak, too few to free True and crash
        holder.property("flag")
    assert abs(sys.getrefcount(True) - before) < 100
