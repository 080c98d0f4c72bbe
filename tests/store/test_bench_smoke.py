"""Every benchmark still runs, through the one runner (at toy size: the figures that are
about speed are not judged here, the ones about correctness are)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backends import sqlite_only
from tests.bench.__main__ import BENCHES
from tests.helpers import ROOT

# The benchmarks compare backends themselves (bench_postgres starts its own server): the
# SQLite pass runs them; the PostgreSQL pass would only run them again.
pytestmark = sqlite_only


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_runner_runs_every_benchmark_and_prints_one_table(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    out = tmp_path / "bench.md"
    result = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = out.read_text(encoding="utf-8")
    assert table in result.stdout
    assert table.startswith("Measured ")
    assert "| benchmark | figure | value | baseline | ratio | target | met |" in table
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| ")][1:]
    assert {row[0].removeprefix("| ") for row in rows} == set(BENCHES)
    by_name = {row[1]: row for row in rows}
    assert by_name["units oversold"][-1].startswith("yes")
    assert by_name["events lost (sent - shown)"][-1].startswith("yes")
    assert by_name["events lost (all clients)"][-1].startswith("yes")
    assert by_name["tracebacks in the store log"][-1].startswith("yes")
    # The fanout bench at its quick size: 20 clients in 2 processes for 2 s, none stuck.
    assert "latency p95, 20 clients" in by_name
    assert by_name["events via HTTP, 1 sender"][3].endswith("(sqlite3 executemany, same rows)")
    # Each benchmark's own detail is printed too.
    assert "brute-force haversine" in result.stdout
    assert "show a moment p95" in result.stdout


@pytest.mark.timeout(120)
def test_the_adapter_benchmark_runs_tiny(tmp_path: Path) -> None:
    out = tmp_path / "adapters.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench.bench_adapters",
            "--messages",
            "60",
            "--latency-messages",
            "10",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "second replay accepted 0" in result.stdout
    assert "events stored twice on a second replay" in out.read_text(encoding="utf-8")
