"""Rows of a CSV or JSON Lines file, with their line numbers and the bytes read so far."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

FORMATS = ("csv", "jsonl")


class ReadError(ValueError):
    """The file cannot be read at all (missing, wrong encoding, no header)."""


@dataclass
class Row:
    line: int
    values: dict[str, Any] | None  # None: the line itself is broken
    error: str = ""


class _CountingReader(io.RawIOBase):
    """Counts the bytes handed to the text layer, for progress by percent."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.consumed += len(data)
        return len(data)


def detect_format(path: Path, given: str | None) -> str:
    if given:
        if given not in FORMATS:
            raise ReadError(f"unknown format {given!r}; one of {', '.join(FORMATS)}")
        return given
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"


def detect_encoding(path: Path, given: str) -> str:
    """``utf-8-sig`` when the start of the file is UTF-8, else GB18030 (Chinese Excel)."""
    if given != "auto":
        return given
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "gb18030"
    return "utf-8-sig"


class RowReader:
    """Iterate ``Row`` objects; ``progress`` is the share of the file read (0..1)."""

    def __init__(self, path: Path, fmt: str | None = None, encoding: str = "auto") -> None:
        if not path.is_file():
            raise ReadError(f"{path}: no such file")
        self.path = path
        self.format = detect_format(path, fmt)
        self.encoding = detect_encoding(path, encoding)
        self.size = max(path.stat().st_size, 1)
        self._counter: _CountingReader | None = None
        self.columns: list[str] = []

    @property
    def progress(self) -> float:
        return 0.0 if self._counter is None else min(1.0, self._counter.consumed / self.size)

    def __iter__(self) -> Iterator[Row]:
        with self.path.open("rb") as raw:
            self._counter = _CountingReader(raw)
            buffered = io.BufferedReader(self._counter, buffer_size=1 << 16)
            text = io.TextIOWrapper(buffered, encoding=self.encoding, newline="")
            try:
                if self.format == "csv":
                    yield from self._csv(text)
                else:
                    yield from self._jsonl(text)
            except UnicodeDecodeError as exc:
                raise ReadError(
                    f"{self.path}: not {self.encoding} text near byte {self._counter.consumed}"
                    " (set the encoding, e.g. --encoding gb18030)"
                ) from exc

    def _csv(self, text: io.TextIOWrapper) -> Iterator[Row]:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise ReadError(f"{self.path}: empty file, no header line") from None
        self.columns = [name.strip() for name in header]
        width = len(self.columns)
        for record in reader:
            line = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != width:
                yield Row(line, None, f"{len(record)} fields where the header has {width}")
                continue
            yield Row(line, dict(zip(self.columns, record, strict=True)))

    def _jsonl(self, text: io.TextIOWrapper) -> Iterator[Row]:
        for line, content in enumerate(text, start=1):
            if not content.strip():
                continue
            try:
                values = json.loads(content)
            except json.JSONDecodeError as exc:
                yield Row(line, None, f"not valid JSON: {exc.msg}")
                continue
            if not isinstance(values, dict):
                yield Row(line, None, "not a JSON object")
                continue
            for key in values:
                if key not in self.columns:
                    self.columns.append(key)
            yield Row(line, values)
