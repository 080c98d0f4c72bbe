"""语音播报设置: the host picks the earpiece's output, the voice, the rate and what is read.

Opened non-modally from the live window (key V); 试听 speaks a sample line with what is
chosen now, on the chosen output. Emits ``settings_chosen`` when confirmed: the window saves
the settings and applies them to the running read-out.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtMultimedia import QAudioDevice
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.domain.readout import DEFAULT_KINDS
from console.domain.shoutouts import ShoutoutKind
from console.ui.shoutout_model import KIND_LABELS
from console.ui.voice_players import device_key
from console.ui.voice_settings import RATE, RATE_MAX, RATE_MIN, VOICE, VoiceSettings

DEFAULT_DEVICE = "系统默认"
KIND_COLUMNS = 3
MIN_WIDTH = 560


class VoiceSettingsDialog(QDialog):
    """Signals:
    settings_chosen(object): the ``VoiceSettings`` confirmed with 确定.
    preview_requested(object): 试听 with the ``VoiceSettings`` shown now.
    """

    settings_chosen = Signal(object)
    preview_requested = Signal(object)

    def __init__(
        self,
        current: VoiceSettings,
        outputs: Sequence[QAudioDevice],
        voices: Sequence[tuple[str, str]],
        variants: Sequence[tuple[str, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("语音播报设置")
        self.setObjectName("voiceSettings")
        self.setMinimumWidth(MIN_WIDTH)  # the device's long names and the warning fit
        self._current = current
        self.device_box = QComboBox()
        self.device_box.addItem(DEFAULT_DEVICE, ("", ""))
        for device in outputs:
            name = device.description()
            self.device_box.addItem(name, (device_key(device), name))
        self.missing_label = QLabel()
        self.missing_label.setObjectName("voiceDeviceMissing")
        self.missing_label.setWordWrap(True)
        self.voice_box = QComboBox()
        for code, name in voices:
            self.voice_box.addItem(name, code)
        self.variant_box = QComboBox()
        self.variant_box.addItem("默认", "")
        for code, name in variants:
            self.variant_box.addItem(name, code)
        self.rate_slider = QSlider(Qt.Orientation.Horizontal)
        self.rate_spin = QSpinBox()
        for rate in (self.rate_slider, self.rate_spin):
            rate.setRange(RATE_MIN, RATE_MAX)
        self.rate_spin.setSuffix(" 词/分钟")
        self.rate_slider.valueChanged.connect(self.rate_spin.setValue)
        self.rate_spin.valueChanged.connect(self.rate_slider.setValue)
        self.kind_boxes: dict[ShoutoutKind, QCheckBox] = {}
        self.preview_button = QPushButton("试听")
        self.preview_button.clicked.connect(self._on_preview_clicked)
        self.defaults_button = QPushButton("恢复默认")
        self.defaults_button.clicked.connect(self._on_defaults_clicked)
        self._build()
        self.show_settings(current)

    def _build(self) -> None:
        form = QFormLayout()
        form.addRow("输出设备", self.device_box)
        form.addRow(self.missing_label)
        form.addRow("声音", self.voice_box)
        form.addRow("音色", self.variant_box)
        rate_row = QHBoxLayout()
        rate_row.addWidget(self.rate_slider, 1)
        rate_row.addWidget(self.rate_spin)
        form.addRow("语速", rate_row)

        kinds = QGroupBox("播报哪些提醒")
        grid = QGridLayout(kinds)
        for n, kind in enumerate(ShoutoutKind):
            box = QCheckBox(KIND_LABELS.get(kind, kind.value))
            self.kind_boxes[kind] = box
            grid.addWidget(box, n // KIND_COLUMNS, n % KIND_COLUMNS)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("确定")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.addButton(self.preview_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(kinds)
        layout.addWidget(buttons)

    def show_settings(self, settings: VoiceSettings) -> None:
        """Fill the controls; a saved output that is not listed is said to be gone."""
        index = self.device_box.findData((settings.device_id, settings.device_name))
        if index < 0:
            index = next(
                (
                    n
                    for n in range(1, self.device_box.count())
                    if self.device_box.itemData(n)[0] == settings.device_id
                    or self.device_box.itemData(n)[1] == settings.device_name
                ),
                -1,
            )
        missing = index < 0 and bool(settings.device_id or settings.device_name)
        if missing:
            # Kept as a choice: confirming other changes keeps the earpiece for when it is back.
            name = settings.device_name or settings.device_id
            self.device_box.addItem(f"{name}（未连接）", (settings.device_id, settings.device_name))
            index = self.device_box.count() - 1
            self.missing_label.setText(f"保存的输出设备「{name}」不在了，现用{DEFAULT_DEVICE}")
        self.missing_label.setVisible(missing)
        self.device_box.setCurrentIndex(max(0, index))
        self._select(self.voice_box, settings.voice, VOICE)
        self._select(self.variant_box, settings.variant, "")
        self.rate_spin.setValue(settings.rate)
        for kind, box in self.kind_boxes.items():
            box.setChecked(kind in settings.kinds)

    @staticmethod
    def _select(box: QComboBox, value: str, fallback: str) -> None:
        index = box.findData(value)
        box.setCurrentIndex(index if index >= 0 else max(0, box.findData(fallback)))

    def chosen(self) -> VoiceSettings:
        """The settings as the controls show them now."""
        device_id, device_name = self.device_box.currentData()
        return VoiceSettings(
            device_id=device_id,
            device_name=device_name,
            voice=str(self.voice_box.currentData() or VOICE),
            variant=str(self.variant_box.currentData() or ""),
            rate=self.rate_spin.value(),
            kinds=frozenset(kind for kind, box in self.kind_boxes.items() if box.isChecked()),
        )

    def _on_preview_clicked(self) -> None:
        self.preview_requested.emit(self.chosen())

    def _on_defaults_clicked(self) -> None:
        self.show_settings(VoiceSettings(kinds=DEFAULT_KINDS, rate=RATE))

    def accept(self) -> None:
        self.settings_chosen.emit(self.chosen())
        super().accept()
