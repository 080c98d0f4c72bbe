"""The CSV files the store writes carry no live formula: a hostile pickup point, 团长 or
member name comes out as text with a leading ``'``, and reads back through csv.reader."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from console.store.imports import ImportOptions, import_file
from console.store.schema import open_store
from tests.backends import store_target
from tests.helpers import StoreProcess, open_db
from tests.store.test_orders import order, shop
from tests.store.test_referrals import buy, newcomers_and_koc

__all__ = ["shop"]

EVIL_POINT = {
    "id": "-1",
    "name": '=HYPERLINK("http://x","y")',
    "leader": "@SUM(A1)",
    "lat": 30.25,
    "lon": 120.16,
}


def test_the_new_neighbours_sheet_has_no_formula(store: StoreProcess, shop: dict[str, Any]) -> None:
    sid = shop["sid"]
    (newcomer, _, _), _ = newcomers_and_koc(store)
    with store.client("operator") as client:
        assert client.put("/pickup-points", json={"points": [EVIL_POINT]}).status_code == 200
    with open_db(store.db_path) as conn:
        conn.execute(
            "UPDATE members SET nick = ?, name = ?, phone = ? WHERE id = ?",
            ["+1", "\t=1+1", "+86 138 0000 0000", newcomer],
        )
    placed = buy(store, sid, order(newcomer, key="evil-0001", point="-1"))
    assert placed.status_code == 201, placed.text
    with store.client("operator") as client:
        sheet = client.get(
            f"/sessions/{sid}/new-neighbours", params={"format": "csv", "reveal": True}
        )
    assert sheet.status_code == 200, sheet.text
    assert sheet.content.startswith(b"\xef\xbb\xbf")  # a BOM: Chinese Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(sheet.text.removeprefix("\ufeff"), newline="")))
    (row,) = [r for r in rows if r["member_id"] == newcomer]
    assert (row["pickup_point"], row["point_name"], row["leader"]) == (
        "'-1",
        "'" + EVIL_POINT["name"],
        "'@SUM(A1)",
    )
    assert (row["nick"], row["name"], row["phone"]) == ("'+1", "'\t=1+1", "'+86 138 0000 0000")
    for r in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in r.values())


def test_the_rejected_rows_file_has_no_formula(tmp_path: Path) -> None:
    source = tmp_path / "members.csv"
    hostile = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)", "\t=2", "\r=3"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["member_id", "name", "phone", "lat", "lon"])
    for n, name in enumerate(hostile):
        writer.writerow([f"m-evil-{n}", name, "-5", "north", "120.1"])  # refused: lat
    source.write_text(out.getvalue(), encoding="utf-8")
    rejects = tmp_path / "members.rejected.csv"
    db = open_store(store_target(tmp_path, "store"))
    try:
        report = import_file(
            db, "members", source, ImportOptions(skip_bad=True, rejects_path=rejects)
        )
    finally:
        db.close()
    assert report.rejected == len(hostile), report.problems
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        back = list(csv.DictReader(handle))
    assert [r["name"] for r in back] == ["'" + name for name in hostile]
    # Text stays text, even when it reads as a number: the file is what was sent, quoted.
    assert {r["phone"] for r in back} == {"'-5"}
    assert all(r["line"].isdigit() for r in back)  # a number written as a number stays one
