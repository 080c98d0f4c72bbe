"""The shout-out board's Qt model changes rows by id, so the view keeps what was selected."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QItemSelectionModel
from pytestqt.modeltest import ModelTester

from console.domain.shoutouts import Shoutout, ShoutoutBoard, ShoutoutKind
from console.ui.shoutout_model import FADE_S, KIND_LABELS, ShoutoutModel
from console.ui.widgets.shoutout_view import ShoutoutView


def board(*shoutouts: Shoutout) -> ShoutoutBoard:
    return ShoutoutBoard(active={s.id: s for s in shoutouts})


def shoutout(n: int, priority: int = 5, pinned: bool = False, text: str = "") -> Shoutout:
    return Shoutout(
        f"so-{n}",
        ShoutoutKind.QUESTION,
        f"m{n}",
        priority,
        text or f"第{n}个问题？",
        float(n),
        float(n),
        pinned=pinned,
    )


def ids(model: ShoutoutModel) -> list[str]:
    return [r.id for r in model.rows()]


def test_updates_move_rows_and_never_reset(qtmodeltester: ModelTester) -> None:
    model = ShoutoutModel()
    qtmodeltester.check(model)
    resets: list[int] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(1))
    first = [shoutout(n) for n in range(1, 6)]
    model.sync(board(*first), now=0.0)
    assert ids(model) == ["so-1", "so-2", "so-3", "so-4", "so-5"]
    # A more urgent one arrives, one is pinned, one is acknowledged (fades at the end).
    urgent = shoutout(9, priority=1)
    pinned = shoutout(4, pinned=True)
    assert model.sync(board(first[0], first[1], pinned, first[4], urgent), now=1.0)
    assert ids(model) == ["so-4", "so-9", "so-1", "so-2", "so-5", "so-3"]
    assert [r.fading_since is not None for r in model.rows()] == [False] * 5 + [True]
    assert not model.sync(board(first[0], first[1], pinned, first[4], urgent), now=1.5)
    model.sync(board(first[1], urgent), now=1.0 + FADE_S)  # the faded one is gone
    assert ids(model) == ["so-9", "so-2", "so-4", "so-1", "so-5"]
    model.sync(board(first[1], urgent), now=2.0 + 2 * FADE_S)
    assert ids(model) == ["so-9", "so-2"]
    model.sync(board(), fade=False)
    assert ids(model) == []
    assert not resets


def test_a_changed_text_is_a_data_change_in_place(qtmodeltester: ModelTester) -> None:
    model = ShoutoutModel()
    qtmodeltester.check(model)
    model.sync(board(shoutout(1), shoutout(2)), now=0.0)
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles: changed.append(top.row()))
    model.sync(board(shoutout(1), shoutout(2, text="又有3位问：冰杯是送的吗？")), now=0.0)
    assert changed == [1]
    assert model.index(1).data() == "又有3位问：冰杯是送的吗？"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(1, 12), st.integers(1, 4), st.booleans()),
            max_size=10,
            unique_by=lambda t: t[0],
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_sequence_of_boards_keeps_the_selected_id(
    font_family: str, boards: list[list[tuple[int, int, bool]]]
) -> None:
    """Whatever arrives, moves or goes, the selection stays on its shout-out while it is
    shown, and the rows are always the board's, in the board's order."""
    model = ShoutoutModel()
    tester = ModelTester(None)
    tester.check(model)  # Qt's own tester: a broken signal is a warning, and warnings fail
    view = ShoutoutView(model, font_family)
    try:
        for step, spec in enumerate(boards):
            live = board(*[shoutout(n, p, pinned) for n, p, pinned in spec])
            selected = view.selected_id()
            model.sync(live, now=float(step))
            expected = [s.id for s in live.ordered()]
            assert ids(model)[: len(expected)] == expected
            if selected is not None and selected in ids(model):
                assert view.selected_id() == selected
            if model.rowCount():
                index = model.index(model.rowCount() // 2)
                view.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
    finally:
        view.deleteLater()


def test_every_kind_has_a_label_on_screen() -> None:
    assert set(KIND_LABELS) == set(ShoutoutKind)
