"""The benchmarks still run (at toy size; their figures are not judged here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import bench_ingest
from tests.helpers import ROOT


@pytest.mark.slow
def test_ingest_benchmark_runs_and_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    figures = bench_ingest.main(["--batches", "4", "--latency-seconds", "0.5"])
    assert figures["raw_rate"] > 0
    assert figures["http_rate"] > 0
    assert figures["latency_samples"] == 500
    out = capsys.readouterr().out
    assert "ingest via HTTP, 1 sender" in out
    assert "ingest -> SSE latency p95" in out


@pytest.mark.slow
def test_segmentation_benchmark_runs_and_prints_its_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.bench import bench_segmentation

    figures = bench_segmentation.main(["--members", "3000", "--orders", "30000"])
    assert figures["first_run_s"] > 0
    assert figures["weekly_run_s"] > 0
    assert figures["scoring_ratio"] > 0
    out = capsys.readouterr().out
    assert "full run, weekly" in out
    assert "agreement with pandas" in out


@pytest.mark.slow
def test_commerce_benchmark_runs_and_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.bench import bench_commerce

    figures = bench_commerce.main(
        ["--members", "200", "--buyers", "40", "--senders", "4", "--orders", "2000"]
    )
    assert figures["oversold"] == 0
    assert figures["hot_sold"] == figures["units"] == 10
    assert figures["disagree"] == 0
    assert figures["domain_p99_ms"] > 0
    out = capsys.readouterr().out
    assert "offer matching, over HTTP" in out
    assert "brute-force haversine" in out


def run_bench(module: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A Qt benchmark in its own process: it runs its own application and event loop."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-m", f"tests.bench.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_console_benchmark_runs_and_prints_its_table(tmp_path: Path) -> None:
    result = run_bench("bench_console", tmp_path, "--rate", "200", "--seconds", "3")
    assert "event-to-screen latency p95" in result.stdout
    assert "longest UI stall" in result.stdout
    sent, shown = (
        line.split()[-2 if "rate" in line else -3]
        for line in result.stdout.splitlines()
        if line.startswith(("events sent", "events shown"))
    )
    assert sent == shown


@pytest.mark.slow
def test_replay_benchmark_runs_and_prints_its_table(tmp_path: Path) -> None:
    result = run_bench("bench_replay", tmp_path, "--events", "5000", "--jumps", "5")
    assert "replay of one session with 5,000 events" in result.stdout
    assert "show a moment p95" in result.stdout
