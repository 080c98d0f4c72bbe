"""Seed 000 after the show: the zhenchun series' buyers, their orders of the next 30 days
imported later (the demo brand's follow-up), then 30-day repurchase and LTV by circle: the
diamond core (S1) comes back most and is worth most, as seed 000 reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.domain.order_status import ImportedStatus
from console.domain.repurchase import DAY_S, WINDOW_DAYS, CircleRepurchase
from console.store.repurchase import ltv, repurchase_for
from console.store.schema import open_store
from tests.e2e.scenarios import import_later_orders, rehearse
from tests.helpers import StoreProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_s1_repurchases_most_and_has_the_highest_ltv(tmp_path: Path) -> None:
    store = StoreProcess(tmp_path / "zhenchun.db")
    store.start()
    try:
        sids = rehearse(store, "zhenchun-summer-ice", tmp_path, timeout=600)
    finally:
        store.stop()
    assert len(sids) == 4
    db = open_store(store.db_path)
    try:
        # The buyers' first standing order in each session, and their next 30 days' orders.
        buyers = import_later_orders(db, sids, tmp_path)
        # The clock passed in: a day after the last buyer's window closed.
        now = max(first for _, _, first in buyers) + (WINDOW_DAYS + 1) * DAY_S
        series: dict[str, CircleRepurchase] = {}
        for sid in sids:
            result = repurchase_for(db, sid, now)
            assert result.complete
            for key, figures in result.by_circle.items():
                tally = series.setdefault(key, CircleRepurchase())
                tally.buyers += figures.buyers
                tally.repurchasers += figures.repurchasers
        brand = ltv(db)
        paid = db.execute(
            "SELECT count(*) FROM orders WHERE status = ?", [ImportedStatus.PAID.value]
        ).fetchone()[0]
    finally:
        db.close()
    assert paid > 0
    rates = {key: t.rate.value for key, t in series.items() if t.buyers}
    assert {"S1", "S2", "S3", "S4", "S5", "S6"} <= set(rates), series
    s1 = rates.pop("S1")
    assert s1 is not None
    assert all(s1 > other for other in rates.values() if other is not None), (s1, rates)
    s1_ltv = brand.by_circle["S1"].ltv
    assert s1_ltv is not None
    for key in ("S2", "S3", "S4", "S5", "S6"):
        other = brand.by_circle[key].ltv
        assert other is None or s1_ltv > other
