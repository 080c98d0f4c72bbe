"""No CSV the product writes carries a live formula (CSV injection, OWASP): the rule, with
hypothesis over cells, and a check that every CSV writer in ``console/`` goes through it."""

from __future__ import annotations

import ast
import csv
import io
import math
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from console.domain.text import FORMULA_LEADS, spreadsheet_row, spreadsheet_safe
from console.sim.demo_members import to_csv

CONSOLE = Path(__file__).resolve().parents[2] / "console"
HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]

formula_text = st.builds(lambda lead, rest: lead + rest, st.sampled_from(FORMULA_LEADS), st.text())
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    formula_text,
    st.sampled_from(HOSTILE),
)


def written(row: list[object]) -> list[str]:
    """``row`` through ``spreadsheet_row``, csv.writer and back through csv.reader."""
    out = io.StringIO()
    csv.writer(out).writerow(spreadsheet_row(row))
    (back,) = csv.reader(io.StringIO(out.getvalue(), newline=""))
    return back


def is_plain_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@given(st.lists(cells, min_size=1, max_size=8))
def test_no_written_cell_starts_a_formula_unless_it_is_a_number(row: list[object]) -> None:
    back = written(row)
    assert len(back) == len(row)
    for original, cell in zip(row, back, strict=True):
        if cell.startswith(FORMULA_LEADS):
            # Only a number written as a number: -5, -0.5, -inf.
            assert isinstance(original, int | float), (original, cell)
            assert is_plain_number(cell)


@given(st.lists(cells, min_size=1, max_size=8))
def test_every_cell_reads_back_as_written_with_the_quote_on_formula_text(
    row: list[object],
) -> None:
    for original, cell in zip(row, written(row), strict=True):
        if isinstance(original, str):
            quoted = original.startswith(FORMULA_LEADS)
            # csv.reader reads a lone CR inside a quoted cell back as written.
            assert cell == ("'" + original if quoted else original)
        elif isinstance(original, float) and not math.isnan(original):
            assert float(cell) == original  # numbers stay numbers
        elif isinstance(original, bool | int):
            assert cell == str(original)


def test_the_hostile_names_of_the_issue_come_out_as_text() -> None:
    assert [spreadsheet_safe(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert spreadsheet_row([-5, -0.5, "王团长", "", None, "a=b"]) == [
        -5,
        -0.5,
        "王团长",
        "",
        None,
        "a=b",
    ]


def test_the_demo_files_round_trip() -> None:
    # Not a lone CR: the demo files end lines with "\n" only (they are compared byte for byte
    # with the shipped ones), and the csv module quotes only the line ending's characters.
    hostile = [v for v in HOSTILE if "\r" not in v]
    rows = [{"id": "m1", "name": v, "phone": "+86 138 0000 0000"} for v in hostile]
    text = to_csv(rows, ("id", "name", "phone"))
    back = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["name"] for r in back] == ["'" + v for v in hostile]
    assert {r["phone"] for r in back} == {"'+86 138 0000 0000"}


def _unsafe_writes(path: Path) -> list[int]:
    """Lines of ``.writerow(...)``/``.writerows(...)`` calls not made through the rule."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("writerow", "writerows")
            and "spreadsheet_" not in ast.unparse(node)
        ):
            lines.append(node.lineno)
    return lines


def test_every_csv_the_product_writes_goes_through_the_rule() -> None:
    writers = [p for p in CONSOLE.rglob("*.py") if "csv.writer" in p.read_text(encoding="utf-8")]
    writers += [p for p in CONSOLE.rglob("*.py") if "DictWriter" in p.read_text(encoding="utf-8")]
    assert len(set(writers)) >= 4  # new neighbours, rejected rows, the report, the demo files
    offenders = {str(p.relative_to(CONSOLE)): _unsafe_writes(p) for p in set(writers)}
    assert {p: lines for p, lines in offenders.items() if lines} == {}


def test_the_check_finds_an_unsafe_write(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("w.writerow([name])\nw.writerow(spreadsheet_row([name]))\n")
    assert _unsafe_writes(sample) == [1]
