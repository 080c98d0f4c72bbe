"""One shape for every benchmark's figures, so ``python -m tests.bench`` can print one table.

Each benchmark's ``summary(figures)`` turns its measurements into ``Figure`` rows; a row may
carry a baseline measured in the same run (the ratio is then value / baseline) and a target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    bench: str
    name: str
    value: float
    unit: str
    baseline: float | None = None  # the same quantity, measured the plain way in the same run
    baseline_name: str = ""
    target: str = ""  # e.g. "< 100 ms", ">= 0.5"
    met: bool | None = None  # None: no target

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline or math.isnan(self.baseline):
            return None
        return self.value / self.baseline

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Figure:
        return cls(**{k: v for k, v in value.items() if k != "ratio"})


def below(value: float, limit: float) -> bool:
    return value < limit


def _number(value: float, unit: str) -> str:
    if unit in ("ev/s", "req/s", "/s") or abs(value) >= 1000:
        return f"{value:,.0f} {unit}".strip()
    if abs(value) >= 100:
        return f"{value:.0f} {unit}".strip()
    if abs(value) >= 1:
        return f"{value:.2f} {unit}".strip()
    return f"{value:.3g} {unit}".strip()


def render(figures: Sequence[Figure]) -> str:
    """A Markdown table: figure, value, baseline, ratio, target, met."""
    lines = [
        "| benchmark | figure | value | baseline | ratio | target | met |",
        "|---|---|---:|---:|---:|---|:-:|",
    ]
    for f in figures:
        baseline = (
            f"{_number(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None else ""
        )
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else ""
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        lines.append(
            f"| {f.bench} | {f.name} | {_number(f.value, f.unit)} | {baseline} | {ratio} "
            f"| {f.target} | {met} |"
        )
    return "\n".join(lines)


def add_json_option(parser: Any) -> None:
    parser.add_argument("--json", type=str, help="also write the summary rows here (JSON)")


def write_json(path: str | None, figures: Sequence[Figure]) -> None:
    if path:
        import orjson

        with open(path, "wb") as out:
            out.write(orjson.dumps([f.to_json() for f in figures]))
