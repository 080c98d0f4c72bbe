"""Small forms for the floor assistant's commands: open a 接龙, adjust stock, post a notice,
draw prizes (抽奖), start a 秒杀.

Each is opened non-modally (``open()``), so the room keeps updating behind it, and emits
``submitted`` with the command's fields when accepted; nothing is sent from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QWidget,
)

from console.domain.chains import ChainProgress
from console.domain.draws import PRIZE_LENGTH
from console.domain.flash import MAX_MINUTES, MIN_MINUTES, flash_line
from console.domain.segments import ALL_SEGMENTS
from console.domain.sessions import parse_status
from console.domain.text import display_text


class CommandDialog(QDialog):
    """Signals:
    submitted(dict): the command's fields, when the assistant confirms.
    """

    submitted = Signal(dict)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("确定")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def finish_form(self) -> None:
        self.form.addRow(self.buttons)

    def fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def accept(self) -> None:
        self.submitted.emit(self.fields())
        super().accept()


def _circle_boxes() -> tuple[QWidget, dict[str, QCheckBox]]:
    """S1..S6 checkboxes in a grid (none ticked: every circle)."""
    circles: dict[str, QCheckBox] = {}
    grid = QWidget()
    boxes = QGridLayout(grid)
    boxes.setContentsMargins(0, 0, 0, 0)
    for n, segment in enumerate(ALL_SEGMENTS):
        box = QCheckBox(f"{segment.value} {segment.label}")
        circles[segment.value] = box
        boxes.addWidget(box, n // 3, n % 3)
    return grid, circles


def _product_box(cards: Sequence[dict[str, Any]], current: str | None) -> QComboBox:
    box = QComboBox()
    for card in cards:
        name = display_text(str(card.get("name", "")), 30)
        box.addItem(f"{card.get('emoji', '')} {name}", card["product_id"])
    if current is not None and (index := box.findData(current)) >= 0:
        box.setCurrentIndex(index)
    return box


class ChainDialog(CommandDialog):
    """开接龙: product, 成团 threshold, cap, deadline, first-N gift."""

    def __init__(
        self, cards: Sequence[dict[str, Any]], current: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__("开接龙", parent)
        self.product = _product_box(cards, current)
        self.threshold = QSpinBox(minimum=1, maximum=100_000, value=20)
        self.cap = QSpinBox(minimum=1, maximum=100_000, value=100)
        self.minutes = QDoubleSpinBox(minimum=1, maximum=24 * 60, value=10, decimals=0)
        self.minutes.setSuffix(" 分钟")
        self.gift_first = QSpinBox(minimum=0, maximum=100_000, value=0)
        self.gift = QLineEdit()
        self.gift.setMaxLength(60)
        self.gift.setPlaceholderText("如：《7天轻食食谱》")
        self.form.addRow("商品", self.product)
        self.form.addRow("成团人数", self.threshold)
        self.form.addRow("上限", self.cap)
        self.form.addRow("截止", self.minutes)
        self.form.addRow("前N名有礼", self.gift_first)
        self.form.addRow("赠品", self.gift)
        self.threshold.valueChanged.connect(self.cap.setMinimum)
        self.cap.setMinimum(self.threshold.value())
        self.finish_form()

    def fields(self) -> dict[str, Any]:
        return {
            "product_id": self.product.currentData(),
            "threshold": self.threshold.value(),
            "cap": self.cap.value(),
            "deadline_minutes": self.minutes.value(),
            "gift_first": self.gift_first.value(),
            "gift": self.gift.text().strip(),
        }


class CloseChainConfirm(CommandDialog):
    """结束接龙 on a chain that has not formed: it would fail and refund its entries, so the
    assistant confirms (Enter) or keeps it running (Esc)."""

    def __init__(self, chain: ChainProgress, product: str, parent: QWidget | None = None) -> None:
        super().__init__("结束接龙", parent)
        self.chain_id = chain.id
        self.message = QLabel(
            f"{display_text(product, 30)}\n"
            f"接龙还差{chain.missing}单成团，现在结束将失败并退款 {chain.entries} 单。确定结束？"
        )
        self.message.setObjectName("confirmText")
        self.message.setWordWrap(True)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("结束接龙")
        ok.setDefault(True)
        self.form.addRow(self.message)
        self.finish_form()

    def fields(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id}


class StockDialog(CommandDialog):
    """调库存: add units (a new batch) or take them back (damaged)."""

    def __init__(
        self, cards: Sequence[dict[str, Any]], current: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__("调整库存", parent)
        self.product = _product_box(cards, current)
        self.delta = QSpinBox(minimum=-100_000, maximum=100_000, value=10)
        self.delta.setPrefix("+ ")
        self.delta.valueChanged.connect(lambda v: self.delta.setPrefix("+ " if v >= 0 else ""))
        self.reason = QLineEdit()
        self.reason.setMaxLength(60)
        self.reason.setPlaceholderText("如：补货 / 破损")
        self.form.addRow("商品", self.product)
        self.form.addRow("数量", self.delta)
        self.form.addRow("原因", self.reason)
        self.finish_form()

    def fields(self) -> dict[str, Any]:
        return {
            "product_id": self.product.currentData(),
            "delta": self.delta.value(),
            "reason": self.reason.text().strip(),
        }


class NoticeDialog(CommandDialog):
    """发公告: one line on every console (e.g. 20:30 抽3位送定制冰杯)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("发公告", parent)
        self.text = QLineEdit()
        self.text.setMaxLength(120)
        self.text.setMinimumWidth(420)
        self.text.setPlaceholderText("如：20:30 抽3位送定制冰杯")
        self.form.addRow("公告", self.text)
        self.finish_form()

    def fields(self) -> dict[str, Any]:
        return {"text": self.text.text().strip()}

    def accept(self) -> None:
        if self.text.text().strip():
            super().accept()


class DrawDialog(CommandDialog):
    """抽奖: the prize, how many win, and who may: circles (none ticked: all), minutes
    watched, a comment, still in the room. The store draws and logs the seed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("抽奖", parent)
        self.prize = QLineEdit()
        self.prize.setMaxLength(PRIZE_LENGTH)
        self.prize.setMinimumWidth(320)
        self.prize.setPlaceholderText("如：定制冰杯")
        self.count = QSpinBox(minimum=1, maximum=1000, value=3)
        grid, self.circles = _circle_boxes()
        self.minutes = QDoubleSpinBox(minimum=0, maximum=24 * 60, value=0, decimals=0)
        self.minutes.setSuffix(" 分钟")
        self.must_comment = QCheckBox("发过评论")
        self.in_room_now = QCheckBox("此刻在直播间")
        self.in_room_now.setChecked(True)
        self.form.addRow("奖品", self.prize)
        self.form.addRow("中奖人数", self.count)
        self.form.addRow("圈层（不选为全部）", grid)
        self.form.addRow("至少观看", self.minutes)
        self.form.addRow("条件", self.must_comment)
        self.form.addRow("", self.in_room_now)
        self.finish_form()

    def fields(self) -> dict[str, Any]:
        return {
            "prize": self.prize.text().strip(),
            "count": self.count.value(),
            "circles": [s for s, box in self.circles.items() if box.isChecked()],
            "min_watch_minutes": self.minutes.value(),
            "must_comment": self.must_comment.isChecked(),
            "in_room_now": self.in_room_now.isChecked(),
        }

    def accept(self) -> None:
        if self.prize.text().strip():
            super().accept()


def running_sale_text(sale: Mapping[str, Any] | None, now: float) -> str:
    """ "该商品正在秒杀：¥68 · 剩 15 件 · 03:24" from the card's own line (``flash_line``);
    "" when the product has no sale running."""
    line = flash_line(sale, now)
    # flash_line reads "秒杀 ¥68 · …" / "限时特价 ¥9.9": its first space becomes the colon.
    return f"该商品正在{line.replace(' ', '：', 1)}" if line else ""


class FlashDialog(CommandDialog):
    """秒杀: product (the one presented when it opened; it stays, whatever is presented
    meanwhile), flash price in yuan, units, minutes, per-member limit, circles (none ticked:
    all). A sale already running on the product is shown above the new terms. The store
    checks the terms and refuses in Chinese."""

    def __init__(
        self,
        cards: Sequence[dict[str, Any]],
        current: str | None,
        stock: dict[str, int],
        parent: QWidget | None = None,
        sales: Mapping[str, Mapping[str, Any]] | None = None,
        now: float = 0.0,
    ) -> None:
        super().__init__("秒杀", parent)
        self.cards = {str(c["product_id"]): c for c in cards}
        self.stock = stock
        self.sales: Mapping[str, Mapping[str, Any]] = sales or {}
        self.now = now
        self.product = _product_box(cards, current)
        self.running = QLabel("")
        self.running.setObjectName("flashRunning")
        self.running.setTextFormat(Qt.TextFormat.PlainText)
        self.running.setVisible(False)
        self.price = QDoubleSpinBox(minimum=0.01, maximum=100_000, value=9.9, decimals=2)
        self.price.setPrefix("¥ ")
        self.units = QSpinBox(minimum=1, maximum=100_000, value=10)
        self.units.setSuffix(" 件")
        self.minutes = QDoubleSpinBox(minimum=MIN_MINUTES, maximum=MAX_MINUTES, value=5)
        self.minutes.setDecimals(1)
        self.minutes.setSuffix(" 分钟")
        self.limit = QSpinBox(minimum=1, maximum=1000, value=1)
        self.limit.setSuffix(" 件")
        grid, self.circles = _circle_boxes()
        self.form.addRow("商品", self.product)
        self.form.addRow(self.running)
        self.form.addRow("秒杀价", self.price)
        self.form.addRow("秒杀件数", self.units)
        self.form.addRow("时长", self.minutes)
        self.form.addRow("每人限购", self.limit)
        self.form.addRow("圈层（不选为全部）", grid)
        self.product.currentIndexChanged.connect(lambda _index: self._on_product_changed())
        self._on_product_changed()
        self.finish_form()

    def show_running(self, sales: Mapping[str, Mapping[str, Any]], now: float) -> None:
        """The room's running sales (``RoomState.flash_sales``) as of ``now``: the line for
        the dialog's product, never for whatever is presented now."""
        self.sales, self.now = sales, now
        text = running_sale_text(self.sales.get(str(self.product.currentData())), now)
        self.running.setText(text)
        self.running.setVisible(bool(text))

    def _on_product_changed(self) -> None:
        self.show_running(self.sales, self.now)
        self._prefill()

    def _prefill(self) -> None:
        """The product's lowest visible price and at most 10 of its stock, to edit."""
        card = self.cards.get(str(self.product.currentData()))
        if card is None:
            return
        prices = [
            float(step["price"])
            for step in card.get("ladder", [])
            if step.get("visible") and step.get("price") is not None
        ]
        if prices:
            self.price.setValue(min(prices))
        left = self.stock.get(str(card["product_id"]), int(card.get("stock", 0) or 0))
        self.units.setValue(max(1, min(10, left)))

    def fields(self) -> dict[str, Any]:
        return {
            "product_id": self.product.currentData(),
            "price": round(self.price.value(), 2),
            "units": self.units.value(),
            "minutes": self.minutes.value(),
            "limit_per_member": self.limit.value(),
            "circles": [s for s, box in self.circles.items() if box.isChecked()],
        }

    def accept(self) -> None:
        if self.product.currentData() is not None:
            super().accept()


class ProductPicker(CommandDialog):
    """选择商品: the lineup as a list; arrows and Enter present the chosen one."""

    def __init__(
        self, cards: Sequence[dict[str, Any]], current: str | None, parent: QWidget | None = None
    ) -> None:
        super().__init__("选择讲解商品", parent)
        self.products = QListWidget()
        self.products.setMinimumWidth(420)
        for card in cards:
            name = display_text(str(card.get("name", "")), 30)
            item = QListWidgetItem(f"{card.get('emoji', '')} {name}")
            item.setData(Qt.ItemDataRole.UserRole, card["product_id"])
            self.products.addItem(item)
        ids = [c["product_id"] for c in cards]
        self.products.setCurrentRow(ids.index(current) if current in ids else 0)
        self.products.itemActivated.connect(lambda _item: self.accept())
        self.form.addRow(self.products)
        self.finish_form()

    def fields(self) -> dict[str, Any]:
        item = self.products.currentItem()
        return {"product_id": item.data(Qt.ItemDataRole.UserRole) if item else None}

    def accept(self) -> None:
        if self.products.currentItem() is not None:
            super().accept()


class SessionPicker(CommandDialog):
    """复盘: the store's sessions, newest first; Enter opens the chosen one's replay."""

    def __init__(self, sessions: Sequence[dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__("选择要复盘的场次", parent)
        self.sessions = QListWidget()
        self.sessions.setMinimumWidth(520)
        newest = sorted(sessions, key=lambda s: -(s.get("created_at") or 0))
        for session in newest:
            title = display_text(str(session.get("title", "")), 36)
            known = parse_status(session.get("status"))
            status = known.label if known else ""
            item = QListWidgetItem(f"{title}  ·  {status}  ·  {session.get('last_seq', 0)} 条事件")
            item.setData(Qt.ItemDataRole.UserRole, session["id"])
            self.sessions.addItem(item)
        self.sessions.setCurrentRow(0)
        self.sessions.itemActivated.connect(lambda _item: self.accept())
        self.form.addRow(self.sessions)
        self.finish_form()

    def fields(self) -> dict[str, Any]:
        item = self.sessions.currentItem()
        return {"session_id": item.data(Qt.ItemDataRole.UserRole) if item else None}

    def accept(self) -> None:
        if self.sessions.currentItem() is not None:
            super().accept()
