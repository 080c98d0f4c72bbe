"""语音播报: espeak-ng speaks Mandarin, the service reads one at a time, M mutes it."""

from __future__ import annotations

import io
import logging
import math
import os
import shutil
import sys
import wave
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from console.domain.shoutouts import Shoutout, ShoutoutBoard, ShoutoutKind
from console.ui.voice import VoiceReadout, synthesize
from console.ui.voice_players import AplayPlayer
from tests.helpers import StoreProcess
from tests.ui.test_assistant import press
from tests.ui.test_live_window import Console, open_console

__all__ = ["open_console"]

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (./dev setup installs the Debian package espeak-ng)",
)


@pytest.fixture
def owner(qapp: QApplication) -> Iterator[QObject]:
    """The read-out's parent, as the window is in the console, deleted once at the end. A
    parentless read-out would be left to Python's cycle collector, which may delete it (and
    its child processes) while Qt is deleting one of those processes: a double delete."""
    parent = QObject()
    yield parent
    for voice in parent.findChildren(VoiceReadout):
        voice.stop()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    shiboken6.delete(parent)


class FakePlayer:
    """Records what it was given; the test says when each finished."""

    def __init__(self) -> None:
        self.played: list[bytes] = []
        self.pending: list[Callable[[bool], None]] = []

    def play(self, wav: bytes, done: Callable[[bool], None]) -> None:
        self.played.append(wav)
        self.pending.append(done)

    def stop(self) -> None:
        pass

    def finish(self, ok: bool = True) -> None:
        self.pending.pop(0)(ok)


def board_of(*shoutouts: Shoutout) -> ShoutoutBoard:
    return ShoutoutBoard(active={s.id: s for s in shoutouts})


def so(sid: str, priority: int, ts: float, text: str) -> Shoutout:
    return Shoutout(sid, ShoutoutKind.VIP_ORDER, sid, priority, text, ts, ts)


@needs_espeak
def test_espeak_says_a_known_sentence_as_plausible_speech() -> None:
    wav = synthesize("恭喜 林*薇 抽中 定制冰杯，感谢钻石会员下单牛油果")
    with wave.open(io.BytesIO(wav)) as sound:
        assert sound.getsampwidth() == 2  # 16-bit PCM
        assert sound.getcomptype() == "NONE"
        frames = sound.readframes(sound.getnframes())
        duration = sound.getnframes() / sound.getframerate()
    assert 0.5 < duration < 10, duration
    samples = array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    rms = math.sqrt(sum(x * x for x in samples) / len(samples))
    assert rms > 300, rms  # speech, not silence


@needs_espeak
def test_service_reads_most_urgent_first_one_at_a_time_skipping_acknowledged(
    owner: QObject,
    qtbot: QtBot,
) -> None:
    player = FakePlayer()
    voice = VoiceReadout(owner, player=player, clock=lambda: 1000.0)
    board = board_of(
        so("late", 3, 995, "感谢下单"),
        so("urgent", 1, 999, "成团啦"),
        so("acked", 2, 990, "还差两单"),
    )
    voice.offer(board)
    qtbot.waitUntil(lambda: len(player.played) == 1, timeout=10_000)  # "urgent"
    voice.offer(board)  # a second later: still saying it, nothing new starts
    voice.offer(board)
    assert voice.queue.in_flight is not None
    assert voice.queue.in_flight.id == "urgent"
    # Next would be "acked": the assistant acknowledges it while it is being synthesised.
    player.finish()
    voice.offer(board)
    assert voice.queue.in_flight is not None
    assert voice.queue.in_flight.id == "acked"
    del board.active["acked"]
    qtbot.waitUntil(lambda: voice.queue.in_flight is None, timeout=10_000)
    assert len(player.played) == 1
    assert voice.queue.skipped == 1
    voice.offer(board)
    qtbot.waitUntil(lambda: len(player.played) == 2, timeout=10_000)
    assert voice.queue.in_flight is not None
    assert voice.queue.in_flight.id == "late"
    player.finish()
    assert voice.spoken == 2


def test_without_audio_it_logs_once_and_keeps_working_silently(
    owner: QObject,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="console.ui.voice"):
        voice = VoiceReadout(owner, player=None, clock=lambda: 1000.0)
        board = board_of(so("a", 1, 999, "成团啦"))
        for _ in range(3):
            voice.offer(board)
        board.active["b"] = so("b", 1, 999, "又一个")
        voice.offer(board)
    assert voice.silent
    assert voice.queue.in_flight is None
    assert voice.queue.read == {"a", "b"}
    assert len([r for r in caplog.records if r.name == "console.ui.voice"]) == 1


@needs_espeak
def test_a_player_that_fails_goes_silent_after_one_warning(
    owner: QObject, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    player = FakePlayer()
    voice = VoiceReadout(owner, player=player, clock=lambda: 1000.0)
    board = board_of(so("a", 1, 999, "成团啦"), so("b", 2, 999, "还差一单"))
    with caplog.at_level(logging.WARNING, logger="console.ui.voice"):
        voice.offer(board)
        qtbot.waitUntil(lambda: bool(player.pending), timeout=10_000)
        player.finish(ok=False)  # no audio device
        voice.offer(board)
    assert voice.silent
    assert voice.queue.read == {"a", "b"}
    assert len(player.played) == 1
    assert len([r for r in caplog.records if r.name == "console.ui.voice"]) == 1


@pytest.mark.parametrize("role", ["host", "assistant"])
def test_m_mutes_and_unmutes_the_voice_in_both_views(
    shared_store: StoreProcess, open_console: Callable[..., Console], qtbot: QtBot, role: str
) -> None:
    console = open_console(shared_store, role=role)
    window = console.window
    assert not window.voice.muted
    assert not window.voice_label.isVisibleTo(window)
    press(console, qtbot, Qt.Key.Key_M)
    assert window.voice.muted
    assert window.voice_label.isVisibleTo(window)
    assert window.voice_label.text() == "🔇"
    press(console, qtbot, Qt.Key.Key_M)
    assert not window.voice.muted
    assert not window.voice_label.isVisibleTo(window)


def test_m_is_remembered_after_a_restart(
    shared_store: StoreProcess,
    open_console: Callable[..., Console],
    qtbot: QtBot,
) -> None:
    first = open_console(shared_store)
    press(first, qtbot, Qt.Key.Key_M)
    assert first.window.voice.muted
    first.window.close()  # closing mutes the read-out itself: only M is remembered

    muted = open_console(shared_store)
    window = muted.window
    assert window.voice.muted
    assert window.mute_action.isChecked()
    assert window.voice_label.isVisibleTo(window)
    assert window.voice_label.text() == "🔇"
    press(muted, qtbot, Qt.Key.Key_M)  # unmuted, and so it starts next time
    assert not window.voice.muted
    window.close()

    heard = open_console(shared_store).window
    assert not heard.voice.muted
    assert not heard.voice_label.isVisibleTo(heard)


@pytest.mark.parametrize(("exit_code", "ok"), [(0, True), (1, False)])
def test_aplay_player_pipes_the_wav_and_reports_how_it_went(
    owner: QObject,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exit_code: int,
    ok: bool,
) -> None:
    received = tmp_path / "received.wav"
    fake = tmp_path / "bin" / "aplay"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\ncat > "{received}"\nexit {exit_code}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    player = AplayPlayer(owner)
    results: list[bool] = []
    player.play(b"RIFF-fake-wav", results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    assert results == [ok]
    assert received.read_bytes() == b"RIFF-fake-wav"
