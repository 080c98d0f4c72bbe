"""Run by ``test_voice_playback`` in a subprocess pointed at its own PulseAudio: the console's
real read-out (espeak-ng, QAudioSink on the saved output) says one shout-out; prints JSON.

A subprocess because Qt Multimedia connects to a sound server once per process, and the test
process has none on purpose (``tests/conftest.py``).

    python -m tests.ui.voice_through_pulse DEVICE_ID TEXT
"""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtMultimedia import QMediaDevices

from console.domain.shoutouts import Shoutout, ShoutoutBoard, ShoutoutKind
from console.ui.voice import QtPlayer, VoiceReadout, device_key
from console.ui.voice_settings import VoiceSettings

DEADLINE_MS = 15_000


def main(device_id: str, text: str) -> int:
    app = QCoreApplication(sys.argv)
    outputs = [(device_key(d), d.description()) for d in QMediaDevices.audioOutputs()]
    voice = VoiceReadout(settings=VoiceSettings(device_id=device_id, device_name=device_id))
    now = time.time()
    board = ShoutoutBoard(
        active={"s1": Shoutout("s1", ShoutoutKind.CHAIN_FORMED, "c1", 1, text, now, now)}
    )
    started = time.monotonic()
    voice.offer(board)
    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(lambda: app.quit() if voice.queue.in_flight is None else None)
    poll.start()
    QTimer.singleShot(DEADLINE_MS, app.quit)
    app.exec()
    player = voice.player
    print(
        json.dumps(
            {
                "outputs": outputs,
                "device": (device_key(player.device) if isinstance(player, QtPlayer) else None),
                "missing": voice.device_missing,
                "spoken": voice.spoken,
                "seconds": time.monotonic() - started,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
