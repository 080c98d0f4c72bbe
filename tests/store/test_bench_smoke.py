"""The benchmarks still run (at toy size; their figures are not judged here)."""

from __future__ import annotations

import pytest

from tests.bench import bench_ingest


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
