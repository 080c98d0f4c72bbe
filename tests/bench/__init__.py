"""Benchmarks: run ``python -m tests.bench.bench_ingest``. Not part of the default test run."""
