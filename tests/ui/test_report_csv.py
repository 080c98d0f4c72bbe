"""The review's CSV files (复盘报告) carry no live formula: a hostile nick, pickup point or
团长 name reads back through csv.reader as text with a leading ``'``; figures stay numbers."""

from __future__ import annotations

import csv
from pathlib import Path

from console.domain.segments import ALL_SEGMENTS
from console.domain.timeline import Sample
from console.ui.report import METRICS, write_csvs

LEADS = ("=", "+", "-", "@", "\t", "\r")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_review_tables_come_out_as_text(tmp_path: Path) -> None:
    figures = {key: 0 for key, _, _ in METRICS} | {"gmv": -12.5}  # a refund-heavy day
    stats = {
        "total": figures,
        "by_segment": {"S1": figures},
        "koc_leaderboard": [
            {"member_id": "m1", "nick": '=HYPERLINK("http://x","y")', "orders": 3, "gmv": 90.0}
        ],
        "new_neighbours": [
            {
                "pickup_point": "-1",
                "point_name": "+1",
                "leader": "@SUM(A1)",
                "nick": "\t=1+1",
                "new_customers": 2,
            }
        ],
    }
    sample = Sample(1.5, 10, -3, dict.fromkeys(ALL_SEGMENTS, 0), 0, 0, 0)
    paths = {p.name: p for p in write_csvs(tmp_path, stats, [sample])}
    koc = read(paths["koc_leaderboard.csv"])
    assert koc[0]["nick"] == "'" + '=HYPERLINK("http://x","y")'
    assert koc[0]["orders"] == "3"
    neighbours = read(paths["new_neighbours.csv"])[0]
    assert (neighbours["pickup_point"], neighbours["point_name"]) == ("'-1", "'+1")
    assert (neighbours["leader"], neighbours["nick"]) == ("'@SUM(A1)", "'\t=1+1")
    assert read(paths["segments.csv"])[0]["gmv"] == "-12.5"  # a number stays a number
    assert read(paths["timeline.csv"])[0]["online"] == "-3"
    for path in paths.values():
        for row in read(path):
            for cell in row.values():
                assert not cell.startswith(LEADS) or float(cell) < 0, (path.name, cell)
