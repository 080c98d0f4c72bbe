"""Voice to the host's earpiece (语音播报): shout-outs read aloud in Mandarin, offline.

Engine: espeak-ng (voice ``cmn``, Mandarin), run in a ``QProcess`` with the WAV on stdout and
the text on stdin (so a nick starting with "-" is never taken for an option). Why espeak-ng:
it speaks Mandarin offline from one Debian package (``espeak-ng``), with a choice of voices
and rates, and runs as its own process so the console never waits on it. Qt's own
TextToSpeech was the other candidate: on Linux its engines are speech-dispatcher (a daemon
that ends up calling espeak-ng anyway) and flite, which has no Mandarin voice.

The pure queue (``console.domain.readout``) picks what to say; this service synthesises it,
checks it was not acknowledged meanwhile, plays it and marks it read. Never two at once: the
queue keeps one in flight until the player reports back.

Playback (``console.ui.voice_players``): Qt Multimedia (the PySide6-Addons wheel) through a
``QAudioSink`` on the output the host chose (``VoiceSettings``, from
``QMediaDevices.audioOutputs()``: the earpiece, not the stream's device). A saved output that
is gone falls back to the system default, with a warning (``device_missing``); when the outputs
change (the earpiece back on, the one playing unplugged) the player is reopened between two
lines, and one that fails is reopened once before going silent. With no Qt output at all (no
PulseAudio/PipeWire), ``aplay`` (alsa-utils) when on PATH. With no player, no espeak-ng, or a
player that fails twice, the service logs once and keeps working silently: shout-outs are
marked read, nothing is spoken. Settings change live (``apply``): kinds, voice and rate from
the next line; another device reopens the player. 试听 (``preview``) speaks a sample line with
settings not yet confirmed, beside the queue.
"""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess
import time
from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import QObject, QProcess, Signal
from PySide6.QtMultimedia import QMediaDevices

from console.domain.readout import ReadoutQueue
from console.domain.shoutouts import ShoutoutBoard
from console.ui.voice_players import (
    Player,
    PlayerFactory,
    QtPlayer,
    default_player,
    device_key,
    find_output,
)
from console.ui.voice_settings import ESPEAK, RATE, VOICE, VoiceSettings

log = logging.getLogger(__name__)

SAMPLE_LINE = "恭喜 林*薇 抽中 定制冰杯，还差两单成团"  # 试听: what a shout-out sounds like


def espeak_args(rate: int = RATE, voice: str = VOICE) -> list[str]:
    return ["-v", voice, "-s", str(rate), "--stdout", "--stdin"]


def fix_wav_header(data: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot seek back: its RIFF and data sizes say "huge".
    Set them from the bytes actually there."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    out = bytearray(data)
    struct.pack_into("<I", out, 4, len(out) - 8)
    pos = 12
    while pos + 8 <= len(out):
        chunk, size = out[pos : pos + 4], struct.unpack_from("<I", out, pos + 4)[0]
        if chunk == b"data":
            struct.pack_into("<I", out, pos + 4, len(out) - pos - 8)
            break
        pos += 8 + size
    return bytes(out)


def synthesize(text: str, rate: int = RATE, voice: str = VOICE, timeout_s: float = 20.0) -> bytes:
    """The WAV espeak-ng makes of ``text`` (blocking; for tests and tools)."""
    done = subprocess.run(
        [ESPEAK, *espeak_args(rate, voice)],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=timeout_s,
    )
    return fix_wav_header(done.stdout)


class VoiceReadout(QObject):
    """The read-out service; give it a parent (the window), which owns its processes and
    players (a parentless one dropped by Python could delete one Qt is deleting).

    Signals:
    muted_changed(bool): M was pressed.
    """

    muted_changed = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        settings: VoiceSettings | None = None,
        player: Player | Literal["auto"] | None = "auto",  # "auto": make_player's
        clock: Callable[[], float] = time.time,
        make_player: PlayerFactory = default_player,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or VoiceSettings()
        self.queue = ReadoutQueue(kinds=self.settings.kinds)
        self.clock = clock
        self.muted = False
        self.spoken = 0
        self.device_missing = False  # the saved output is gone: the system default plays
        self._board: ShoutoutBoard | None = None
        self._synth: QProcess | None = None
        self._synthesising: set[QProcess] = set()  # the queue's and 试听's
        self._make_player = make_player
        self._auto_player = player == "auto"
        self._player: Player | None = None
        self._preview_player: Player | None = None
        self._espeak = shutil.which(ESPEAK)
        self._warned = False
        self._retried = False  # a failed player was replaced once since the last line said
        self._reopen = False  # the outputs changed: reopen the player between two lines
        if player == "auto":
            self._player = self._new_player(self.settings)
            self._outputs = QMediaDevices(self)
            self._outputs.audioOutputsChanged.connect(self._on_outputs_changed)
        else:
            self._player = player
        if self._espeak is None:
            self._silence(f"没有找到 {ESPEAK}，语音播报不可用")
        elif self._player is None:
            self._silence("没有可用的音频输出，语音播报静默运行")

    @property
    def player(self) -> Player | None:
        """What plays the lines now (None: silent)."""
        return self._player

    @property
    def silent(self) -> bool:
        return self._espeak is None or self._player is None

    def _new_player(self, settings: VoiceSettings) -> Player | None:
        _device, self.device_missing = find_output(settings.device_id, settings.device_name)
        if self.device_missing:
            log.warning("voice: 保存的输出设备「%s」不在了，改用系统默认", settings.device_name)
        return self._make_player(self, settings)

    def apply(self, settings: VoiceSettings) -> None:
        """The host changed the settings: kinds, voice and rate from the next line on; another
        output device recreates the player (what is being said stops)."""
        old, self.settings = self.settings, settings
        self.queue.kinds = settings.kinds
        device_changed = (settings.device_id, settings.device_name) != (
            old.device_id,
            old.device_name,
        )
        if self._auto_player and device_changed:
            self._reopen_player()

    def _reopen_player(self) -> None:
        previous, self._player = self._player, None
        if previous is not None:
            previous.stop()
        self._player = self._new_player(self.settings)
        self._warned = False
        self._reopen = False

    def _on_outputs_changed(self) -> None:
        """An output came or went: the saved one is back, the one playing is gone, the
        system default moved (when that is the choice), or there is one at last."""
        outputs = {device_key(d) for d in QMediaDevices.audioOutputs()}
        _device, missing = find_output(self.settings.device_id, self.settings.device_name)
        player = self._player
        playing = device_key(player.device) if isinstance(player, QtPlayer) else None
        by_default = not (self.settings.device_id or self.settings.device_name)
        default = device_key(QMediaDevices.defaultAudioOutput())
        self._reopen = (
            (self.device_missing and not missing)
            or (playing is not None and playing not in outputs)
            or (by_default and playing is not None and playing != default)
            or (player is None and bool(outputs))
        )

    def set_muted(self, muted: bool) -> None:
        if muted == self.muted:
            return
        self.muted = muted
        if muted:
            for player in (self._player, self._preview_player):
                if player is not None:
                    player.stop()
            for process in list(self._synthesising):
                process.kill()
        self.muted_changed.emit(muted)

    def offer(self, board: ShoutoutBoard) -> None:
        """The board changed (or a second passed): say the next one if nothing is being said.
        Muted or silent: what is waiting counts as read, so unmuting does not replay it."""
        self._board = board
        now = self.clock()
        waiting = list(board.active.values())
        self.queue.forget(s.id for s in waiting)
        if self._reopen and self.queue.in_flight is None:
            self._reopen_player()
        if self.muted or self.silent:
            if self.queue.in_flight is None:
                self.queue.read.update(s.id for s in waiting)
            return
        item = self.queue.next(waiting, now)
        if item is None:
            return
        self._synth = self._synthesise(
            item.text, self.settings, lambda wav: self._on_synthesised(item.id, wav)
        )

    def preview(self, settings: VoiceSettings, text: str = SAMPLE_LINE) -> None:
        """试听: ``text`` in these settings' voice and rate, on their device, now."""
        if self._espeak is None:
            self._silence(f"没有找到 {ESPEAK}，语音播报不可用")
            return
        if self._preview_player is not None:
            self._preview_player.stop()
        player = self._make_player(self, settings)
        self._preview_player = player

        def synthesised(wav: bytes) -> None:
            if player is None or not wav or self._preview_player is not player:
                return
            player.play(wav, lambda _ok: None)

        self._synthesise(text, settings, synthesised)

    def _synthesise(
        self, text: str, settings: VoiceSettings, then: Callable[[bytes], None]
    ) -> QProcess:
        process = QProcess(self)
        self._synthesising.add(process)

        def finished(code: int, _status: QProcess.ExitStatus) -> None:
            wav = fix_wav_header(bytes(process.readAllStandardOutput().data()))
            self._synthesising.discard(process)
            if self._synth is process:
                self._synth = None
            process.deleteLater()
            then(wav if code == 0 else b"")

        process.finished.connect(finished)
        process.start(self._espeak or ESPEAK, espeak_args(settings.rate, settings.espeak_voice))
        process.write(text.encode())
        process.closeWriteChannel()
        return process

    def _on_synthesised(self, shoutout_id: str, wav: bytes) -> None:
        board = self._board
        player = self._player
        if not wav or self.muted or player is None or board is None:
            self.queue.finished(shoutout_id)
            return
        if not self.queue.still_waiting(board.active):
            return  # acknowledged while it was being synthesised
        player.play(wav, lambda ok: self._on_played(shoutout_id, ok, player))

    def _on_played(self, shoutout_id: str, ok: bool, player: Player) -> None:
        self.queue.finished(shoutout_id)
        if ok:
            self.spoken += 1
            self._retried = False
        elif not self.muted and player is self._player:
            self._player = None
            if self._auto_player and not self._retried:
                # The output may have gone (an earpiece switched off): once more, on what
                # is there now (the system default if it is gone), before going silent.
                self._retried = True
                log.warning("voice: 音频设备无法播放，重新打开输出设备")
                self._player = self._new_player(self.settings)
            if self._player is None:
                self._silence("音频设备无法播放，语音播报静默运行")

    def _silence(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("voice: %s", why)

    def stop(self) -> None:
        """The window closes: nothing more is said, no espeak-ng left running."""
        self.set_muted(True)
        for process in list(self._synthesising):
            process.finished.disconnect()
            process.kill()
            process.waitForFinished(1000)
        self._synthesising.clear()
        self._synth = None
