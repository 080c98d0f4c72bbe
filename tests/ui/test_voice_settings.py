"""语音播报设置: the dialog shows every control, the choice survives a restart and changes what
the running read-out says and how, and a saved output that is gone falls back to the default."""

from __future__ import annotations

import io
import logging
import wave
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from console.domain.readout import DEFAULT_KINDS
from console.domain.shoutouts import Shoutout, ShoutoutKind
from console.sync.client import StoreClient
from console.ui.app import save_screenshot
from console.ui.live_session import LiveSession
from console.ui.live_window import LiveWindow
from console.ui.voice import VoiceReadout
from console.ui.voice_dialog import DEFAULT_DEVICE, VoiceSettingsDialog
from console.ui.voice_settings import (
    RATE,
    RATE_MAX,
    RATE_MIN,
    VoiceSettings,
    load_voice_settings,
    mandarin_voices,
    save_voice_settings,
    voice_variants,
)
from console.ui.window_settings import window_settings
from tests.ui.layout import check_window
from tests.ui.test_layout import OUTPUT
from tests.ui.test_voice import FakePlayer, board_of, needs_espeak, owner

__all__ = ["owner"]

GONE = VoiceSettings(device_id="bluez_sink.00_11_22", device_name="蓝牙耳机")


def shoutout(sid: str, kind: ShoutoutKind, text: str = "成团啦，谢谢大家") -> Shoutout:
    return Shoutout(sid, kind, sid, 1, text, 999.0, 999.0)


def duration(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as sound:
        return float(sound.getnframes() / sound.getframerate())


class Players:
    """The players a read-out made, and for which settings (the factory it is given)."""

    def __init__(self) -> None:
        self.made: list[tuple[VoiceSettings, FakePlayer]] = []

    def __call__(self, _parent: QObject, settings: VoiceSettings) -> FakePlayer:
        player = FakePlayer()
        self.made.append((settings, player))
        return player


def open_window(font_family: str) -> LiveWindow:
    window = LiveWindow(LiveSession(StoreClient("http://127.0.0.1:9", "lc_none")), font_family)
    window.show()
    return window


def dialog_for(settings: VoiceSettings, qtbot: QtBot) -> VoiceSettingsDialog:
    dialog = VoiceSettingsDialog(settings, [], mandarin_voices(), voice_variants())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


@needs_espeak
@pytest.mark.parametrize("state", ["default", "device_gone"])
def test_the_dialog_shows_every_control_readably_at_its_default_size(
    qtbot: QtBot, font_family: str, state: str
) -> None:
    dialog = dialog_for(GONE if state == "device_gone" else VoiceSettings(), qtbot)
    assert save_screenshot(dialog, OUTPUT / f"voice-settings-{state}.png")
    controls = [
        dialog.device_box,
        dialog.voice_box,
        dialog.variant_box,
        dialog.rate_slider,
        dialog.rate_spin,
        dialog.preview_button,
        dialog.defaults_button,
        *dialog.kind_boxes.values(),
    ]
    assert all(c.isVisible() for c in controls)
    assert dialog.missing_label.isVisible() == (state == "device_gone")
    problems = check_window(dialog)
    assert not problems, "\n".join(problems)
    # Every kind can be chosen, each under its Chinese name; the defaults ticked.
    assert set(dialog.kind_boxes) == set(ShoutoutKind)
    assert dialog.kind_boxes[ShoutoutKind.DRAW_WINNER].text() == "抽奖"
    assert {k for k, box in dialog.kind_boxes.items() if box.isChecked()} == DEFAULT_KINDS
    # The voices are espeak-ng's Mandarin ones (cmn first) and its variants.
    voices = [dialog.voice_box.itemData(n) for n in range(dialog.voice_box.count())]
    assert voices[0] == "cmn"
    assert all(v.startswith("cmn") for v in voices)
    assert dialog.variant_box.count() > 5
    assert dialog.variant_box.findData("f3") > 0


def test_the_choice_is_saved_and_read_back_and_bad_values_fall_back() -> None:
    assert load_voice_settings() == VoiceSettings()  # nothing saved: the defaults
    chosen = VoiceSettings(
        device_id="earpiece",
        device_name="耳返",
        voice="cmn-latn-pinyin",
        variant="f3",
        rate=210,
        kinds=frozenset({ShoutoutKind.CHAIN_FORMED, ShoutoutKind.QUESTION}),
    )
    save_voice_settings(chosen)
    assert load_voice_settings() == chosen
    save_voice_settings(VoiceSettings(kinds=frozenset()))  # read nothing: not the defaults
    assert load_voice_settings().kinds == frozenset()
    settings = window_settings()
    settings.setValue("voice/rate", "fast")
    settings.setValue("voice/kinds", "chain_formed,no_such_kind")
    settings.setValue("voice/voice", "--option")
    settings.setValue("voice/variant", "f3 -w /tmp/x")
    settings.sync()
    loaded = load_voice_settings()
    assert loaded.rate == RATE
    assert loaded.kinds == {ShoutoutKind.CHAIN_FORMED}
    assert loaded.voice == "cmn"
    assert loaded.variant == ""
    settings.setValue("voice/rate", 9999)
    settings.sync()
    assert load_voice_settings().rate == RATE_MAX


def test_v_opens_the_settings_and_what_is_confirmed_applies_now_and_after_a_restart(
    qtbot: QtBot, font_family: str, run: Callable[..., Any]
) -> None:
    window = open_window(font_family)
    with qtbot.waitActive(window, timeout=10_000):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_V)
    first = window.voice_dialog
    assert first is not None
    first.rate_spin.setValue(90)
    window.open_voice_settings()  # V again: one dialog, the new one, nothing applied
    dialog = window.voice_dialog
    assert dialog is not None
    assert dialog is not first
    qtbot.waitExposed(dialog)
    assert window.voice.settings.rate == RATE
    assert dialog.device_box.currentText() == DEFAULT_DEVICE
    dialog.rate_slider.setValue(220)
    assert dialog.rate_spin.value() == 220
    dialog.kind_boxes[ShoutoutKind.VIP_ARRIVAL].setChecked(False)
    dialog.kind_boxes[ShoutoutKind.QUESTION].setChecked(True)
    dialog.variant_box.setCurrentIndex(dialog.variant_box.findData("f3"))
    qtbot.mouseClick(
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: window.voice_dialog is None, timeout=5_000)
    wanted = DEFAULT_KINDS - {ShoutoutKind.VIP_ARRIVAL} | {ShoutoutKind.QUESTION}
    assert window.voice.settings.rate == 220
    assert window.voice.settings.espeak_voice == "cmn+f3"
    assert window.voice.queue.kinds == wanted
    window.close()
    run(window.live.client.aclose())

    again = open_window(font_family)
    assert again.voice.settings == VoiceSettings(rate=220, variant="f3", kinds=wanted)
    assert again.voice.queue.kinds == wanted
    again.close()
    run(again.live.client.aclose())


@needs_espeak
def test_rate_voice_and_kinds_change_what_the_running_readout_says(
    owner: QObject, qtbot: QtBot
) -> None:
    player = FakePlayer()
    voice = VoiceReadout(owner, player=player, clock=lambda: 1000.0)
    board = board_of(shoutout("slow", ShoutoutKind.CHAIN_FORMED))
    voice.apply(VoiceSettings(rate=RATE_MIN))
    voice.offer(board)
    qtbot.waitUntil(lambda: len(player.played) == 1, timeout=10_000)
    player.finish()
    board.active["fast"] = shoutout("fast", ShoutoutKind.CHAIN_FORMED)
    voice.apply(VoiceSettings(rate=RATE_MAX))
    voice.offer(board)
    qtbot.waitUntil(lambda: len(player.played) == 2, timeout=10_000)
    player.finish()
    slow, fast = (duration(wav) for wav in player.played)
    assert slow > 2.5 * fast, (slow, fast)  # 80 against 300 words a minute

    board.active["f3"] = shoutout("f3", ShoutoutKind.CHAIN_FORMED)
    voice.apply(VoiceSettings(rate=RATE_MAX, variant="f3"))
    voice.offer(board)
    qtbot.waitUntil(lambda: len(player.played) == 3, timeout=10_000)
    player.finish()
    assert player.played[2] != player.played[1]  # the same words in another voice

    # Arrivals no longer read: a new one waits unsaid; a 成团 is read.
    voice.apply(VoiceSettings(kinds=DEFAULT_KINDS - {ShoutoutKind.VIP_ARRIVAL}))
    board.active["arrival"] = shoutout("arrival", ShoutoutKind.VIP_ARRIVAL, "林*薇 来了")
    voice.offer(board)
    assert voice.queue.in_flight is None
    board.active["formed"] = shoutout("formed", ShoutoutKind.CHAIN_FORMED)
    voice.offer(board)
    assert voice.queue.in_flight is not None
    assert voice.queue.in_flight.id == "formed"
    qtbot.waitUntil(lambda: len(player.played) == 4, timeout=10_000)
    player.finish()
    assert voice.spoken == 4


def test_a_new_output_device_recreates_the_player(
    owner: QObject,
) -> None:
    players = Players()
    voice = VoiceReadout(owner, make_player=players, clock=lambda: 1000.0)
    assert [s.device_id for s, _ in players.made] == [""]
    voice.apply(VoiceSettings(rate=200))  # same device: same player
    assert len(players.made) == 1
    earpiece = VoiceSettings(device_id="earpiece", device_name="耳返")
    voice.apply(earpiece)
    assert [s.device_id for s, _ in players.made] == ["", "earpiece"]
    assert voice.player is players.made[1][1]


def test_a_saved_device_that_is_gone_falls_back_to_the_default_and_says_so(
    owner: QObject, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    players = Players()
    with caplog.at_level(logging.WARNING, logger="console.ui.voice"):
        voice = VoiceReadout(owner, settings=GONE, make_player=players, clock=lambda: 1000.0)
    assert voice.device_missing
    assert any("蓝牙耳机" in r.getMessage() for r in caplog.records)
    assert not voice.silent  # it still speaks, on the system default
    dialog = dialog_for(GONE, qtbot)
    assert dialog.missing_label.isVisible()
    assert "蓝牙耳机" in dialog.missing_label.text()
    assert DEFAULT_DEVICE in dialog.missing_label.text()
    # Kept as the choice: confirming another change does not forget the earpiece.
    assert dialog.device_box.currentText() == "蓝牙耳机（未连接）"
    assert dialog.chosen().device_id == GONE.device_id
    voice.apply(VoiceSettings())
    assert not voice.device_missing


@needs_espeak
def test_an_output_that_fails_is_reopened_once_then_the_readout_goes_silent(
    owner: QObject, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    players = Players()
    voice = VoiceReadout(owner, make_player=players, clock=lambda: 1000.0)
    board = board_of(*(shoutout(sid, ShoutoutKind.CHAIN_FORMED) for sid in "abcd"))
    with caplog.at_level(logging.WARNING, logger="console.ui.voice"):
        for n, ok in enumerate([False, True, False, False]):
            voice.offer(board)
            player = players.made[-1][1]
            qtbot.waitUntil(lambda p=player: bool(p.pending), timeout=10_000)
            player.finish(ok)
            assert len(players.made) == [2, 2, 3, 3][n]
    assert voice.spoken == 1
    assert voice.silent
    messages = [r.getMessage() for r in caplog.records]
    assert sum("重新打开" in m for m in messages) == 2
    assert sum("静默运行" in m for m in messages) == 1
    voice.offer(board)  # silent: the rest counts as read, nothing more is made or played
    assert len(players.made) == 3


@needs_espeak
def test_preview_speaks_the_sample_with_the_dialog_s_choice(owner: QObject, qtbot: QtBot) -> None:
    players = Players()
    voice = VoiceReadout(owner, make_player=players, clock=lambda: 1000.0)
    dialog = dialog_for(VoiceSettings(), qtbot)
    dialog.preview_requested.connect(voice.preview)
    dialog.rate_spin.setValue(RATE_MAX)
    dialog.device_box.setCurrentIndex(0)
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: len(players.made) == 2 and bool(players.made[1][1].played), timeout=10_000
    )
    settings, player = players.made[1]
    assert settings.rate == RATE_MAX
    assert 0.3 < duration(player.played[0]) < 5
    assert voice.queue.in_flight is None  # nothing of the queue was taken
    voice.stop()
