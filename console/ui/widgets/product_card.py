"""The 讲解中 card: the product being presented, its price ladder across the circles, stock,
and the 话术 line to read now.

The circles most present in the room are highlighted, so the host knows whom to talk to; the
话术 shown are those circles' own lines (the general lines when they have none), one at a
time, stepped with , and . on each console (``step_script``: local, no store command).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from console.domain.catalog import script_for
from console.domain.flash import flash_line
from console.domain.metrics import tiers_to_address
from console.domain.segments import ALL_SEGMENTS, Segment, parse_segment
from console.domain.text import display_text
from console.ui.theme import SEGMENT_COLORS
from console.ui.widgets.elided_label import ElidedLabel

STANDARD = "标准价"


def price_text(price: float | None) -> str:
    if price is None:
        return "—"
    return f"¥{price:,.2f}".rstrip("0").rstrip(".") if price % 1 else f"¥{price:,.0f}"


def card_focus(card: dict[str, Any] | None, online: Mapping[Segment, int]) -> list[Segment]:
    """The circles to address on ``card`` now: of those its ladder shows, the most present
    in the room (``tiers_to_address``); their rows are marked and their 话术 shown. The live
    window and the replay (the room at the scrubbed moment) both ask this."""
    if card is None:
        return []
    visible = {
        parse_segment(step.get("segment")) for step in card.get("ladder", []) if step.get("visible")
    }
    return tiers_to_address({s: n for s, n in online.items() if s in visible})


class LadderRow(QWidget):
    """One circle's terms: name, price, perk; highlighted when the circle fills the room."""

    def __init__(self, segment: Segment | None) -> None:
        super().__init__()
        self.segment = segment
        self.setObjectName("ladderRow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # the spotlight's frame
        self.name = QLabel(f"{segment.value} {segment.label}" if segment else STANDARD)
        self.name.setObjectName("ladderTier")
        if segment is not None:
            self.name.setStyleSheet(f"color: {SEGMENT_COLORS[segment]};")
        self.price = QLabel("—")
        self.price.setObjectName("ladderPrice")
        self.price.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.perk = ElidedLabel("")
        self.perk.setObjectName("ladderPerk")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 1, 10, 1)
        layout.addWidget(self.name, 3)
        layout.addWidget(self.price, 2)
        layout.addSpacing(16)
        layout.addWidget(self.perk, 5)

    def show_terms(self, step: dict[str, Any] | None, focus: bool) -> None:
        visible = bool(step and step.get("visible"))
        self.price.setText(price_text(step.get("price")) if visible and step else "不可见")
        perk = str(step.get("perk", "")) if step else ""
        self.perk.setText(display_text(perk, 30) if visible else "")
        self.setProperty("spotlight", focus)
        self.setProperty("unseen", not visible)
        for widget in (self, self.price, self.perk, self.name):
            widget.style().unpolish(widget)
            widget.style().polish(widget)


class PresentingCard(QFrame):
    """The big card. ``show_card(None, ...)`` shows that nothing is being presented.

    Its panel's title says 讲解中 already: the card does not say it again.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("presentingCard")
        self.emoji = QLabel("")
        self.emoji.setObjectName("cardEmoji")
        self.name = ElidedLabel("暂无讲解商品")
        self.name.setObjectName("cardName")
        self.name.setWordWrap(True)
        # Our own short text ("库存 1,234", "已售罄"): a plain label gets the width it needs.
        self.stock = QLabel("")
        self.stock.setObjectName("cardStock")
        self.stock.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # 秒杀 ¥19.9 · 剩 12 件 · 01:23 (限时特价 for an S4/S6-only sale: no countdown).
        self.flash = QLabel("")
        self.flash.setObjectName("cardFlash")
        self.flash.setTextFormat(Qt.TextFormat.PlainText)
        self.flash.setVisible(False)
        self.rows = [LadderRow(segment) for segment in (*ALL_SEGMENTS, None)]
        top = QHBoxLayout()
        top.addWidget(self.emoji, 0)
        top.addWidget(self.name, 1)
        # In the name row, where the stock is while a sale runs (its units left are what
        # matters then): a row of its own squeezes the ladder's prices below their readable
        # height at 1366x768.
        top.addWidget(self.flash, 0)
        top.addWidget(self.stock, 0)
        ladder = QVBoxLayout()
        ladder.setSpacing(2)
        for row in self.rows:
            ladder.addWidget(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 4)
        layout.addLayout(top)
        layout.addSpacing(4)
        layout.addLayout(ladder)
        layout.addSpacing(4)
        layout.addWidget(self._build_script())
        layout.addStretch(1)  # spare height below the ladder, not inside the name row

    def _build_script(self) -> QFrame:
        self.script_lines: list[str] = []
        self.script_circles: list[Segment] = []
        self.script_index = 0
        self.script_title = ElidedLabel("")
        self.script_title.setObjectName("scriptTitle")
        self.script_line = QLabel("")
        self.script_line.setObjectName("scriptLine")
        self.script_line.setWordWrap(True)
        self.script_line.setTextFormat(Qt.TextFormat.PlainText)
        self.script_box = QFrame()
        self.script_box.setObjectName("scriptBox")
        box = QVBoxLayout(self.script_box)
        box.setContentsMargins(10, 2, 10, 4)
        box.setSpacing(0)
        box.addWidget(self.script_title)
        box.addWidget(self.script_line)
        self.script_box.setVisible(False)
        return self.script_box

    def show_card(
        self, card: dict[str, Any] | None, stock: int | None, focus: Sequence[Segment]
    ) -> None:
        if card is None:
            self.emoji.setText("")
            self.name.setText("暂无讲解商品")
            self.stock.setText("")
            for row in self.rows:
                row.setVisible(False)
            self._show_script([], [])
            return
        for row in self.rows:
            row.setVisible(True)
        self.emoji.setText(str(card.get("emoji", "")))
        self.name.setText(display_text(str(card.get("name", "")), 40))
        self.stock.setText(_stock_text(stock))
        self.stock.setProperty("low", stock is not None and 0 < stock <= 10)
        self.stock.setProperty("soldOut", stock is not None and stock <= 0)
        self.stock.style().unpolish(self.stock)
        self.stock.style().polish(self.stock)
        ladder = {parse_segment(step.get("segment")): step for step in card.get("ladder", [])}
        for row in self.rows:
            row.show_terms(ladder.get(row.segment), row.segment in focus)
        script = card.get("script")
        self._show_script(*script_for(script if isinstance(script, dict) else None, focus))

    def show_flash(self, sale: dict[str, Any] | None, now: float) -> None:
        """The running 秒杀 of the presented product (``RoomState.flash_sales``), as of the
        view's clock ``now`` (live: the wall clock; replay: the scrubbed moment)."""
        text = flash_line(sale, now)
        self.flash.setText(text)
        self.flash.setVisible(bool(text))
        self.stock.setVisible(not text)

    def flash_text(self) -> str:
        return self.flash.text() if self.flash.isVisibleTo(self) else ""

    def _show_script(self, lines: list[str], circles: list[Segment]) -> None:
        """The lines for these circles; the place in them is kept while they stay the same."""
        if lines != self.script_lines:
            self.script_index = 0
        self.script_lines, self.script_circles = lines, circles
        self.script_box.setVisible(bool(lines))
        self._show_script_line()

    def step_script(self, step: int) -> None:
        """, and .: the previous or next line (stays at the first or the last)."""
        if self.script_lines:
            self.script_index = max(0, min(self.script_index + step, len(self.script_lines) - 1))
            self._show_script_line()

    def _show_script_line(self) -> None:
        if not self.script_lines:
            self.script_title.setText("")
            self.script_line.setText("")
            return
        whom = "、".join(f"{s.value} {s.label}" for s in self.script_circles) or "通用"
        place = f"{self.script_index + 1}/{len(self.script_lines)}"
        self.script_title.setText(f"话术 {place} · {whom}    按 , 上一句 · 按 . 下一句")
        self.script_line.setText(display_text(self.script_lines[self.script_index], 120))

    def script_text(self) -> str:
        """The line shown now ('' when there is none)."""
        return self.script_line.text()

    def ladder_texts(self) -> list[str]:
        return [f"{r.name.text()} {r.price.text()} {r.perk.text()}".strip() for r in self.rows]


def _stock_text(stock: int | None) -> str:
    if stock is None:
        return ""
    return "已售罄" if stock <= 0 else f"库存 {stock:,}"


class NextTile(QFrame):
    """One product to come: its name, then price and stock, each on one eliding line (a
    wrapped name would take a third line from the card above on a 768-pixel screen)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("nextCard")
        self.name = ElidedLabel("")
        self.name.setObjectName("nextName")
        self.detail = ElidedLabel("")
        self.detail.setObjectName("nextDetail")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        layout.addWidget(self.name)
        layout.addWidget(self.detail)

    def text(self) -> str:
        return f"{self.name.text()}\n{self.detail.text()}"


class NextCards(QWidget):
    """The next products of the lineup, small, in order after the one presented."""

    def __init__(self, shown: int = 4) -> None:
        super().__init__()
        self.tiles: list[NextTile] = []
        self.shown = shown  # fewer, wider tiles on a narrow screen (``set_shown``)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        for column in range(shown):
            tile = NextTile()
            layout.addWidget(tile, 0, column)
            layout.setColumnStretch(column, 1)
            self.tiles.append(tile)

    def set_shown(self, shown: int) -> None:
        self.shown = max(1, min(shown, len(self.tiles)))
        layout = self.layout()
        assert isinstance(layout, QGridLayout)
        for column in range(len(self.tiles)):
            layout.setColumnStretch(column, 1 if column < self.shown else 0)

    def show_cards(self, cards: Sequence[dict[str, Any]], stocks: Sequence[int]) -> None:
        for n, tile in enumerate(self.tiles):
            if n < min(len(cards), self.shown):
                card = cards[n]
                name = display_text(str(card.get("name", "")), 40)
                tile.name.setText(f"{card.get('emoji', '')} {name}")
                tile.detail.setText(
                    f"{price_text(card.get('base_price'))} · {_stock_text(stocks[n])}"
                )
                tile.setVisible(True)
            else:
                tile.name.setText("")
                tile.detail.setText("")
                tile.setVisible(False)

    def texts(self) -> list[str]:
        return [t.text() for t in self.tiles if t.isVisible()]
