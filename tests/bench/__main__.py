"""Every benchmark of the project, one table: ``python -m tests.bench``.

    QT_QPA_PLATFORM=offscreen python -m tests.bench [--quick] [--only NAME ...] [--out FILE]

Each benchmark runs in a process of its own (clean memory figures, no shared Qt state) and
prints its own detail; this runner then prints one Markdown table of every figure, with its
baseline from the same run, the ratio, the target and whether it was met, headed by the
machine it ran on. ``--quick`` runs every benchmark at a small size (a smoke run: the
figures are not comparable with the targets). The exit status is 1 if a benchmark failed.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from tests.bench.table import Figure, render

# name: (full-size arguments, quick arguments)
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "ingest": ([], ["--batches", "4", "--latency-seconds", "0.5"]),
    "commerce": (
        [],
        [
            "--members",
            "200",
            "--buyers",
            "40",
            "--senders",
            "4",
            "--orders",
            "2000",
            "--orders-in-process",
            "300",
        ],
    ),
    "console": ([], ["--rate", "200", "--seconds", "3"]),
    "replay": ([], ["--events", "5000", "--jumps", "5"]),
    "segmentation": ([], ["--members", "3000", "--orders", "30000"]),
    "fanout": ([], ["--clients", "20", "--seconds", "2", "--stuck", "0"]),
    "adapters": ([], ["--messages", "400", "--latency-messages", "40"]),
    "postgres": (
        [],
        [
            "--batches",
            "4",
            "--stats-events",
            "10000",
            "--members",
            "200",
            "--buyers",
            "40",
            "--senders",
            "4",
            "--clients",
            "20",
            "--rate",
            "200",
            "--seconds",
            "2",
            "--rooms",
            "20",
            "--room-seconds",
            "3",
        ],
    ),
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GiB"
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def run_one(name: str, args: list[str], out: Path) -> tuple[list[Figure], float, int]:
    started = time.perf_counter()
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    result = subprocess.run(
        [sys.executable, "-m", f"tests.bench.bench_{name}", *args, "--json", str(out)],
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0 or not out.exists():
        return [], seconds, result.returncode or 1
    return [Figure.from_json(f) for f in orjson.loads(out.read_bytes())], seconds, 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run only these")
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) here")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    failed: list[str] = []
    timings: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or BENCHES:
            full, quick = BENCHES[name]
            print(f"\n## {name}", flush=True)
            rows, seconds, status = run_one(name, quick if args.quick else full, Path(tmp) / name)
            figures.extend(rows)
            timings.append(f"{name} {seconds:.0f} s")
            if status:
                failed.append(name)
    when = time.strftime("%Y-%m-%d")
    heading = (
        f"Measured {when} on {machine()}"
        + (" (quick sizes: not comparable with the targets)" if args.quick else "")
        + f"; took {', '.join(timings)}."
    )
    table = f"{heading}\n\n{render(figures)}\n"
    print("\n" + table)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    if args.out:
        args.out.write_text(table, encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
