"""Run by ``test_voice_playback`` in a subprocess pointed at its own PulseAudio: the console's
real read-out (espeak-ng, QAudioSink on the saved output) says shout-outs; prints JSON.

A subprocess because Qt Multimedia connects to a sound server once per process, and the test
process has none on purpose (``tests/conftest.py``).

    python -m tests.ui.voice_through_pulse DEVICE_ID TEXT [SINK_TO_ADD]

With SINK_TO_ADD: after the first line, a null sink of that name is added to the server (the
earpiece switched on) and a second line is said once Qt lists it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer
from PySide6.QtMultimedia import QMediaDevices

from console.domain.shoutouts import Shoutout, ShoutoutBoard, ShoutoutKind
from console.ui.voice import VoiceReadout
from console.ui.voice_players import QtPlayer, device_key
from console.ui.voice_settings import VoiceSettings

DEADLINE_S = 15.0


def run_until(check: Callable[[], bool], tick: Callable[[], None] = lambda: None) -> bool:
    """Run Qt's loop, calling ``tick`` every 20 ms (as the window's clock offers the board
    every second), until ``check`` holds or the deadline passes."""
    end = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > end:
            return False
        tick()
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return True


def main(device_id: str, text: str, sink_to_add: str = "") -> int:
    app = QCoreApplication(sys.argv)
    owner = QObject()  # as the window is in the console
    voice = VoiceReadout(owner, VoiceSettings(device_id=device_id, device_name=device_id))
    missing_at_start = voice.device_missing
    board = ShoutoutBoard(active={})
    played_on: list[str | None] = []

    def say(sid: str) -> None:
        now = time.time()
        board.active[sid] = Shoutout(sid, ShoutoutKind.CHAIN_FORMED, sid, 1, text, now, now)
        before = voice.spoken
        run_until(lambda: voice.queue.in_flight is not None, lambda: voice.offer(board))
        player = voice.player
        played_on.append(device_key(player.device) if isinstance(player, QtPlayer) else None)
        run_until(lambda: voice.spoken > before or voice.queue.in_flight is None)

    say("first")
    if sink_to_add:
        subprocess.run(
            ["pactl", "load-module", "module-null-sink", f"sink_name={sink_to_add}"],
            check=True,
            capture_output=True,
        )
        listed = run_until(
            lambda: sink_to_add in {device_key(d) for d in QMediaDevices.audioOutputs()}
        )
        assert listed, "the new sink never showed in QMediaDevices"
        # The window's clock offers the board every second: between two lines the read-out
        # notices the saved output is back and reopens its player there.
        back = run_until(lambda: not voice.device_missing, lambda: voice.offer(board))
        assert back, "the read-out never noticed the saved output was back"
        say("second")
    print(
        json.dumps(
            {
                "outputs": [(device_key(d), d.description()) for d in QMediaDevices.audioOutputs()],
                "missing_at_start": missing_at_start,
                "played_on": played_on,
                "spoken": voice.spoken,
            }
        )
    )
    voice.stop()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
