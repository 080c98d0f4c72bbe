"""The input bounds (console.domain.bounds) where they live: pure, the clock passed in."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from console.domain.bounds import (
    DAY_S,
    EVENT_AHEAD_S,
    EVENT_BEFORE_SESSION_S,
    MAX_DATE,
    MAX_JSON_DEPTH,
    MIN_DATE,
    date_problem,
    epoch_problem,
    event_time_problem,
    json_value_problem,
)
from console.store.messages import has_chinese, reason_of

CREATED = 1_795_000_000.0  # 2026-11-18
NOW = CREATED + 3 * 3600


@given(ts=st.floats(allow_nan=True, allow_infinity=True))
def test_an_event_time_is_fine_exactly_within_the_sessions_window(ts: float) -> None:
    reason = event_time_problem(ts, CREATED, NOW)
    inside = CREATED - EVENT_BEFORE_SESSION_S <= ts <= NOW + EVENT_AHEAD_S
    assert (reason is None) == inside
    if reason is not None:
        assert has_chinese(reason)


def test_year_9999_and_epoch_zero_are_no_event_times() -> None:
    assert event_time_problem(253_402_000_000.0, CREATED, NOW) is not None
    assert event_time_problem(1.0, CREATED, NOW) is not None
    assert event_time_problem(NOW + DAY_S / 2, CREATED, NOW) is None


@given(day=st.dates())
def test_dates_are_fine_from_2000_to_2100(day: date) -> None:
    assert (date_problem(day) is None) == (MIN_DATE <= day < MAX_DATE)


def test_epochs_must_be_finite_and_in_the_date_window() -> None:
    assert epoch_problem(float("nan")) is not None
    assert epoch_problem(float("inf")) is not None
    assert epoch_problem(CREATED) is None
    assert epoch_problem(0.0) is not None


def test_free_json_is_refused_by_the_first_part_the_store_cannot_keep() -> None:
    assert json_value_problem({"a": [1, "x", None, 2.5, True]}) is None
    assert json_value_problem({"a": [1, 2**64]}) == ("a[1]", "整数超出 64 位范围")
    assert json_value_problem({"a": {"b": "\ud800"}})[0] == "a.b"  # type: ignore[index]
    assert json_value_problem({"n": float("nan")})[0] == "n"  # type: ignore[index]
    deep: object = 1
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = [deep]
    assert json_value_problem(deep) is not None
    shallow: object = 1
    for _ in range(MAX_JSON_DEPTH - 1):
        shallow = [shallow]
    assert json_value_problem(shallow) is None


def test_pydantic_errors_read_in_chinese_with_their_limits() -> None:
    assert reason_of({"type": "missing", "msg": "Field required"}) == "必填"
    assert reason_of({"type": "string_too_long", "ctx": {"max_length": 64}}) == "最多 64 个字符"
    assert reason_of({"type": "greater_than_equal", "ctx": {"ge": 1}}) == "必须大于或等于 1"
    assert (
        reason_of({"type": "json_invalid", "ctx": {"error": "Expecting value"}})
        == "不是有效的 JSON：此处应为一个值"
    )
    unknown = reason_of({"type": "url_scheme", "msg": "URL scheme should be 'http'"})
    assert has_chinese(unknown)
    assert "URL scheme should be 'http'" in unknown  # the fallback keeps pydantic's words


def test_a_json_parsers_english_reads_in_chinese_with_its_place() -> None:
    from console.store.messages import json_position_reason

    assert json_position_reason('{\n  "a" 1}', 8, "Expecting ':' delimiter") == (
        "第 2 行第 7 列附近不是有效的 JSON（缺少冒号）"
    )
    assert "格式错误" in json_position_reason("x", 0, "something new")


def test_roles_and_permissions_have_one_chinese_name_each() -> None:
    from console.store import auth

    assert set(auth.ROLE_NAMES) == set(auth.Role)
    assert set(auth.PERMISSION_NAMES) == set(auth.Permission)
    assert auth.refusal(auth.Role.LEADER, auth.Permission.READ) == "角色 团长 无权查看"
