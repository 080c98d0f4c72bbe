"""话术: a catalog's lines per product and circle, validated, kept with the lineup, on /cards."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from console.demo import seed_demo
from console.domain.catalog import MAX_SCRIPT_CHARS, MAX_SCRIPT_LINES, script_for
from console.domain.segments import Segment
from console.resources import resource_path
from console.store import repository
from console.store.catalog import session_cards
from console.store.catalog_file import CatalogFileError, import_catalog
from console.store.schema import open_store
from console.store.target import parse_target
from tests.backends import store_target
from tests.helpers import StoreProcess, live_show

CATALOG = resource_path("catalogs/xianzhida-summer-light.toml")


@pytest.fixture
def demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    target = store_target(tmp_path, "demo")
    seed_demo(parse_target(target))
    database = open_store(target)
    yield database, str(repository.create_session(database, "鲜直达")["id"])
    database.close()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def catalog_spec() -> dict[str, Any]:
    return tomllib.loads(CATALOG.read_text(encoding="utf-8"))


def test_the_catalog_file_keeps_scripts_general_and_per_circle(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, sid = demo
    summary = import_catalog(db, sid, CATALOG)
    assert summary["scripts"] == 10
    cards = {c["product_id"]: c for c in session_cards(db, sid)}
    pack = cards["xzd-pack"]["script"]
    assert len(pack["general"]) == 3
    assert set(pack["by_segment"]) == {"S1", "S4"}
    assert pack["by_segment"]["S1"][0].startswith("老朋友们")
    assert cards["xzd-chicken"]["script"] == {"general": [], "by_segment": {}}
    # A new catalog replaces the lines with the lineup.
    spec = 'lineup = ["xzd-pack"]\n[[scripts]]\nproduct_id = "xzd-pack"\nlines = ["只剩一句"]\n'
    import_catalog(db, sid, write(tmp_path / "one.toml", spec))
    [only] = session_cards(db, sid)
    assert only["script"] == {"general": ["只剩一句"], "by_segment": {}}


@pytest.mark.parametrize(
    ("scripts", "field", "reason"),
    [
        ('segment = "S9"\nlines = ["好"]', "scripts[0].segment", "必须是以下之一"),
        ('lines = ["' + "长" * (MAX_SCRIPT_CHARS + 1) + '"]', "scripts[0].lines[0]", "最多 120"),
        ("lines = " + str(["好"] * (MAX_SCRIPT_LINES + 1)), "scripts[0].lines", "最多 8 项"),
        ("lines = []", "scripts[0].lines", "至少 1 项"),
        ('lines = ["   "]', "scripts[0].lines[0]", "不能是空白"),
        ('lines = ["第一行\\n第二行"]', "scripts[0].lines[0]", "只能是一行"),
        ("lines = [3]", "scripts[0].lines[0]", "必须是字符串"),
        ('lines = "一句"', "scripts[0].lines", "必须是数组"),
        ('lines = ["好"]\nvoice = "甜"', "scripts[0].voice", "不允许的字段"),
    ],
)
def test_a_bad_script_names_its_field_in_chinese_and_changes_nothing(
    demo,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    scripts: str,
    field: str,
    reason: str,
) -> None:
    db, sid = demo
    import_catalog(db, sid, CATALOG)
    bad = write(
        tmp_path / "bad.toml",
        f'lineup = ["xzd-pack"]\n[[scripts]]\nproduct_id = "xzd-pack"\n{scripts}\n',
    )
    with pytest.raises(CatalogFileError) as caught:
        import_catalog(db, sid, bad)
    [problem] = str(caught.value).splitlines()
    assert problem.startswith(f"{bad}: {field}: ")
    assert reason in problem
    assert len(session_cards(db, sid)) == 6  # nothing changed


def test_scripts_of_products_outside_the_lineup_or_twice_are_refused(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, sid = demo
    stray = write(
        tmp_path / "stray.toml",
        'lineup = ["xzd-pack"]\n[[scripts]]\nproduct_id = "xzd-cherry"\nlines = ["好"]\n',
    )
    with pytest.raises(CatalogFileError, match="不在本场排品里，不能设置话术：xzd-cherry"):
        import_catalog(db, sid, stray)
    twice = write(
        tmp_path / "twice.toml",
        'lineup = ["xzd-pack"]\n'
        '[[scripts]]\nproduct_id = "xzd-pack"\nsegment = "S1"\nlines = ["好"]\n'
        '[[scripts]]\nproduct_id = "xzd-pack"\nsegment = "S1"\nlines = ["又一组"]\n',
    )
    with pytest.raises(CatalogFileError, match=r"scripts: 第 1 项重复：xzd-pack 的S1话术"):
        import_catalog(db, sid, twice)


def test_cards_carry_the_scripts_and_put_refuses_a_bad_one(shared_store: StoreProcess) -> None:
    sid = live_show(shared_store)
    with shared_store.client("host") as client:
        cards = {c["product_id"]: c for c in client.get(f"/sessions/{sid}/cards").json()}
    trial = cards["xzd-trial"]["script"]
    assert trial["general"] == ["9.9 元尝鲜装，第一次来的朋友先试试，好吃再回来买组合。"]
    assert trial["by_segment"] == {"S6": ["新朋友点左下角小黄车，9.9 包邮到自提点，每人限一份。"]}
    spec = catalog_spec()
    spec["scripts"][0]["lines"] = ["太长" * 61]
    with shared_store.client("operator") as client:
        answer = client.put(f"/sessions/{sid}/catalog", json=spec)
        assert answer.status_code == 422
        assert answer.json()["problems"] == [
            {"field": "body.scripts.0.lines.0", "reason": "最多 120 个字符"}
        ]
        spec = catalog_spec()
        spec["scripts"].append({"product_id": "xzd-nope", "lines": ["好"]})
        answer = client.put(f"/sessions/{sid}/catalog", json=spec)
        assert answer.status_code == 422, answer.text
        assert answer.json()["problems"][0]["field"] == "scripts"
        kept = client.get(f"/sessions/{sid}/cards").json()
    assert {c["product_id"]: c for c in kept}["xzd-trial"]["script"] == trial


def test_the_lines_to_read_are_the_present_circles_else_the_general_ones() -> None:
    script = {"general": ["通用"], "by_segment": {"S1": ["钻石一", "钻石二"], "S4": ["邻居"]}}
    assert script_for(script, [Segment.S1]) == (["钻石一", "钻石二"], [Segment.S1])
    assert script_for(script, [Segment.S2, Segment.S4]) == (["邻居"], [Segment.S4])
    assert script_for(script, [Segment.S4, Segment.S1]) == (
        ["邻居", "钻石一", "钻石二"],
        [Segment.S4, Segment.S1],
    )
    assert script_for(script, [Segment.S2]) == (["通用"], [])
    assert script_for(script, []) == (["通用"], [])
    assert script_for(None, [Segment.S1]) == ([], [])
