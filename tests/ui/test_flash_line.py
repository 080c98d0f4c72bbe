"""The 讲解中 card's 秒杀 line: a countdown, but none for an S4/S6-only sale (DOMAIN.md)."""

from __future__ import annotations

from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from console.ui.theme import PALETTE
from console.ui.widgets.product_card import PresentingCard

NOW = 1_800_000_000.0
CARD = {"product_id": "p-pack", "name": "夏日轻食能量包", "emoji": "🥗", "ladder": []}


def test_the_card_shows_a_running_flash_sale_and_hides_it_when_over(qtbot: QtBot) -> None:
    card = PresentingCard()
    qtbot.addWidget(card)
    card.show_card(CARD, 40, [])
    card.show()
    sale = {"price": 19.9, "units_left": 12, "ends_at": NOW + 83, "countdown": True}
    card.show_flash(sale, NOW)
    assert card.flash_text() == "秒杀 ¥19.9 · 剩 12 件 · 01:23"
    card.show_flash(sale, NOW + 60)
    assert card.flash_text() == "秒杀 ¥19.9 · 剩 12 件 · 00:23"
    card.show_flash({**sale, "countdown": False, "price": 9.9}, NOW)
    assert card.flash_text() == "限时特价 ¥9.9"  # S4/S6 only: no countdown pressure
    card.show_flash(sale, NOW + 90)
    assert card.flash_text() == ""
    card.show_flash(None, NOW)
    assert not card.flash.isVisible()


def test_the_running_sale_stands_out_in_the_warning_colour(qtbot: QtBot, font_family: str) -> None:
    card = PresentingCard()
    qtbot.addWidget(card)
    card.show_card(CARD, 40, [])
    card.show_flash({"price": 19.9, "units_left": 12, "ends_at": NOW + 83}, NOW)
    card.show()
    card.flash.ensurePolished()
    assert card.flash.font().bold()
    assert card.flash.font().pixelSize() >= 20
    assert card.flash.palette().color(card.flash.foregroundRole()) == QColor(PALETTE["warn"])
