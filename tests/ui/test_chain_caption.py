"""The 接龙 chart's title: a countdown while the show is on, none once it has ended."""

from __future__ import annotations

from console.domain.chains import ChainProgress, ChainStatus
from console.ui.widgets.chain_chart import caption


def test_the_countdown_stops_when_the_show_has_ended() -> None:
    chain = ChainProgress("c1", "p1", threshold=5, cap=9, deadline=1_000.0, entries=3)
    assert caption(chain, "牛油果", 760.0) == "牛油果 · 3/5单 · 还差2单成团 · 剩余 04:00"
    assert caption(chain, "牛油果", 760.0, ended=True) == "牛油果 · 3/5单 · 直播已结束，不再接单"
    formed = ChainProgress(
        "c1", "p1", threshold=5, cap=9, deadline=1_000.0, entries=6, status=ChainStatus.FORMED
    )
    assert "剩余" not in caption(formed, "牛油果", 760.0, ended=True)
    failed = ChainProgress(
        "c1", "p1", threshold=5, cap=9, deadline=1_000.0, status=ChainStatus.FAILED
    )
    assert caption(failed, "牛油果", 760.0, ended=True) == caption(failed, "牛油果", 760.0)
