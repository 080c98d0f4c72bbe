"""Voice to the host's earpiece (语音播报): shout-outs read aloud in Mandarin, offline.

The pure queue (``console.domain.readout``) picks what to say; this service synthesises it
with espeak-ng (voice ``cmn``) in a ``QProcess`` (WAV on stdout, the text on stdin so a nick
starting with "-" is never taken for an option), checks it was not acknowledged meanwhile,
plays it and marks it read. Never two at once: the queue keeps one in flight.

Playback: Qt Multimedia (``QSoundEffect`` on the device named ``DEVICE``, else the system
default, from ``QMediaDevices.audioOutputs()``) when the PySide6 install has it (the
PySide6-Addons wheel); else ``aplay`` (alsa-utils) when on PATH. With neither, no
espeak-ng, or a player that fails (no audio device, as in offscreen tests), the service
logs once and keeps working silently: shout-outs are marked read, nothing is spoken.
"""

from __future__ import annotations

import importlib
import logging
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QProcess, QUrl, Signal

from console.domain.readout import DEFAULT_KINDS, ReadoutQueue
from console.domain.shoutouts import ShoutoutBoard, ShoutoutKind

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
VOICE = "cmn"
RATE = 165  # words a minute: espeak's 175 is a little quick for Mandarin in an earpiece
READ_KINDS: frozenset[ShoutoutKind] = DEFAULT_KINDS
DEVICE = ""  # an audio output's description (QMediaDevices); "" = the system default


def espeak_args(rate: int = RATE) -> list[str]:
    return ["-v", VOICE, "-s", str(rate), "--stdout", "--stdin"]


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


def synthesize(text: str, rate: int = RATE, timeout_s: float = 20.0) -> bytes:
    """The WAV espeak-ng makes of ``text`` (blocking; for tests and tools)."""
    done = subprocess.run(
        [ESPEAK, *espeak_args(rate)],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=timeout_s,
    )
    return fix_wav_header(done.stdout)


class Player(Protocol):
    def play(self, wav: bytes, done: Callable[[bool], None]) -> None: ...

    def stop(self) -> None: ...


class AplayPlayer:
    """``aplay -q -``: the WAV on stdin."""

    def __init__(self, parent: QObject) -> None:
        self._parent = parent
        self._process: QProcess | None = None

    def play(self, wav: bytes, done: Callable[[bool], None]) -> None:
        process = QProcess(self._parent)
        self._process = process

        def finished(code: int, _status: QProcess.ExitStatus) -> None:
            if self._process is process:
                self._process = None
            process.deleteLater()
            done(code == 0)

        process.finished.connect(finished)
        process.errorOccurred.connect(
            lambda error: (
                finished(1, QProcess.ExitStatus.CrashExit)
                if error == QProcess.ProcessError.FailedToStart
                else None
            )
        )
        process.start("aplay", ["-q", "-"])
        process.write(wav)
        process.closeWriteChannel()

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()


class QtPlayer:
    """Qt Multimedia's ``QSoundEffect`` on a chosen output (a WAV file is what it plays)."""

    def __init__(self, multimedia: Any, parent: QObject, device_name: str) -> None:
        devices = multimedia.QMediaDevices.audioOutputs()
        chosen = next((d for d in devices if d.description() == device_name), None)
        self.device = chosen or multimedia.QMediaDevices.defaultAudioOutput()
        self._effect = multimedia.QSoundEffect(parent)
        self._effect.setAudioDevice(self.device)
        self._file = Path(tempfile.gettempdir()) / f"console-voice-{id(self)}.wav"
        self._done: Callable[[bool], None] | None = None
        self._effect.playingChanged.connect(self._on_playing_changed)

    def play(self, wav: bytes, done: Callable[[bool], None]) -> None:
        self._file.write_bytes(wav)
        self._done = done
        self._effect.setSource(QUrl.fromLocalFile(str(self._file)))
        self._effect.play()

    def _on_playing_changed(self) -> None:
        if not self._effect.isPlaying() and self._done is not None:
            done, self._done = self._done, None
            done(True)

    def stop(self) -> None:
        self._effect.stop()


def default_player(parent: QObject, device_name: str = DEVICE) -> Player | None:
    """Qt Multimedia with an output device, else aplay, else None (silent)."""
    try:
        multimedia = importlib.import_module("PySide6.QtMultimedia")
    except ImportError:
        multimedia = None
    if multimedia is not None and multimedia.QMediaDevices.audioOutputs():
        return QtPlayer(multimedia, parent, device_name)
    if shutil.which("aplay"):
        return AplayPlayer(parent)
    return None


class VoiceReadout(QObject):
    """Signals:
    muted_changed(bool): M was pressed.
    """

    muted_changed = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        kinds: frozenset[ShoutoutKind] = READ_KINDS,
        rate: int = RATE,
        player: Player | str | None = "auto",  # "auto": default_player()
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.queue = ReadoutQueue(kinds=kinds)
        self.rate = rate
        self.clock = clock
        self.muted = False
        self.spoken = 0
        self._board: ShoutoutBoard | None = None
        self._synth: QProcess | None = None
        self._player: Player | None = default_player(self) if isinstance(player, str) else player
        self._espeak = shutil.which(ESPEAK)
        self._warned = False
        if self._espeak is None:
            self._silence(f"没有找到 {ESPEAK}，语音播报不可用")
        elif self._player is None:
            self._silence("没有可用的音频输出，语音播报静默运行")

    @property
    def silent(self) -> bool:
        return self._espeak is None or self._player is None

    def set_muted(self, muted: bool) -> None:
        if muted == self.muted:
            return
        self.muted = muted
        if muted:
            if self._player is not None:
                self._player.stop()
            if self._synth is not None:
                self._synth.kill()
        self.muted_changed.emit(muted)

    def offer(self, board: ShoutoutBoard) -> None:
        """The board changed (or a second passed): say the next one if nothing is being said.
        Muted or silent: what is waiting counts as read, so unmuting does not replay it."""
        self._board = board
        now = self.clock()
        waiting = list(board.active.values())
        self.queue.forget(s.id for s in waiting)
        if self.muted or self.silent:
            if self.queue.in_flight is None:
                self.queue.read.update(s.id for s in waiting)
            return
        item = self.queue.next(waiting, now)
        if item is None:
            return
        process = QProcess(self)
        self._synth = process

        def synthesised(code: int, _status: QProcess.ExitStatus) -> None:
            wav = fix_wav_header(bytes(process.readAllStandardOutput().data()))
            if self._synth is process:
                self._synth = None
            process.deleteLater()
            self._on_synthesised(item.id, wav if code == 0 else b"")

        process.finished.connect(synthesised)
        process.start(self._espeak or ESPEAK, espeak_args(self.rate))
        process.write(item.text.encode())
        process.closeWriteChannel()

    def _on_synthesised(self, shoutout_id: str, wav: bytes) -> None:
        board = self._board
        if not wav or self.muted or self._player is None or board is None:
            self.queue.finished(shoutout_id)
            return
        if not self.queue.still_waiting(board.active):
            return  # acknowledged while it was being synthesised
        self._player.play(wav, lambda ok: self._on_played(shoutout_id, ok))

    def _on_played(self, shoutout_id: str, ok: bool) -> None:
        self.queue.finished(shoutout_id)
        if ok:
            self.spoken += 1
        elif not self.muted:
            self._player = None
            self._silence("音频设备无法播放，语音播报静默运行")

    def _silence(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("voice: %s", why)

    def stop(self) -> None:
        """The window closes: nothing more is said."""
        self.set_muted(True)
