"""Rows of a CSV or JSON Lines file, with their line numbers and the bytes read so far."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from console.domain.bounds import NUL, json_value_problem, text_problem

FORMATS = ("csv", "jsonl")
CSV_FIELD_LIMIT = csv.field_size_limit()
"""The longest CSV field read (Python's default, 128 KiB): a longer one is a broken file
(an unclosed quote swallowing the rest), not data."""


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
            raise ReadError(f"未知的文件格式 {given!r}；可选：{', '.join(FORMATS)}")
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
            raise ReadError(f"{path}：文件不存在")
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
                    f"{self.path}：第 {self._counter.consumed} 字节附近不是 {self.encoding} 文本"
                    "（请指定编码，如 --encoding gb18030）"
                ) from exc

    def _csv(self, text: io.TextIOWrapper) -> Iterator[Row]:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise ReadError(f"{self.path}：空文件，没有表头行") from None
        except csv.Error as exc:
            raise self._csv_error(reader.line_num, exc) from None
        self.columns = [name.strip() for name in header]
        width = len(self.columns)
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the reader cannot go on past it: the file is refused
                raise self._csv_error(reader.line_num, exc) from None
            line = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != width:
                yield Row(line, None, f"有 {len(record)} 个字段，表头有 {width} 个")
                continue
            values = dict(zip(self.columns, record, strict=True))
            bad = next((column for column, cell in values.items() if NUL in cell), None)
            if bad is not None:
                yield Row(line, None, f"字段 {bad} {text_problem(NUL)}")
                continue
            yield Row(line, values)

    def _jsonl(self, text: io.TextIOWrapper) -> Iterator[Row]:
        for line, content in enumerate(text, start=1):
            if not content.strip():
                continue
            try:
                values = json.loads(content)
            except json.JSONDecodeError as exc:
                yield Row(line, None, f"不是有效的 JSON：{exc.msg}")
                continue
            except RecursionError:
                yield Row(line, None, "不是有效的 JSON：嵌套过深")
                continue
            except ValueError:  # an integer of thousands of digits
                yield Row(line, None, "不是有效的 JSON：数字过长")
                continue
            if not isinstance(values, dict):
                yield Row(line, None, "不是 JSON 对象")
                continue
            found = json_value_problem(values)
            if found is not None:
                where, reason = found
                yield Row(line, None, f"{where}：{reason}" if where else reason)
                continue
            for key in values:
                if key not in self.columns:
                    self.columns.append(key)
            yield Row(line, values)

    def _csv_error(self, line: int, exc: csv.Error) -> ReadError:
        if "field larger than field limit" in str(exc):
            return ReadError(f"{self.path}：第 {line} 行有字段超过 {CSV_FIELD_LIMIT} 个字符")
        return ReadError(f"{self.path}：第 {line} 行无法按 CSV 读取（{exc}）")
