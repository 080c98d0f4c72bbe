"""Imports into a real SQLite store: mappings, bad rows, re-imports, encodings."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.cli import build_parser
from console.store.imports import ImportOptions, import_file, load_mapping_file, parse_map
from console.store.imports.mapping import MappingError, fields_help, status_map
from console.store.imports.runner import ImportError_
from console.store.schema import SCHEMA_VERSION, open_store
from tests.backends import sqlite_only, store_target
from tests.helpers import open_db

DATA = Path(__file__).resolve().parent.parent / "data"
RETAIL = DATA / "online_retail_sample.csv"


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_store(store_target(tmp_path, "store"))
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


def test_reimporting_the_same_file_adds_nothing(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    options = retail_options(skip_bad=True, rejects_path=tmp_path / "rejects.csv")
    first = import_file(db, "orders", RETAIL, options)
    again = import_file(db, "orders", RETAIL, options)
    assert (first.inserted, first.updated) == (11, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 11)
    assert again.members_created == 0
    assert len(orders(db)) == 11


def test_a_missing_column_fails_before_reading_rows(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportError_, match=r"没有 'member_id' 列.*--map member_id=列名"):
        import_file(db, "orders", RETAIL, ImportOptions(mapping={"order_id": "InvoiceNo"}))


def test_map_on_the_command_line(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mapping = parse_map(
        "order_id=InvoiceNo,member_id=CustomerID,ts=InvoiceDate,quantity=Quantity,"
        "unit_price=UnitPrice",
        "orders",
    )
    options = ImportOptions(
        mapping=mapping, skip_bad=True, lines=True, rejects_path=tmp_path / "rejects.csv"
    )
    report = import_file(db, "orders", RETAIL, options)
    assert report.applied
    assert report.records == 11
    with pytest.raises(MappingError, match="'price' 不是 orders 的字段"):
        parse_map("price=UnitPrice", "orders")
    with pytest.raises(MappingError, match="应写成 字段=列名"):
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
    target = store_target(tmp_path, "s")
    db = open_store(target)
    import_file(db, "orders", RETAIL, retail_options())
    db.close()
    with open_db(target) as conn:
        assert conn.execute("SELECT count(*) FROM members").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 0


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


SHOP_MAP = {"order_id": "订单号", "member_id": "买家", "ts": "下单时间", "amount": "实付"}
SHOP_HEADER = "订单号,买家,下单时间,实付,订单状态\n"


def statuses(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(db.execute("SELECT order_id, status FROM orders").fetchall())


def test_order_status_is_read_stored_and_counted(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "订单.csv",
        SHOP_HEADER + "E1,c1,2026-11-01 10:00,72.05,交易成功\n"
        "E2,c1,2026-11-02 10:00,30,已取消\n"
        "E3,c2,2026-11-02 11:00,99,退款成功\n"
        "E4,c3,2026-11-03 09:00,12.5,待付款\n"
        "E5,c3,2026-11-03 09:30,12.5,Shipped\n",
    )
    options = ImportOptions(mapping={**SHOP_MAP, "status": "订单状态"})
    report = import_file(db, "orders", path, options)
    assert report.applied, report.problems
    assert statuses(db) == {
        "E1": "paid",
        "E2": "cancelled",
        "E3": "refunded",
        "E4": "placed",
        "E5": "paid",
    }
    assert report.by_status == {"placed": 1, "paid": 2, "cancelled": 1, "refunded": 1}
    assert report.to_dict()["by_status"] == report.by_status
    # A new status is a change to the order, an update on re-import.
    path.write_text(
        path.read_text(encoding="utf-8").replace("交易成功", "已退款"), encoding="utf-8"
    )
    again = import_file(db, "orders", path, options)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 4)
    assert statuses(db)["E1"] == "refunded"


def test_an_unknown_status_is_a_refused_row_naming_it_unless_mapped(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "orders.csv",
        SHOP_HEADER + "E1,c1,2026-11-01 10:00,72.05,已完成\nE2,c1,2026-11-02 10:00,30,已拒收\n",
    )
    options = ImportOptions(mapping={**SHOP_MAP, "status": "订单状态"})
    report = import_file(db, "orders", path, options)
    assert not report.applied
    assert statuses(db) == {}
    (problem,) = report.problems
    assert (problem.line, problem.column) == (3, "订单状态 (status)")
    assert problem.reason.startswith("无法识别的订单状态 '已拒收'；可识别的状态：placed：待付款")
    assert "cancelled：已取消、交易关闭" in problem.reason
    options.status_map = status_map("已拒收=cancelled")
    assert import_file(db, "orders", path, options).applied
    assert statuses(db) == {"E1": "paid", "E2": "cancelled"}


def test_status_words_in_a_mapping_file(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mapping = write(
        tmp_path / "shop.toml",
        '[map]\norder_id = "订单号"\nmember_id = "买家"\nts = "下单时间"\namount = "实付"\n'
        'status = "订单状态"\n[status]\n"已拒收" = "cancelled"\n',
    )
    options = load_mapping_file(mapping, "orders")
    path = write(tmp_path / "o.csv", SHOP_HEADER + "E2,c1,2026-11-02 10:00,30,已拒收\n")
    assert import_file(db, "orders", path, options).applied
    assert statuses(db) == {"E2": "cancelled"}
    write(mapping, '[map]\norder_id = "订单号"\n[status]\n"已拒收" = "gone"\n')
    with pytest.raises(MappingError, match=r"shop.toml：\[status\]：'gone' 不是状态"):
        load_mapping_file(mapping, "orders")


def test_a_file_without_status_lists_orders_that_happened(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "o.csv", "order_id,member_id,ts,amount\nE1,c1,2026-11-01,5\n")
    report = import_file(db, "orders", path, ImportOptions())
    assert statuses(db) == {"E1": "paid"}
    assert report.by_status == {"placed": 0, "paid": 1, "cancelled": 0, "refunded": 0}
    # A status column named in the mapping but absent from the file stops the import at once.
    with pytest.raises(ImportError_, match=r"没有 '订单状态' 列（--map status=订单状态）"):
        import_file(db, "orders", path, ImportOptions(mapping={"status": "订单状态"}))


def test_a_repeated_order_id_with_other_content_refuses_both_lines(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "orders.csv",
        "order_id,member_id,ts,amount\n"
        "O1,m1,2026-11-01 10:00,72.05\n"
        "O2,m2,2026-11-01 11:00,10\n"
        "O1,m1,2026-11-01 10:00,999.99\n",
    )
    report = import_file(db, "orders", path, ImportOptions())
    assert not report.applied
    assert orders(db) == {}
    reason = (
        "'O1' 重复：第 2、4 行内容不同（amount：'72.05' / '999.99'），都未导入；"
        "若文件每行是订单的一条明细（如发票行），请用 --lines 按明细相加"
    )
    assert [str(p) for p in report.problems] == [
        f"orders.csv:2: order_id: {reason}",
        f"orders.csv:4: order_id: {reason}",
    ]
    assert (report.rows, report.accepted, report.rejected, report.duplicates) == (3, 1, 2, 2)
    # As invoice lines they add up, as they always did.
    lines = import_file(db, "orders", path, ImportOptions(lines=True))
    assert lines.applied
    assert (lines.records, lines.merged, lines.inserted) == (2, 1, 2)
    assert orders(db)["O1"][2] == pytest.approx(1072.04)


def test_with_skip_bad_neither_version_of_a_conflicting_order_is_applied(
    db, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "orders.csv",
        "order_id,member_id,ts,amount,items\n"
        "O1,m1,2026-11-01 10:00,72.05,苹果\n"
        "O2,m2,2026-11-01 11:00,10,梨\n"
        "O2,m2,2026-11-01 11:00,10,梨\n"
        "O1,m1,2026-11-01 10:00,999.99,苹果\n"
        "O3,m3,2026-11-02,5,桃\n",
    )
    rejects = tmp_path / "rejects.csv"
    report = import_file(db, "orders", path, ImportOptions(skip_bad=True, rejects_path=rejects))
    assert report.applied
    assert sorted(orders(db)) == ["O2", "O3"]  # an exact repeat: its first row is good
    assert (report.rows, report.accepted, report.rejected, report.duplicates) == (5, 2, 3, 3)
    assert (report.records, report.inserted) == (2, 2)
    assert [(p.line, p.reason.split("；")[0]) for p in report.problems] == [
        (2, "'O1' 重复：第 2、5 行内容不同（amount：'72.05' / '999.99'），都未导入"),
        (4, "'O2' 重复：与第 3 行完全相同"),
        (5, "'O1' 重复：第 2、5 行内容不同（amount：'72.05' / '999.99'），都未导入"),
    ]
    with rejects.open(encoding="utf-8-sig") as handle:
        back = list(csv.DictReader(handle))
    # The refused rows are written as they were (read again from the file).
    assert [(r["line"], r["order_id"], r["amount"], r["items"]) for r in back] == [
        ("2", "O1", "72.05", "苹果"),
        ("4", "O2", "10", "梨"),
        ("5", "O1", "999.99", "苹果"),
    ]


def test_a_repeated_member_or_point_is_refused_and_the_counts_are_what_is_stored(
    db,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    members = write(
        tmp_path / "members.csv",
        "member_id,name,city\nA1,林小薇,杭州\nA2,王芳,上海\nA1,林小薇,杭州\nA3,李四,北京\n"
        "A3,李四,南京\n",
    )
    refused = import_file(db, "members", members, ImportOptions())
    assert not refused.applied
    assert [(p.line, p.reason) for p in refused.problems] == [
        (4, "'A1' 重复：与第 2 行完全相同"),
        (5, "'A3' 重复：第 5、6 行内容不同（city：'北京' / '南京'），都未导入"),
        (6, "'A3' 重复：第 5、6 行内容不同（city：'北京' / '南京'），都未导入"),
    ]
    report = import_file(db, "members", members, ImportOptions(skip_bad=True))
    stored = db.execute("SELECT count(*) FROM members").fetchone()[0]
    assert (report.inserted, stored) == (2, 2)
    points = write(
        tmp_path / "points.csv",
        "point_id,name,lat,lon\npt-a,西湖店,30.2431,120.15\npt-a,西湖店,30.2431,120.15\n",
    )
    report = import_file(db, "points", points, ImportOptions(skip_bad=True))
    assert [(p.line, p.column) for p in report.problems] == [(3, "point_id")]
    stored = db.execute("SELECT count(*) FROM pickup_points").fetchone()[0]
    assert (report.inserted, report.duplicates, stored) == (1, 1, 1)


def test_the_same_share_twice_is_one_share_counted_honestly(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "social.csv",
        "member_id,kind,ts\nm1,share,2026-11-01 20:00\nm1,share,2026-11-01 20:00\n"
        "m2,invite,2026-11-01 20:05\n",
    )
    report = import_file(db, "social", path, ImportOptions())
    assert report.applied
    stored = db.execute("SELECT count(*) FROM social_actions").fetchone()[0]
    assert (report.rows, report.accepted, report.merged, report.inserted, stored) == (
        3,
        3,
        1,
        2,
        2,
    )


def test_the_rejects_of_a_gb18030_file_read_back_in_excel(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "会员.csv",
        "会员号,姓名,城市,退出个性化\nA1,林小薇,杭州,否\nA2,王芳,上海,也许\n",
        encoding="gb18030",
    )
    options = ImportOptions(
        mapping={"member_id": "会员号", "name": "姓名", "city": "城市", "opted_out": "退出个性化"},
        skip_bad=True,
    )
    report = import_file(db, "members", path, options)
    assert report.applied
    assert report.rejects_file is not None
    data = Path(report.rejects_file).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that tells Excel it is UTF-8
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines()))
    assert [(r["line"], r["姓名"], r["城市"], r["退出个性化"]) for r in rows] == [
        ("3", "王芳", "上海", "也许")
    ]
    assert rows[0]["column"] == "退出个性化 (opted_out)"
    assert rows[0]["reason"] == "不是“是/否”：'也许'"


def test_the_readme_lists_the_fields_and_statuses_as_import_help_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "```text\n" + fields_help() + "\n```" in readme
    with pytest.raises(SystemExit):
        build_parser().parse_args(["import", "--help"])
    assert fields_help() in capsys.readouterr().out


@sqlite_only
def test_orders_imported_before_statuses_are_paid_after_the_migration(tmp_path: Path) -> None:
    from console.store import schema

    old = schema.connect(tmp_path / "v8.db")
    old.enable_wal()
    for step in (
        schema._create_v1,
        schema._migrate_v2,
        schema._migrate_v3,
        schema._migrate_v4,
        schema._migrate_v5,
        schema._migrate_v6,
        schema._migrate_v7,
        schema._migrate_v8,
    ):
        step(old)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 8
    old.execute(
        "INSERT INTO orders (order_id, member_id, ts, amount, imported_at) "
        "VALUES ('O1', 'm1', 1e9, 5, 1e9)"
    )
    old.close()
    db = open_store(tmp_path / "v8.db")
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT status FROM orders").fetchall() == [("paid",)]
        # The segmentation's covering index holds the status it filters on.
        indexed = [r[2] for r in db.execute("PRAGMA index_info(orders_member)")]
        assert indexed == ["member_id", "ts", "amount", "status"]
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE orders SET status = 'lost'")
    finally:
        db.close()
