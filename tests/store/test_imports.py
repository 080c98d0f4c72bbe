"""Imports into a real SQLite store: mappings, bad rows, re-imports, encodings."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.store.imports import ImportOptions, import_file, load_mapping_file, parse_map
from console.store.imports.mapping import MappingError
from console.store.imports.runner import ImportError_
from console.store.schema import open_store

DATA = Path(__file__).resolve().parent.parent / "data"
RETAIL = DATA / "online_retail_sample.csv"


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_store(tmp_path / "store.db")
    yield database
    database.close()


def retail_options(**changes: object) -> ImportOptions:
    options = load_mapping_file(DATA / "retail_map.toml", "orders")
    for key, value in changes.items():
        setattr(options, key, value)
    return options


def orders(db) -> dict[str, tuple[str, float, float]]:  # type: ignore[no-untyped-def]
    return {
        r[0]: (r[1], r[2], r[3])
        for r in db.execute("SELECT order_id, member_id, ts, amount FROM orders")
    }


def test_bad_rows_stop_the_whole_file_and_are_named(db) -> None:  # type: ignore[no-untyped-def]
    report = import_file(db, "orders", RETAIL, retail_options())
    assert not report.applied
    assert orders(db) == {}
    shown = [str(p) for p in report.problems]
    assert shown == [
        "online_retail_sample.csv:8: CustomerID (member_id): 必填",
        "online_retail_sample.csv:9: CustomerID (member_id): 必填",
        "online_retail_sample.csv:14: InvoiceDate (ts): 无法识别的日期或时间：'Dec 2 2010'",
        "online_retail_sample.csv:16: Quantity (quantity): 不是数字：'six'",
    ]
    assert (report.rows, report.accepted, report.rejected) == (18, 14, 4)


def test_skip_bad_applies_the_good_rows_and_writes_the_rejects(
    db,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    rejects = tmp_path / "rejects.csv"
    report = import_file(db, "orders", RETAIL, retail_options(skip_bad=True, rejects_path=rejects))
    assert report.applied
    stored = orders(db)
    # Lines of one invoice add up: 6 x 2.55 + 6 x 3.39.
    assert stored["536365"][2] == pytest.approx(35.64)
    assert stored["536384"][0] == "18074"  # "18074.0" from a spreadsheet is the same customer
    assert stored["536384"][2] == pytest.approx(6 * 6.45 + 48 * 0.65)
    # Cancellations stay, as negative amounts.
    assert stored["C536379"][2] == pytest.approx(-27.5)
    assert stored["C536391"][2] == pytest.approx(-19.8)
    # 12/1/2010 8:26 is month-first and, per the mapping file, UK time.
    assert stored["536365"][0] == "17850"
    assert datetime.fromtimestamp(stored["536365"][1], UTC) == datetime(
        2010, 12, 1, 8, 26, tzinfo=UTC
    )
    assert len(stored) == 11  # 15 invoices less 4 refused lines' invoices
    assert report.members_created == 9
    with rejects.open(encoding="utf-8-sig") as handle:  # as Excel reads it: BOM, then UTF-8
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["column"]) for r in rows] == [
        ("8", "CustomerID (member_id)"),
        ("9", "CustomerID (member_id)"),
        ("14", "InvoiceDate (ts)"),
        ("16", "Quantity (quantity)"),
    ]
    assert rows[2]["InvoiceNo"] == "536387"  # the original row follows the reason


def test_reimporting_the_same_file_adds_nothing(db) -> None:  # type: ignore[no-untyped-def]
    first = import_file(db, "orders", RETAIL, retail_options(skip_bad=True))
    again = import_file(db, "orders", RETAIL, retail_options(skip_bad=True))
    assert (first.inserted, first.updated) == (11, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 11)
    assert again.members_created == 0
    assert len(orders(db)) == 11


def test_a_missing_column_fails_before_reading_rows(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportError_, match=r"没有 'member_id' 列.*--map member_id=列名"):
        import_file(db, "orders", RETAIL, ImportOptions(mapping={"order_id": "InvoiceNo"}))


def test_map_on_the_command_line(db) -> None:  # type: ignore[no-untyped-def]
    mapping = parse_map(
        "order_id=InvoiceNo,member_id=CustomerID,ts=InvoiceDate,quantity=Quantity,"
        "unit_price=UnitPrice",
        "orders",
    )
    report = import_file(db, "orders", RETAIL, ImportOptions(mapping=mapping, skip_bad=True))
    assert report.applied
    with pytest.raises(MappingError, match="'price' is not a orders field"):
        parse_map("price=UnitPrice", "orders")
    with pytest.raises(MappingError, match="is not like field=Column"):
        parse_map("order_id", "orders")


def test_members_in_gb18030_with_chinese_yes_no(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "会员.csv"
    path.write_bytes(
        "会员号,姓名,手机,退出个性化,城市\nA1,林小薇,13800000000,否,杭州\nA2,王芳,,是,上海\n".encode(
            "gb18030"
        )
    )
    options = ImportOptions(
        mapping={
            "member_id": "会员号",
            "name": "姓名",
            "phone": "手机",
            "opted_out": "退出个性化",
            "city": "城市",
        }
    )
    report = import_file(db, "members", path, options)
    assert report.applied, report.problems
    rows = db.execute("SELECT id, name, nick, opted_out, city FROM members ORDER BY id").fetchall()
    assert rows == [("A1", "林小薇", "林*薇", 0, "杭州"), ("A2", "王芳", "王*", 1, "上海")]


def test_social_actions_from_json_lines_are_deduplicated(
    db,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "social.jsonl"
    lines = [
        {"member_id": "m1", "kind": "分享", "ts": "2026-11-01T20:00:00+08:00"},
        {"member_id": "m1", "kind": "invite", "ts": 1793538000},  # an hour after the share
        {"member_id": "m2", "kind": "群消息", "ts": "2026/11/02 09:30"},
        {"member_id": "m2", "kind": "wave", "ts": "2026/11/02 09:30"},
    ]
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{oops\n", encoding="utf-8"
    )
    report = import_file(db, "social", path, ImportOptions(skip_bad=True))
    assert [(p.line, p.column) for p in report.problems] == [(4, "kind"), (5, "")]
    again = import_file(db, "social", path, ImportOptions(skip_bad=True))
    assert (report.inserted, again.inserted, again.unchanged) == (3, 0, 3)
    kinds = [r[0] for r in db.execute("SELECT kind FROM social_actions ORDER BY ts")]
    assert kinds == ["share", "invite", "message"]


def test_lines_of_one_order_for_two_members_are_refused_naming_both(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,member_id,ts,amount\nO1,m1,2026-11-01 10:00,99\nO1,m2,2026-11-01 10:00,5\n",
        encoding="utf-8",
    )
    report = import_file(db, "orders", path, ImportOptions(lines=True))
    assert not report.applied
    assert [str(p) for p in report.problems] == [
        f"orders.csv:{line}: member_id: 订单 'O1' 的明细（第 2、3 行）member_id 不同："
        "'m1' / 'm2'，都未导入"
        for line in (2, 3)
    ]


def test_database_file_is_untouched_by_a_refused_import(tmp_path: Path) -> None:
    db = open_store(tmp_path / "s.db")
    import_file(db, "orders", RETAIL, retail_options())
    db.close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("SELECT count(*) FROM members").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
