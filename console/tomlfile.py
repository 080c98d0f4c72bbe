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
    """The file's table; ``error`` naming the file and what is wrong, in Chinese, with the
    line and column tomllib gives ("第 3 行第 10 列")."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}：无法读取：{os_reason(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}：第 {exc.start + 1} 字节附近不是 UTF-8 文本") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}：不是有效的 TOML：{toml_reason(str(exc))}") from exc


def os_reason(exc: OSError) -> str:
    """Why a file could not be read, in Chinese (the system's words, in brackets, else)."""
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹，不是文件"
    return f"读取出错（{exc.strerror or exc}）"


# tomllib's messages (Python 3.11+), by how they start; the place is added after.
_TOML_REASONS = (
    ("Illegal character '\\n'", "字符串没有在行内结束（缺少引号？）"),
    ("Illegal character", "非法字符"),
    ("Invalid value", "值无效（字符串要加引号？）"),
    ("Invalid statement", "无法识别的语句"),
    ("Invalid initial character for a key part", "键的开头字符无效"),
    ("Invalid date or datetime", "日期或时间无效"),
    ("Invalid hex value", "十六进制值无效"),
    ("Invalid", "内容无效"),
    ("Cannot overwrite a value", "同一个键写了两次"),
    ("Cannot declare", "同一个表声明了两次"),
    ("Cannot mutate", "不能修改已定义的表"),
    ("Expected '=' after a key", "键后面缺少 ="),
    ("Expected ']' at the end of a table declaration", "表头缺少 ]"),
    ("Expected ']]' at the end of an array declaration", "表数组的表头缺少 ]]"),
    ("Expected newline or end of document", "一个值后面还有多余内容（需要换行）"),
    ("Unclosed array", "数组没有闭合（缺少 ]）"),
    ("Unclosed inline table", "内联表没有闭合（缺少 }）"),
    ("Unterminated string", "字符串没有结束（缺少引号）"),
    ("Unescaped '\\' in a string", "字符串里有未转义的 \\（写成 \\\\ 或用单引号）"),
    ("Unescaped", "字符串里有未转义的字符"),
)
_TOML_PLACE = re.compile(r"\(at line (\d+), column (\d+)\)|\(at end of document\)")


def toml_reason(message: str) -> str:
    """ "Illegal character ... (at line 3, column 10)" -> "第 3 行第 10 列：非法字符"."""
    place = _TOML_PLACE.search(message)
    where = ""
    if place is not None:
        where = (
            f"第 {place.group(1)} 行第 {place.group(2)} 列：" if place.group(1) else "文件末尾："
        )
    what = message[: place.start()].strip() if place is not None else message.strip()
    reason = next((zh for en, zh in _TOML_REASONS if what.startswith(en)), None)
    return f"{where}{reason}" if reason is not None else f"{where}格式错误（{what}）"


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
