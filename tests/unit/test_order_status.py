"""An export's order status words -> placed, paid, cancelled, refunded (the domain's rule)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.order_status import (
    COUNTED,
    DEFAULT_VALUES,
    NOT_COUNTED,
    ImportedStatus,
    StatusMapError,
    UnknownStatus,
    parse_status_map,
    status_counts,
    status_of,
)

P, PAID, C, R = (
    ImportedStatus.PLACED,
    ImportedStatus.PAID,
    ImportedStatus.CANCELLED,
    ImportedStatus.REFUNDED,
)


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("已取消", C),
        ("交易关闭", C),
        ("cancelled", C),
        ("canceled", C),
        ("unavailable", C),
        ("closed", C),
        ("已退款", R),
        ("退款成功", R),
        ("refunded", R),
        ("待付款", P),
        ("pending", P),
        ("已付款", PAID),
        ("已发货", PAID),
        ("已完成", PAID),
        ("交易成功", PAID),
        ("paid", PAID),
        ("completed", PAID),
        ("shipped", PAID),
    ],
)
def test_the_common_words_of_chinese_and_english_exports(
    value: str, status: ImportedStatus
) -> None:
    assert status_of(value) is status


@given(
    st.sampled_from([(w, s) for s, words in DEFAULT_VALUES.items() for w in words]),
    st.sampled_from(["", " ", "\t"]),
    st.booleans(),
)
def test_case_and_padding_do_not_matter(
    word_status: tuple[str, ImportedStatus], pad: str, upper: bool
) -> None:
    word, status = word_status
    assert status_of(pad + (word.upper() if upper else word) + pad) is status


def test_only_cancelled_and_refunded_leave_f_and_m() -> None:
    assert set(NOT_COUNTED) == {C, R}
    assert {P, PAID} == COUNTED


def test_an_unknown_value_names_itself_and_every_word_understood() -> None:
    with pytest.raises(UnknownStatus) as caught:
        status_of("已拒收")
    reason = str(caught.value)
    assert reason.startswith("无法识别的订单状态 '已拒收'；可识别的状态：placed：待付款")
    for words in DEFAULT_VALUES.values():
        for word in words:
            assert word in reason
    assert "--status-map" in reason
    with pytest.raises(UnknownStatus, match=r"^为空；可识别的状态"):
        status_of("  ")


def test_the_operators_own_words_win_and_are_listed() -> None:
    custom = parse_status_map("已拒收=cancelled, 部分退款 = PAID,closed=paid")
    assert custom == {"已拒收": C, "部分退款": PAID, "closed": PAID}
    assert status_of("已拒收", custom) is C
    assert status_of("Closed", custom) is PAID  # wins over the default (cancelled)
    assert status_of("已完成", custom) is PAID  # the defaults still apply
    with pytest.raises(UnknownStatus, match=r"cancelled：已取消.*、已拒收"):
        status_of("x", custom)
    assert parse_status_map("") == {}
    assert parse_status_map("a=b=refunded") == {"a=b": R}  # the last = separates


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("X", "'X' 应写成 导出的值=状态"),
        ("=paid", "'=paid' 应写成 导出的值=状态"),
        ("X=gone", "'gone' 不是状态；可选：placed, paid, cancelled, refunded"),
    ],
)
def test_a_malformed_status_map_is_refused(text: str, message: str) -> None:
    with pytest.raises(StatusMapError, match=message):
        parse_status_map(text)


def test_counts_name_every_status() -> None:
    assert status_counts([PAID, C, PAID]) == {"placed": 0, "paid": 2, "cancelled": 1, "refunded": 0}
