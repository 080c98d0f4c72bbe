"""Reading a TOML file people wrote by hand (catalogs, scenarios, invitation templates): one
clear line on failure, and the line of a key a later check refuses (``line_of``)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def read_toml(path: Path, error: type[Exception]) -> dict[str, Any]:
    """The file's table; ``error`` naming the file and what is wrong (tomllib's own message
    ends "(at line N, column M)")."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc


_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(?:#.*)?$")


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """The line (1-based) of the key a validation error names, found by scanning the text
    (tomllib keeps no positions): ``("circles", 2, "circle")`` is the ``circle =`` line of
    the third ``[[circles]]`` table; ``("circles", 2)`` that table's header; ``("title",)``
    a top-level key. None when the key is not written in the file (a missing field)."""
    lines = text.splitlines()
    table: str | None = None  # the current [table] or [[array]] name, None at the top
    counts: dict[str, int] = {}
    index_in_table = -1
    name = str(loc[0]) if loc else ""
    wanted_index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    key = loc[2] if wanted_index is not None and len(loc) > 2 else None
    if wanted_index is None and len(loc) >= 1:
        key = loc[1] if len(loc) > 1 else loc[0]
        if len(loc) == 1:
            name = ""
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header is not None and line.lstrip().startswith("["):
            table = header.group(1).strip().strip("\"'")
            index_in_table = counts.get(table, 0)
            counts[table] = index_in_table + 1
            if table == name and wanted_index == index_in_table and key is None:
                return number
            continue
        in_place = (table or "") == name and (
            wanted_index is None or wanted_index == index_in_table
        )
        if in_place and key is not None and re.match(rf"^\s*\"?{re.escape(str(key))}\"?\s*=", line):
            return number
    return None


def line_of_string(text: str, start: int, value: str) -> int | None:
    """The line (1-based) at or after ``start`` where the string ``value`` is written (as a
    basic "..." or literal '...' TOML string), before the next table header: an array's
    element spread over lines (``when = [`` then one clause a line). None if not found."""
    basic = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    literal = f"'{value}'"
    for number, line in enumerate(text.splitlines()[start - 1 :], start=start):
        if number > start and line.lstrip().startswith("["):
            break
        if basic in line or literal in line:
            return number
    return None


def where(loc: Iterable[str | int]) -> str:
    """A validation error's place as the file's author reads it: ``circles[1].circle``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


@dataclass(frozen=True, slots=True)
class Problem:
    """One refusal of a checked file: the keys it is about, the reason, and optionally a
    note after the place (`` 字段 spent``) and a string in the array at ``loc`` whose own line
    is meant (one clause of ``when = [ … ]``)."""

    loc: tuple[str | int, ...]
    reason: str
    note: str = ""
    value: str = ""


def refusal_text(path: Path, problems: Iterable[Problem]) -> str:
    """``path:LINE: place: reason``, one line a problem; the line found by scanning the
    file (``line_of``; a key not written falls back to its table's header, then none)."""
    text = path.read_text(encoding="utf-8")
    lines = []
    for problem in problems:
        loc = problem.loc
        line = (line_of(text, loc) or line_of(text, loc[:2])) if loc else None
        if line and problem.value:
            line = line_of_string(text, line, problem.value) or line
        place = f"{path}:{line}" if line else str(path)
        lines.append(f"{place}: {where(loc)}{problem.note}: {problem.reason}")
    return "\n".join(lines)
