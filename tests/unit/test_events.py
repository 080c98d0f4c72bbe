"""Stored events, masking and safe display text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.events import Event, EventType
from console.domain.feed import describe
from console.domain.privacy import mask_name
from console.domain.text import display_text


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("林小薇", "林*薇"),
        ("林薇", "林*"),
        ("欧阳娜娜", "欧*娜"),
        ("Alice", "A***e"),
        ("王", "*"),
        ("", ""),
        ("Alexandria", "A***a"),  # no more stars than Alice: the length stays private
        ("\u202e林小薇\x07", "林*薇"),  # bidi and control characters never survive
        ("A" * 5_000, "A***A"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@given(st.text(min_size=3, max_size=30).filter(lambda s: len(s.strip()) >= 3))
def test_a_masked_name_never_shows_the_middle(name: str) -> None:
    masked = mask_name(name)
    assert "*" in masked
    assert len(masked) <= len(name.strip())


def test_display_text_drops_controls_and_bidi_and_elides() -> None:
    assert display_text("a\u202eb\x00c\nd") == "abc d"
    assert display_text("\x1b[31m红\x1b[0m\x1b]0;pwned\x07字") == "红字"  # terminal escapes
    long = display_text("长" * 500, max_chars=20)
    assert len(long) == 20
    assert long.endswith("…")


@given(st.text(max_size=400))
def test_display_text_is_always_one_short_safe_line(text: str) -> None:
    shown = display_text(text, max_chars=50)
    assert len(shown) <= 50
    assert "\n" not in shown
    assert "\u202e" not in shown


def test_feed_lines() -> None:
    joined = Event(1, "a", EventType.VIEWER_JOINED, 1.0, "m", nick="林*薇")
    comment = Event(2, "b", EventType.COMMENT, 1.0, "m", nick="林*薇", data={"text": "好吃\n吗"})
    guest_like = Event(3, "c", EventType.LIKE, 1.0, "g", data={"count": 3})
    assert describe(joined) == "林*薇 进入直播间"
    assert describe(comment) == "林*薇：好吃 吗"
    assert describe(guest_like) == "访客 点赞 ×3"


def test_stored_event_round_trips_through_json_shape() -> None:
    event = Event(7, "x", EventType.SHARE, 2.5, "m1", None, True, "张*", {"channel": "moments"})
    assert Event.from_dict(event.to_dict()) == event
    with pytest.raises(ValueError, match="malformed"):
        Event.from_dict({"seq": 1})
