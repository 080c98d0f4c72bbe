"""按自提点 (D): entries per pickup point as a ranked list with bars, the rest summed up."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from console.domain.chains import ChainProgress, ChainStatus
from console.ui.widgets.point_bars import PointBreakdown, entries_by_point


def chain(status: ChainStatus, by_point: dict[str, int]) -> ChainProgress:
    return ChainProgress(
        id=f"c-{status.value}",
        product_id="p",
        threshold=5,
        cap=50,
        opened_ts=0.0,
        deadline=900.0,
        status=status,
        by_point=by_point,
    )


def test_points_are_ranked_named_and_the_rest_summed(qapp: QApplication) -> None:
    chains = [
        chain(ChainStatus.FORMED, {"pt-1": 4, "pt-2": 1, "pt-3": 2}),
        chain(ChainStatus.OPEN, {"pt-2": 2, "pt-4": 1, "pt-5": 1, "pt-6": 1, "pt-7": 0}),
        chain(ChainStatus.FAILED, {"pt-1": 9}),  # no longer taking entries: not counted
    ]
    entries = entries_by_point(chains)
    assert entries == {"pt-1": 4, "pt-2": 3, "pt-3": 2, "pt-4": 1, "pt-5": 1, "pt-6": 1}
    view = PointBreakdown()
    view.set_max_rows(4)
    view.show_points(entries, {"pt-1": "西湖店", "pt-2": "滨江店"})
    assert view.rows() == [("西湖店", 4), ("滨江店", 3), ("pt-3", 2), ("其他 3 个自提点", 3)]
    assert view.title.text() == "按自提点 · 共 12 单"
    assert [bar.share for bar in view.bars[:3]] == [1.0, 0.75, 0.5]
    assert view.bars[3].isHidden()  # a sum is not compared with single points
    view.show_points({}, {})
    assert view.rows() == []
    assert not view.empty.isHidden()
