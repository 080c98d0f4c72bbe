"""Where the read-out is heard (语音播报的输出): the players, and the output device by id.

``QtPlayer``: a Qt Multimedia ``QAudioSink`` on one ``QAudioDevice`` (from
``QMediaDevices.audioOutputs()``: the earpiece's, not the stream's), fed a WAV's PCM from
memory. ``AplayPlayer``: ``aplay`` (alsa-utils), for a machine where Qt lists no output (no
PulseAudio or PipeWire). ``default_player`` picks between them for the saved settings.
"""

from __future__ import annotations

import io
import shutil
import wave
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QProcess
from PySide6.QtMultimedia import QAudioDevice, QAudioFormat, QAudioSink, QMediaDevices, QtAudio

from console.ui.voice_settings import VoiceSettings

SAMPLE_FORMATS = {1: QAudioFormat.SampleFormat.UInt8, 2: QAudioFormat.SampleFormat.Int16}


def pcm_of(wav: bytes) -> tuple[QAudioFormat, bytes] | None:
    """The sample format and the samples of a PCM WAV (None if it is not one)."""
    try:
        with wave.open(io.BytesIO(wav)) as sound:
            width = sound.getsampwidth()
            audio = QAudioFormat()
            audio.setSampleRate(sound.getframerate())
            audio.setChannelCount(sound.getnchannels())
            pcm = sound.readframes(sound.getnframes())
    except (wave.Error, EOFError):
        return None
    if width not in SAMPLE_FORMATS:
        return None
    audio.setSampleFormat(SAMPLE_FORMATS[width])
    return audio, pcm


def device_key(device: QAudioDevice) -> str:
    """A device's id as saved in the settings (PulseAudio's sink name, for one)."""
    return bytes(device.id().data()).decode("utf-8", "replace")


def find_output(device_id: str, device_name: str) -> tuple[QAudioDevice | None, bool]:
    """The saved output, by id, else by its description; None means the system default.
    The flag: one was saved but is not there now."""
    if not device_id and not device_name:
        return None, False
    outputs = QMediaDevices.audioOutputs()
    by_id = [d for d in outputs if device_id and device_key(d) == device_id]
    by_name = [d for d in outputs if device_name and d.description() == device_name]
    found = [*by_id, *by_name]
    return (found[0], False) if found else (None, True)


class Player(Protocol):
    def play(self, wav: bytes, done: Callable[[bool], None]) -> None: ...

    def stop(self) -> None: ...


PlayerFactory = Callable[[QObject, VoiceSettings], "Player | None"]


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
    """A ``QAudioSink`` on one output, reading the WAV's samples from memory. Done when the
    sink has played them all (idle); failed when it stops with an error or cannot start."""

    def __init__(self, parent: QObject, device: QAudioDevice) -> None:
        self.device = device
        self._parent = parent
        self._sink: QAudioSink | None = None
        self._buffer: QBuffer | None = None
        self._done: Callable[[bool], None] | None = None

    def play(self, wav: bytes, done: Callable[[bool], None]) -> None:
        self._done = None  # one still playing was given up (the queue moved on): no report
        self.stop()
        decoded = pcm_of(wav)
        if decoded is None:
            done(False)
            return
        audio, pcm = decoded
        self._done = done
        buffer = QBuffer(self._parent)
        buffer.setData(QByteArray(pcm))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        sink = QAudioSink(self.device, audio, self._parent)
        self._sink, self._buffer = sink, buffer
        # No argument taken: PySide6 6.11 cannot convert the signal's QAudio::State for a
        # Python slot unless the deprecated QAudio namespace was imported; read state().
        sink.stateChanged.connect(lambda: self._on_sink_state_changed(sink))
        sink.start(buffer)
        if sink.error() not in (QtAudio.Error.NoError, QtAudio.Error.UnderrunError):
            self._finish(False)

    def _on_sink_state_changed(self, sink: QAudioSink) -> None:
        if sink is not self._sink:
            return
        state = sink.state()
        if state == QtAudio.State.IdleState:  # every sample played
            self._finish(True)
        elif state == QtAudio.State.StoppedState and sink.error() != QtAudio.Error.NoError:
            self._finish(False)

    def _finish(self, ok: bool) -> None:
        sink, buffer, done = self._sink, self._buffer, self._done
        self._sink = self._buffer = self._done = None
        if sink is not None:
            sink.stop()
            sink.deleteLater()
        if buffer is not None:
            buffer.close()
            buffer.deleteLater()
        if done is not None:
            done(ok)

    def stop(self) -> None:
        if self._sink is not None:
            self._finish(False)


def default_player(parent: QObject, settings: VoiceSettings) -> Player | None:
    """The chosen Qt output (else the system default), else aplay, else None (silent)."""
    if QMediaDevices.audioOutputs():
        device, _missing = find_output(settings.device_id, settings.device_name)
        return QtPlayer(parent, device or QMediaDevices.defaultAudioOutput())
    if shutil.which("aplay"):
        return AplayPlayer(parent)
    return None
