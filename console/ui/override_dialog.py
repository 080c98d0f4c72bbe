"""The dialog for moving a member by hand (手动调整分层)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from console.domain.segments import ALL_SEGMENTS
from console.ui.segment_models import segment_text

DATE_FORMAT = "yyyy-MM-dd"


class OverrideDialog(QDialog):
    """Signals:
    override_chosen(str, str, str, object): member id, segment, reason, expiry date or None.
    """

    override_chosen = Signal(str, str, str, object)

    def __init__(self, member: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.member_id = str(member["id"])
        self.setWindowTitle("手动调整分层")
        self.segment = QComboBox()
        for segment in ALL_SEGMENTS:
            self.segment.addItem(segment_text(segment.value), segment.value)
        current = self.segment.findData(member.get("segment"))
        self.segment.setCurrentIndex(max(current, 0))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("为什么调整 (必填, 会记入审计日志)")
        self.reason.setMaxLength(200)
        self.expires = QCheckBox("有效至 (含当天), 之后恢复规则分层")
        self.expiry_date = QDateEdit(QDate.currentDate().addDays(30))
        # The member list's format; the override lasts to the end of this day (China time),
        # and the list names the same day.
        self.expiry_date.setDisplayFormat(DATE_FORMAT)
        self.expiry_date.setCalendarPopup(True)
        self.expiry_date.setMinimumDate(QDate.currentDate().addDays(1))
        self.expiry_date.setEnabled(False)
        self.expires.toggled.connect(self.expiry_date.setEnabled)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("调整")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.reason.textChanged.connect(self._on_reason_changed)
        form = QFormLayout(self)
        form.addRow("会员", QLabel(f"{member.get('nick') or '—'} ({self.member_id})"))
        form.addRow("规则分层", QLabel(member.get("explanation") or "—"))
        form.addRow("调整为", self.segment)
        form.addRow("原因", self.reason)
        form.addRow(self.expires, self.expiry_date)
        form.addRow(self.buttons)
        self._on_reason_changed("")

    def _on_reason_changed(self, text: str) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(text.strip()))

    def _on_buttons_accepted(self) -> None:
        expiry = self.expiry_date.date().toString(DATE_FORMAT) if self.expires.isChecked() else None
        self.override_chosen.emit(
            self.member_id, self.segment.currentData(), self.reason.text().strip(), expiry
        )
        self.accept()
