"""A click on the replay's scrubber lands where it was clicked (it used to page-step)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from console.ui.widgets.scrubber import Scrubber


@pytest.mark.parametrize("share", [0.1, 0.36, 0.5, 0.9])
def test_a_click_on_the_track_jumps_there(qtbot: QtBot, share: float) -> None:
    scrubber = Scrubber()
    qtbot.addWidget(scrubber)
    scrubber.resize(1200, 30)
    scrubber.setRange(0, 1_000_000)
    scrubber.show()
    qtbot.waitExposed(scrubber)
    x = round(scrubber.width() * share)
    qtbot.mouseClick(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(x, scrubber.height() // 2))
    assert scrubber.value() == pytest.approx(share * 1_000_000, abs=20_000)
