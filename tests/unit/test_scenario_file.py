"""Scenario files are checked before anything runs: a problem names the file and the field."""

from __future__ import annotations

import json
import math
import re
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console import cli
from console.sim import scenario

SHIPPED = scenario.SCENARIO_DIR / "xianzhida-summer-light.toml"
SERIES = scenario.SCENARIO_DIR / "zhenchun-summer-ice.toml"


def edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "edited.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("mean_minutes = 45", "mean_minuets = 45", "stay.mean_minuets: unknown field"),
        ("mean_minutes = 45", "mean_minuets = 45", "stay.mean_minutes: Field required"),
        ("rejoin_probability = 0.3", "rejoin_probability = 1.3", "stay.rejoin_probability: "),
        ("mean_minutes = 45", "mean_minutes = 0", "stay.mean_minutes: Input should be greater"),
        ("watchers = 105", "watchers = -1", "audience.watchers: Input should be greater"),
        ("watchers = 105", "watchers = 105.5", "audience.watchers: Input should be a valid int"),
        ("watchers = 105", 'watchers = "105"', "audience.watchers: Input should be a valid int"),
        ("S1 = 0.40", "S1 = true", "rates.comment.S1: Input should be a valid number"),
        ("S1 = 0.40", "S1 = nan", "rates.comment.S1: Input should be a finite number"),
        ("S1 = 0.40", "S7 = 0.40", "rates.comment.S7: unknown field"),
        ("duration_minutes = 60", "duration_minutes = -60", "duration_minutes: Input should be"),
        ("seed = 20250618", 'seed = "x"', "seed: Input should be a valid integer"),
        ("[0, 0.0], [2, 0.30]", "[0, 0.1], [2, 0.30]", "arrival.curve: must rise from share 0.0"),
        ("[8, 0.65], [15, 0.85]", "[8, 0.65], [7, 0.85]", "arrival.curve[3]: must increase"),
        ("[50, 1.0]]", "[70, 1.0]]", "arrival.curve[5]: after the end of the broadcast"),
        ("[50, 1.0]]", "[50, 1.0, 3]]", "arrival.curve[5]: Tuple should have at most 2"),
        ('tag = "夏日轻食圈"', 'tag = "夏日轻食圈"\nsegments = ["S9"]', "audience.segments[0]: "),
        ('at = 0.5\ntype = "present_product"', 'at = 0.5\ntype = "present"', "script[0].type:"),
        ("at = 18", "at = 61", "script[2].at: after the end of the broadcast (minute 60)"),
        ("threshold = 50", "threshold = 0", "script[9].threshold: Input should be greater"),
        ("minutes = 5\n", "minutes = 40\n", "script[4].minutes: the sale ends after the end"),
        ("limit_per_member = 2", "limit_per_member = 0", "script[4].limit_per_member: Input"),
        ('circles = ["S2"', 'circles = ["S8"', "script[4].circles[0]: Input should be"),
        ("must_comment = true", "must_comment = 1", "script[8].must_comment: Input should be"),
        ("count = 3\n", "count = 0\n", "script[8].count: Input should be greater"),
        ("[flash_buyers]\ncount = 12", "[flash_buyers]\ncount = -1", "flash_buyers.count: "),
        ("xzd-pack = 150", "xzd-pack = -150", "restock.xzd-pack: Input should be greater"),
        ("to_minute = 60", "to_minute = 50", "buyers.to_minute: must be after from_minute"),
        ("join_chain = true", "join_chain = 1", "buyers.join_chain: Input should be a valid bool"),
        ("kocs_first = true", "cancel_share = 1.0", "buyers.cancel_share: Input should be less"),
        ('catalog = "xianzhida-summer-light"', 'catalog = "../x"', "catalog: String should"),
        ('catalog = "xianzhida-summer-light"', 'catalog = "nope"', "catalog: cannot load"),
        ("lines = [", "lines = [1, ", "comments.lines[0]: Input should be a valid string"),
        ('name = "xianzhida-summer-light"', "", "name: Field required"),
        ('host = "营养师小林"', 'host = "营养师小林"\nhots = "x"', "hots: unknown field"),
        ("[stay]", "[stay]\nfoo = 1\n[stay2]", "stay2: unknown field"),
    ],
)
def test_a_bad_value_is_named_by_file_and_field(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    path = edited(tmp_path, SHIPPED, old, new)
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.parse(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message


def test_a_typo_in_a_script_step_is_named(tmp_path: Path) -> None:
    path = edited(tmp_path, SHIPPED, 'product_id = "xzd-chicken"', 'prodcut_id = "xzd-chicken"')
    with pytest.raises(scenario.ScenarioError, match=r"script\[2\]\.prodcut_id: unknown field"):
        scenario.parse(path)


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    path = edited(tmp_path, SHIPPED, "guests = 0", "guests = ")
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.startswith("guests = "))
    with pytest.raises(
        scenario.ScenarioError, match=rf"edited\.toml：不是有效的 TOML：第 {line} 行第"
    ):
        scenario.parse(path)


def test_a_series_names_the_session_that_is_wrong(tmp_path: Path) -> None:
    path = edited(tmp_path, SERIES, 'segments = ["S2", "S3"]', 'segments = ["S2", "S8"]')
    with pytest.raises(scenario.ScenarioError, match=r"sessions\[1\]\.audience\.segments\[1\]: "):
        scenario.parse(path)
    # A typo at the top level is named once, at the top level, not once per session.
    path = edited(tmp_path, SERIES, "mean_minutes = 25", "mean_minutes = 25\nrejoin = 1")
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.parse(path)
    assert str(caught.value) == f"{path}: stay.rejoin: unknown field (a typo?)"
    # A table a session extends: its own keys under the session, the rest at the top level.
    path = edited(tmp_path, SERIES, "guests = 0", "guests = -1")
    path = edited(tmp_path, path, "watchers = 60 }", "watchers = -60 }")
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.parse(path)
    assert str(caught.value).startswith(
        f"{path}: sessions[0].audience.watchers: Input should be greater than or equal to 0; "
        "audience.guests: Input should be greater than or equal to 0"
    )
    path = tmp_path / "not-a-series.toml"
    text = SERIES.read_text(encoding="utf-8").replace("[[sessions]]", "[[session]]")
    path.write_text("sessions = 3\n" + text, encoding="utf-8")
    with pytest.raises(
        scenario.ScenarioError, match=r"toml: sessions: Input should be a valid list"
    ):
        scenario.parse(path)


def test_a_long_list_of_problems_stays_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text('name = "x"\n', encoding="utf-8")
    with pytest.raises(scenario.ScenarioError) as caught:
        scenario.parse(path)
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(r"; and \d+ more$", message)


def test_simulate_with_a_bad_file_prints_one_line_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    edited(tmp_path, SHIPPED, "rejoin_probability = 0.3", "rejoin_probability = 3")
    (tmp_path / "edited.toml").rename(tmp_path / "bad-show.toml")
    monkeypatch.setattr(scenario, "SCENARIO_DIR", tmp_path)
    # The scenario is checked before the store is contacted (nothing listens on port 9).
    args = ["simulate", "--store", "http://127.0.0.1:9", "--token", "t", "--scenario", "bad-show"]
    with ThreadPoolExecutor(max_workers=1) as pool:  # asyncio.run, off any running loop
        assert pool.submit(cli.main, args).result() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "bad-show.toml: stay.rejoin_probability: Input should be less than or equal to 1" in err


# -- any edit of a good file either loads or is named, never a crash ---------------------

GOOD = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # inf, -inf and 1e+300 are TOML
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # JSON escapes are TOML escapes, except that TOML also wants DEL escaped.
        return json.dumps(value).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def to_toml(raw: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in raw.items())


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each example is written (module scope: hypothesis runs a test body many times)."""
    return tmp_path_factory.mktemp("fuzz") / "fuzzed.toml"


def parse_text(path: Path, text: str) -> scenario.Scenario:
    path.write_text(text, encoding="utf-8")
    return scenario.parse(path)


def leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in leaves(v, (*path, k))] or [path]
    if isinstance(node, list) and node:
        return [p for n, v in enumerate(node) for p in leaves(v, (*path, n))]
    return [path]


def tables(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [path, *(p for k, v in node.items() for p in tables(v, (*path, k)))]
    if isinstance(node, list):
        return [p for n, v in enumerate(node) for p in tables(v, (*path, n))]
    return []


def replaced(raw: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(raw) if isinstance(raw, dict) else list(raw)
    copy[path[0]] = replaced(
        raw.get(path[0]) if isinstance(raw, dict) else raw[path[0]], path[1:], value
    )
    return copy


def dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=20),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(where=st.sampled_from(leaves(GOOD)), value=VALUES)
def test_any_value_anywhere_loads_or_is_named(
    fuzzed: Path, where: tuple[Any, ...], value: Any
) -> None:
    try:
        parse_text(fuzzed, to_toml(replaced(GOOD, where, value)))
    except scenario.ScenarioError as exc:
        message = str(exc)
        assert message.startswith((f"{fuzzed}: ", f"{fuzzed}："))
        assert "\n" not in message


# Every table but restock, whose keys are product ids of the scenario's choosing.
KNOWN_KEYS = [t for t in tables(GOOD) if t != ("restock",)]


@settings(max_examples=100, deadline=None)
@given(where=st.sampled_from(KNOWN_KEYS), key=st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True))
def test_an_unknown_key_in_any_table_is_named(
    fuzzed: Path, where: tuple[Any, ...], key: str
) -> None:
    table = GOOD
    for part in where:
        table = table[part]
    if key in table:
        return
    raw = replaced(GOOD, where, {**table, key: 1})
    with pytest.raises(scenario.ScenarioError) as caught:
        parse_text(fuzzed, to_toml(raw))
    assert f"{dotted((*where, key))}: unknown field" in str(caught.value)


SHARES = [("stay", "rejoin_probability"), ("buyers", "cancel_share")]


@settings(max_examples=60, deadline=None)
@given(
    where=st.sampled_from(SHARES),
    value=st.floats(min_value=1.0, exclude_min=True, allow_infinity=False)
    | st.floats(max_value=0.0, exclude_max=True, allow_infinity=False),
)
def test_a_share_outside_zero_to_one_is_named(
    fuzzed: Path, where: tuple[str, str], value: float
) -> None:
    with pytest.raises(scenario.ScenarioError, match=re.escape(dotted(where) + ": ")):
        parse_text(fuzzed, to_toml(replaced(GOOD, where, value)))
