"""The importers fuzzed (hypothesis): hostile files never crash them or half-apply.

Files are built from each kind's own columns, with values drawn from what real exports and
hostile uploads contain: plausible values, empty cells, huge numbers, control characters,
right-to-left marks, emoji, very long strings, broken quoting and stray bytes. Whatever the
file: the importer either applies it, or refuses it naming file, line and column, or raises
``ImportError_`` with a sentence; refused files change nothing in the store file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from console.store.imports.mapping import FIELDS, ImportOptions
from console.store.imports.runner import ImportError_, import_file
from console.store.schema import connect, open_store
from tests.backends import store_target

TABLES = ("members", "orders", "social_actions", "products", "pickup_points")

_hostile_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40
) | st.sampled_from(
    [
        "",
        "\u202e反转的名字",  # RIGHT-TO-LEFT OVERRIDE
        "a\x00b",
        "🥛" * 2_000,
        "=cmd|' /C calc'!A0",  # a spreadsheet formula
        "1e309",
        "-0",
        "NaN",
        "9" * 40,
        "2026-02-30 25:61",
        '"unbalanced',
        "\r\n",
    ]
)
_plausible = {
    "member_id": st.sampled_from(["m00001", "m00002", "M-9", ""]),
    "ts": st.sampled_from(["2026-11-20 20:55", "1795315904", "20/11/2026", "yesterday"]),
    "amount": st.sampled_from(["298", "29.8", "-10", "1e9", "abc"]),
    "lat": st.sampled_from(["31.23", "91", "-90", "x"]),
    "lon": st.sampled_from(["121.47", "181", "0"]),
    "opted_out": st.sampled_from(["0", "1", "yes", "2"]),
    "base_price": st.sampled_from(["9.9", "0", "-1", "1e12"]),
    "stock": st.sampled_from(["10", "-5", "3.5", "99999999999999999999"]),
    "quantity": st.sampled_from(["1", "0", "-1", "many"]),
}


@st.composite
def export_files(draw: st.DrawFn) -> tuple[str, str, bytes]:
    kind = draw(st.sampled_from(sorted(FIELDS)))
    columns = draw(st.lists(st.sampled_from(FIELDS[kind]), min_size=1, unique=True))
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {c: _plausible.get(c, _hostile_text) | _hostile_text for c in columns}
            ),
            max_size=8,
        )
    )
    fmt = draw(st.sampled_from(["csv", "jsonl"]))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        data = out.getvalue().encode("utf-8")
    else:
        data = b"\n".join(orjson.dumps(r) for r in rows)
    if draw(st.booleans()):  # damage: cut it anywhere, or splice in stray bytes
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=6)) + data[cut:]
    return kind, fmt, data


def fingerprint(db: Any) -> str:
    digest = hashlib.sha256()
    for table in TABLES:
        for row in db.execute(f"SELECT * FROM {table} ORDER BY 1"):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def store_file() -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = store_target(Path(folder))
        open_store(path).close()
        db = connect(path)
        yield db, Path(folder)
        db.close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(export_files(), st.booleans())
def test_a_hostile_file_is_applied_or_refused_by_name_never_half_applied(
    store_file: tuple[Any, Path], upload: tuple[str, str, bytes], skip_bad: bool
) -> None:
    db, folder = store_file
    kind, fmt, data = upload
    path = folder / f"upload.{fmt}"
    path.write_bytes(data)
    before = fingerprint(db)
    options = ImportOptions(skip_bad=skip_bad, rejects_path=folder / "rejects.csv")
    try:
        report = import_file(db, kind, path, options, fmt, None, "导出.csv")
    except ImportError_ as exc:  # the whole file is unreadable: one sentence says why
        event("refused whole")
        message = str(exc)
        report = None
    if report is None:
        assert message.strip()
        assert fingerprint(db) == before
        return
    event("applied" if report.applied else "refused by row")
    for problem in report.problems:
        assert problem.file == "导出.csv"
        assert problem.line >= 1
        assert problem.reason
    assert report.accepted + report.rejected == report.rows
    if not report.applied:
        assert report.rejected > 0
        assert fingerprint(db) == before
    else:
        assert skip_bad or report.rejected == 0
