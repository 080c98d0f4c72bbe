"""Free-text redaction (脱敏): phone numbers, ID cards and addresses never survive; ordinary
comments are left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.redaction import HIDDEN, redact_event_data, redact_text


@pytest.mark.parametrize(
    "text",
    [
        "我的电话13812345678",
        "打我 138 1234 5678 谢谢",
        "138-1234-5678",
        "+86 139 0000 1111",
        "座机0571-88881234",
        "（0571）88881234",
        "身份证330106199001011234",
        "身份证 33010619900101123X",
        "地址滨江区江南大道88号",
        "送到文三路478号3栋2单元",
        "西溪花园12幢3单元",
    ],
)
def test_private_details_are_hidden(text: str) -> None:
    clean = redact_text(text)
    assert HIDDEN in clean
    assert not any(run in clean for run in ("1381234", "88881234", "1990010", "88号", "478号"))


@pytest.mark.parametrize(
    "text",
    ["+1", "想要2份", "29.9元能包邮吗", "第3单！", "知道了", "哪里自提？", "2026年11月", "88折"],
)
def test_ordinary_comments_are_left_alone(text: str) -> None:
    assert redact_text(text) == text


digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
separators = st.sampled_from(["", " ", "-"])
noise = st.text(alphabet="我要买这个好的谢谢，。abc ", max_size=12)


@given(noise, st.sampled_from("3456789"), digits, separators, separators, noise)
def test_no_mobile_number_survives(
    before: str, second: str, rest: str, sep1: str, sep2: str, after: str
) -> None:
    number = "1" + second + rest
    shown = f"{number[:3]}{sep1}{number[3:7]}{sep2}{number[7:]}"
    clean = redact_text(before + shown + after)
    assert number not in "".join(ch for ch in clean if ch.isdigit())


def test_event_data_keeps_what_needs_no_change() -> None:
    assert redact_event_data({"text": "+1"}) is None
    assert redact_event_data({"nick": "林*薇"}) is None  # already masked
    changed = redact_event_data({"text": "电话13812345678", "nick": "林小薇", "x": 1})
    assert changed == {"text": f"电话{HIDDEN}", "nick": "林*薇", "x": 1}


FULL_WIDTH = str.maketrans("0123456789-+ ", "０１２３４５６７８９－＋　")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@given(
    noise,
    st.sampled_from("3456789"),
    digits,
    separators,
    separators,
    noise,
    st.sampled_from([FULL_WIDTH, ARABIC_INDIC]),
)
def test_no_mobile_number_survives_in_any_digits(
    before: str,
    second: str,
    rest: str,
    sep1: str,
    sep2: str,
    after: str,
    script: dict[int, str],
) -> None:
    """Full-width １３８… (typed on a Chinese IME) and other scripts' digits read as digits."""
    number = "1" + second + rest
    shown = f"{number[:3]}{sep1}{number[3:7]}{sep2}{number[7:]}".translate(script)
    clean = redact_text(before + shown + after)
    assert HIDDEN in clean
    assert shown not in clean
    assert before in clean  # only the number goes


def test_a_platforms_extra_fields_are_free_text_however_deep() -> None:
    """A comment's ``data.extra`` (or a list inside a dict) reached hosts unredacted."""
    changed = redact_event_data(
        {"text": "好", "extra": "电话13812345678", "deep": {"a": ["１３８１２３４５６７８"]}}
    )
    assert changed == {"text": "好", "extra": f"电话{HIDDEN}", "deep": {"a": [HIDDEN]}}


def test_declared_fields_are_identifiers_and_stay() -> None:
    """A platform order id of eleven digits starting 13 is an id, not a phone number."""
    order = {
        "platform": "wechat_shop",
        "platform_order_id": "13812345678",
        "status": "paid",
        "product_id": "p1",
        "quantity": 1,
        "amount": 9.9,
    }
    assert redact_event_data(order, "platform_order") is None
