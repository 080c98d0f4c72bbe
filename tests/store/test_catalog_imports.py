"""Products, pickup points, member locations and a session's catalog file, into a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import IMPORT_KINDS
from console.demo import seed_demo
from console.resources import resource_path
from console.sim import demo_members
from console.store import repository
from console.store.catalog import member_cards, nearest_point_for
from console.store.catalog_file import CatalogFileError, import_catalog
from console.store.imports import KINDS, ImportOptions, import_file
from console.store.schema import open_store
from console.store.target import parse_target
from tests.backends import store_target

CATALOG = resource_path("catalogs/xianzhida-summer-light.toml")


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_store(store_target(tmp_path, "store"))
    yield database
    database.close()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_cli_offers_every_import_kind() -> None:
    assert set(IMPORT_KINDS) == set(KINDS)


def test_products_import_prices_in_fen_and_refuses_bad_rows_by_line(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = write(
        tmp_path / "products.csv",
        "product_id,name,base_price,stock\n"
        "p1,牛油果,39.9,10\n"
        "p2,西瓜,-1,10\n"
        "p3,樱桃,12,2.5\n"
        "p4,,12,1\n",
    )
    report = import_file(db, "products", bad, ImportOptions())
    assert not report.applied
    assert [str(p) for p in report.problems] == [
        "products.csv:3: base_price: 不能为负数",
        "products.csv:4: stock: 必须是不小于 0 的整数：'2.5'",
        "products.csv:5: name: 必填",
    ]
    assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 0
    good = write(tmp_path / "ok.csv", "product_id,name,base_price,stock\np1,牛油果,39.9,10\n")
    assert import_file(db, "products", good, ImportOptions()).inserted == 1
    assert db.execute("SELECT base_price, stock FROM products").fetchone() == (3990, 10)
    again = import_file(db, "products", good, ImportOptions())
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)


def test_points_and_member_locations_give_the_nearest_point(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    points = write(
        tmp_path / "points.csv",
        "point_id,name,leader,lat,lon\n"
        "pt-a,西湖店,王团长,30.2431,120.15\n"
        "pt-b,滨江店,李团长,30.2084,120.212\n",
    )
    assert import_file(db, "points", points, ImportOptions()).applied
    members = write(
        tmp_path / "members.csv",
        "member_id,name,lat,lon\nm1,张三,30.21,120.21\nm2,李四,,\nm3,王五,30.2,\n",
    )
    report = import_file(db, "members", members, ImportOptions())
    assert [str(p) for p in report.problems] == ["members.csv:4: lon: 位置需要同时有 lat 和 lon"]
    report = import_file(db, "members", members, ImportOptions(skip_bad=True))
    assert report.applied
    nearest = nearest_point_for(db, "m1")
    assert nearest is not None
    assert nearest["id"] == "pt-b"
    assert nearest_point_for(db, "m2") is None  # no location
    bad = write(tmp_path / "far.csv", "point_id,name,lat,lon\npt-x,远方,95,10\n")
    assert [str(p) for p in import_file(db, "points", bad, ImportOptions()).problems] == [
        "far.csv:2: lat: 纬度超出范围：95.0"
    ]


@pytest.fixture
def demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The demo store (members segmented, products, points) and a new session on it."""
    target = store_target(tmp_path, "demo")
    seed_demo(parse_target(target))
    database = open_store(target)
    yield database, str(repository.create_session(database, "鲜直达")["id"])
    database.close()


def test_the_demo_catalog_file_sets_lineup_offers_and_audience(demo) -> None:  # type: ignore[no-untyped-def]
    db, sid = demo
    summary = import_catalog(db, sid, CATALOG)
    assert summary["lineup"] == 6
    assert summary["audience"]["reached"] == 120  # the 夏日轻食圈 tag
    assert sum(summary["audience"]["reached_by_segment"].values()) == 120
    s1 = db.execute("SELECT id FROM members WHERE segment = 'S1' AND opted_out = 0").fetchone()[0]
    s4 = db.execute("SELECT id FROM members WHERE segment = 'S4' AND opted_out = 0").fetchone()[0]
    s1_cards = {c.product.id: c for c in member_cards(db, sid, s1)}
    s4_cards = {c.product.id: c for c in member_cards(db, sid, s4)}
    assert (s1_cards["xzd-pack"].price, s1_cards["xzd-pack"].perk) == (29800, "定制冰杯 + 优先发货")
    assert s1_cards["xzd-chicken"].price == 5940  # S1's own price
    assert s4_cards["xzd-chicken"].price == 6990  # the base price
    assert "xzd-recipe-box" in s1_cards
    assert "xzd-recipe-box" not in s4_cards  # S1-only limited edition
    assert s4_cards["xzd-pack"].price == 29800  # the standard offer


def test_a_bad_catalog_file_names_the_field_and_changes_nothing(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, sid = demo
    import_catalog(db, sid, CATALOG)
    bad = write(
        tmp_path / "bad.toml",
        'lineup = ["xzd-pack"]\n[[offers]]\nproduct_id = "xzd-pack"\nprice = 10\n'
        '[[offers]]\nproduct_id = "xzd-pack"\nsegment = "S9"\nprice = -1\n',
    )
    with pytest.raises(CatalogFileError) as caught:
        import_catalog(db, sid, bad)
    assert str(caught.value).splitlines() == [
        f"{bad}: offers[1].segment: 必须是以下之一：'S1', 'S2', 'S3', 'S4', 'S5' or 'S6'",
        f"{bad}: offers[1].price: 必须大于或等于 0.0",
    ]
    unknown = write(
        tmp_path / "unknown.toml", 'lineup = ["xzd-pack"]\n[audience]\nmembers = ["zz"]\n'
    )
    with pytest.raises(CatalogFileError, match="没有这些会员：zz"):
        import_catalog(db, sid, unknown)
    broken = write(tmp_path / "broken.toml", "lineup = [\n")
    with pytest.raises(CatalogFileError, match="不是有效的 TOML"):
        import_catalog(db, sid, broken)
    count = db.execute("SELECT count(*) FROM session_products WHERE session_id = ?", [sid])
    assert count.fetchone()[0] == 6
    reached = db.execute("SELECT count(*) FROM session_audience WHERE session_id = ?", [sid])
    assert reached.fetchone()[0] == 120


def test_the_shipped_pickup_points_are_generated(tmp_path: Path) -> None:
    shipped = resource_path(demo_members.DEMO_POINTS).read_text(encoding="utf-8")
    assert shipped == demo_members.to_csv(
        demo_members.generate_points(), demo_members.POINT_COLUMNS
    )
