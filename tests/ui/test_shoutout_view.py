"""口播提醒 as drawn: every line readable (two lines at rest, whole when it is the one to act
on, whole in the tooltip), nothing scrolling sideways."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QFontMetrics
from pytestqt.qtbot import QtBot

from console.domain.shoutouts import Shoutout, ShoutoutBoard, ShoutoutKind
from console.ui.shoutout_model import ShoutoutModel
from console.ui.widgets.shoutout_view import LINES_SHOWN, ShoutoutView, wrap

LONG = (
    "林*薇（钻石核心）提问：这个牛油果是今天早上现摘的吗？能不能送到阳光花园自提点，"
    "我家老人周末在家，另外冰杯是送的还是要加钱买的？ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)
SHORT = "欢迎钻石核心 @王*明 来到直播间"
OUT = Path(__file__).resolve().parents[2] / "test-output" / "shoutouts"


def board(*texts: str) -> ShoutoutBoard:
    return ShoutoutBoard(
        active={
            f"so-{n}": Shoutout(
                f"so-{n}", ShoutoutKind.VIP_QUESTION, f"m{n}", 2, text, float(n), float(n)
            )
            for n, text in enumerate(texts, 1)
        }
    )


@pytest.fixture
def view(qtbot: QtBot, font_family: str) -> ShoutoutView:
    model = ShoutoutModel()
    model.sync(board(SHORT, LONG, LONG + "（第二位）", SHORT + "！"), now=0.0)
    shown = ShoutoutView(model, font_family)
    qtbot.addWidget(shown)
    shown.resize(420, 700)  # 口播提醒 at 1366x768 is about this wide
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def drawn(view: ShoutoutView, row: int) -> list[str]:
    return view.delegate.shown_lines(view.model().index(row, 0))


def settled(view: ShoutoutView, row: int, lines: int) -> bool:
    """The list has laid the row out at the height of ``lines`` lines."""
    spacing = QFontMetrics(view.delegate.text_font).lineSpacing()
    height = view.visualRect(view.model().index(row, 0)).height()
    return lines * spacing < height < (lines + 1) * spacing + 60


def test_nothing_scrolls_sideways_and_no_line_is_wider_than_its_row(view: ShoutoutView) -> None:
    assert view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert not view.horizontalScrollBar().isVisible()
    assert view.horizontalScrollBar().maximum() == 0
    metrics = QFontMetrics(view.delegate.text_font)
    width = view.delegate.text_width()
    for row in range(view.model().rowCount()):
        rect = view.visualRect(view.model().index(row, 0))
        assert rect.right() <= view.viewport().width()
        assert all(metrics.horizontalAdvance(line) <= width for line in drawn(view, row))
    OUT.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(OUT / "board-420.png"))


def test_a_long_line_wraps_to_two_lines_and_is_whole_when_chosen(
    view: ShoutoutView, qtbot: QtBot
) -> None:
    width = view.delegate.text_width()
    assert len(wrap(LONG, view.delegate.text_font, width)) > LINES_SHOWN  # really long
    # Nothing chosen: the first waiting row is the one to act on, shown whole (it is short).
    assert drawn(view, 0) == [SHORT]
    at_rest = drawn(view, 1)
    assert len(at_rest) == LINES_SHOWN
    assert at_rest[-1].endswith("…")
    qtbot.waitUntil(lambda: settled(view, 1, LINES_SHOWN), timeout=5_000)
    assert view.model().index(1, 0).data(Qt.ItemDataRole.ToolTipRole).endswith(LONG)
    # Chosen (Up/Down, or a click): the whole text, the row taller, no "…".
    view.selectionModel().setCurrentIndex(
        view.model().index(1, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
    )
    whole = drawn(view, 1)
    assert "".join(whole) == LONG  # every character, in order
    assert not any(line.endswith("…") for line in whole)
    qtbot.waitUntil(lambda: settled(view, 1, len(whole)), timeout=5_000)
    assert len(drawn(view, 2)) == LINES_SHOWN  # the others stay at two lines
    assert view.grab().save(str(OUT / "board-420-chosen.png"))


def test_rows_wrap_again_when_the_panel_is_resized(view: ShoutoutView, qtbot: QtBot) -> None:
    view.selectionModel().setCurrentIndex(
        view.model().index(2, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
    )
    narrow = len(drawn(view, 2))
    view.resize(900, 700)
    qtbot.waitUntil(lambda: len(drawn(view, 2)) < narrow, timeout=5_000)
    qtbot.waitUntil(lambda: settled(view, 2, len(drawn(view, 2))), timeout=5_000)
    assert not view.horizontalScrollBar().isVisible()


def test_turn_prompts_wear_their_own_colour_and_the_rest_their_urgency() -> None:
    from console.ui.theme import PROMPT_COLOR
    from console.ui.widgets.shoutout_view import URGENCY_COLORS, kind_color

    for kind in (ShoutoutKind.ONLINE_DROP, ShoutoutKind.CIRCLE_DROP, ShoutoutKind.CHAIN_PACE):
        assert kind_color(kind, 2) == PROMPT_COLOR
        assert kind_color(kind.value, 2) == PROMPT_COLOR  # as a model role may hand it back
    assert PROMPT_COLOR not in URGENCY_COLORS.values()
    assert kind_color(ShoutoutKind.VIP_QUESTION, 2) == URGENCY_COLORS[2]
    assert kind_color(None, 1) == URGENCY_COLORS[1]
