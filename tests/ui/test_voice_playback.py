"""The read-out is really heard on the output the host chose, and only there: a PulseAudio of
the test's own with two null sinks (the stream's and the earpiece), each monitor recorded."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from console.ui.voice import synthesize
from console.ui.voice_settings import RATE, VOICE
from tests.helpers import ROOT, wait_for

pytestmark = [
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("pulseaudio", "pactl", "parecord", "espeak-ng")),
        reason="needs pulseaudio, pulseaudio-utils and espeak-ng (./dev setup installs them)",
    ),
    pytest.mark.slow,  # real time: each line takes as long to play as to say
]

LINE = "成团啦，谢谢大家"
SHORT_LINE = "成团啦"
RECORD_RATE = 22050
WINDOW_S = 0.02
SINKS = ("stream", "earpiece")
LOUD = 500  # RMS of a 20 ms window, 16-bit: espeak's speech is thousands, a null sink 0


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A PulseAudio daemon of this test's own with one sink, "stream" (the default, as the
    streaming program's); yields the environment that reaches it."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "XDG_RUNTIME_DIR": str(runtime),
        "HOME": str(tmp_path),
        "PULSE_SERVER": f"unix:{runtime / 'pulse' / 'native'}",
    }
    env.pop("PIPEWIRE_REMOTE", None)
    daemon = subprocess.Popen(
        [
            "pulseaudio",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "-n",
            "-L",
            "module-null-sink sink_name=stream sink_properties=device.description=Stream",
            "-L",
            "module-native-protocol-unix",
            "--log-target=stderr",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ready() -> bool:
        info = subprocess.run(["pactl", "info"], env=env, capture_output=True, check=False)
        return info.returncode == 0

    try:
        wait_for(ready, 10, "pulseaudio to answer")
        subprocess.run(["pactl", "set-default-sink", "stream"], env=env, check=True)
        yield env
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def add_sink(env: dict[str, str], name: str) -> None:
    """A null sink: an output device as Qt lists it, whose monitor can be recorded."""
    subprocess.run(
        [
            "pactl",
            "load-module",
            "module-null-sink",
            f"sink_name={name}",
            f"sink_properties=device.description={name.capitalize()}",
        ],
        env=env,
        check=True,
        capture_output=True,
    )


def say(env: dict[str, str], *args: str) -> dict[str, Any]:
    """The read-out in a process of its own, on this PulseAudio (``voice_through_pulse``)."""
    said = subprocess.run(
        [sys.executable, "-m", "tests.ui.voice_through_pulse", *args],
        env={**env, "QT_QPA_PLATFORM": "offscreen"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert said.returncode == 0, said.stderr
    report: dict[str, Any] = json.loads(said.stdout.splitlines()[-1])
    return report


def record(env: dict[str, str], sink: str, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "parecord",
            f"--device={sink}.monitor",
            "--file-format=wav",
            f"--rate={RECORD_RATE}",
            "--channels=1",
            "--format=s16le",
            "--latency-msec=20",
            str(path),
        ],
        env=env,
    )


def loud_span(wav: bytes) -> float:
    """Seconds from the first loud 20 ms window to the last (0 when all is quiet)."""
    with wave.open(io.BytesIO(wav)) as sound:
        rate = sound.getframerate()
        samples = np.frombuffer(sound.readframes(sound.getnframes()), dtype="<i2")
    size = int(rate * WINDOW_S)
    windows = samples[: len(samples) // size * size].reshape(-1, size).astype(np.float64)
    loud = np.flatnonzero(np.sqrt((windows**2).mean(axis=1)) > LOUD)
    return 0.0 if len(loud) == 0 else (loud[-1] - loud[0] + 1) * WINDOW_S


@pytest.mark.parametrize(
    ("saved", "heard_on", "silent_on"),
    [
        ("earpiece", "earpiece", "stream"),
        # A saved earpiece switched off: the system default (here the stream's) plays it.
        ("bluez_sink.gone", "stream", "earpiece"),
    ],
)
def test_a_shoutout_is_heard_on_the_chosen_output_for_as_long_as_it_is_and_nowhere_else(
    pulse: dict[str, str], tmp_path: Path, saved: str, heard_on: str, silent_on: str
) -> None:
    add_sink(pulse, "earpiece")
    expected = loud_span(synthesize(LINE, RATE, VOICE))
    assert expected > 0.5
    recorders = [record(pulse, sink, tmp_path / f"{sink}.wav") for sink in SINKS]
    try:
        report = say(pulse, saved, LINE)
    finally:
        for recorder in recorders:
            recorder.terminate()
            recorder.wait(timeout=10)
    outputs = sorted(report["outputs"])
    assert outputs == [["earpiece", "Earpiece"], ["stream", "Stream"]], report
    assert report["played_on"] == [heard_on], report
    assert report["missing_at_start"] == (saved != heard_on), report
    assert report["spoken"] == 1, report
    heard = loud_span((tmp_path / f"{heard_on}.wav").read_bytes())
    assert abs(heard - expected) < 0.25 * expected, (heard, expected)
    assert loud_span((tmp_path / f"{silent_on}.wav").read_bytes()) == 0.0


def test_the_saved_earpiece_is_used_again_as_soon_as_it_is_back(
    pulse: dict[str, str], tmp_path: Path
) -> None:
    expected = loud_span(synthesize(SHORT_LINE, RATE, VOICE))
    recorder = record(pulse, "stream", tmp_path / "stream.wav")
    try:
        report = say(pulse, "earpiece", SHORT_LINE, "earpiece")
    finally:
        recorder.terminate()
        recorder.wait(timeout=10)
    assert report["missing_at_start"] is True, report
    assert report["played_on"] == ["stream", "earpiece"], report
    assert report["spoken"] == 2, report
    # Only the first line went to the stream's output.
    heard = loud_span((tmp_path / "stream.wav").read_bytes())
    assert abs(heard - expected) < 0.25 * expected, (heard, expected)
