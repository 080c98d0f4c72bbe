"""Sane bounds on what a client may send (输入边界): times, dates, numbers, free-form JSON.

Every bound the store enforces on input lives here, so a reader can see them in one place
and the store, the importers and the tests agree. The checks are pure: the clock is passed
in, and each answers with a reason in Chinese (shown to the sender) or None when the value
is fine.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

DAY_S = 86_400.0

MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 1, 1)
"""Dates a request may name (segmentation ``as_of``, an override's expiry): 2000..2100."""

MIN_EPOCH_S = datetime(MIN_DATE.year, MIN_DATE.month, MIN_DATE.day, tzinfo=UTC).timestamp()
MAX_EPOCH_S = datetime(MAX_DATE.year, MAX_DATE.month, MAX_DATE.day, tzinfo=UTC).timestamp()
"""The same window as epoch seconds, for times given as numbers."""

EVENT_BEFORE_SESSION_S = DAY_S
"""How long before its session was created an event may be dated (a platform's clock, a
session created just after the room opened)."""
EVENT_AHEAD_S = DAY_S
"""How far past the store's clock an event may be dated (a platform clock running fast)."""

MAX_SEQ = 2**62
"""Past any log; a seq, run id or offset beyond SQLite's 64-bit integers cannot be looked up."""

MAX_JSON_DEPTH = 32
"""Nesting of a free-form JSON value (an event's ``data``, a session's ``audience``)."""
MIN_JSON_INT = -(2**63)
MAX_JSON_INT = 2**63 - 1
"""Integers in free-form JSON: what SQLite and the JSON writer keep (64 bits)."""


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def epoch_problem(seconds: float) -> str | None:
    """Why ``seconds`` is no usable time (not finite, or outside 2000..2100), or None."""
    if not math.isfinite(seconds):
        return "必须是有限的数字"
    if not MIN_EPOCH_S <= seconds < MAX_EPOCH_S:
        return f"时间必须在 {MIN_DATE.isoformat()} 到 {MAX_DATE.isoformat()} 之间"
    return None


def date_problem(day: date) -> str | None:
    """Why ``day`` is outside the dates a request may name, or None."""
    if not MIN_DATE <= day < MAX_DATE:
        return f"日期必须在 {MIN_DATE.isoformat()} 到 {MAX_DATE.isoformat()} 之间"
    return None


def event_time_problem(ts: float, session_created_at: float, now: float) -> str | None:
    """Why an event dated ``ts`` does not belong to a session created at
    ``session_created_at``, as the store's clock reads ``now``; None when it does.

    An event may be dated from a day before its session was created to a day past now:
    anything else is a broken clock or a forged time, and one such event would stretch the
    session's replay timeline over years."""
    if not math.isfinite(ts):
        return "必须是有限的数字"
    earliest = session_created_at - EVENT_BEFORE_SESSION_S
    latest = now + EVENT_AHEAD_S
    if ts < earliest:
        return f"事件时间早于本场创建前一天（{_when(earliest)}）"
    if ts > latest:
        return f"事件时间晚于当前时间一天以上（{_when(latest)}）"
    return None


def json_value_problem(value: object, depth: int = 0) -> tuple[str, str] | None:
    """The first part of a free-form JSON value the store cannot keep, as (path, reason):
    nesting past ``MAX_JSON_DEPTH``, an integer beyond 64 bits, a number that is not
    finite, a string with a lone surrogate. The path is dotted (``a.b[2]``), "" at the top.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if not MIN_JSON_INT <= value <= MAX_JSON_INT:
            return "", "整数超出 64 位范围"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else ("", "必须是有限的数字")
    if isinstance(value, str):
        reason = text_problem(value)
        return None if reason is None else ("", reason)
    if isinstance(value, dict | list):
        if depth >= MAX_JSON_DEPTH:
            return "", f"嵌套超过 {MAX_JSON_DEPTH} 层"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and (reason := text_problem(key)) is not None:
                return "", "键" + reason
            found = json_value_problem(item, depth + 1)
            if found is not None:
                step = f"[{key}]" if isinstance(key, int) else str(key)
                path, reason = found
                joined = step + ("" if not path else path if path[0] == "[" else "." + path)
                return joined, reason
        return None
    return "", f"不支持的值类型 {type(value).__name__}"


NUL = "\x00"


def text_problem(text: str) -> str | None:
    """Why a text cannot be stored as it is, or None: a NUL character (U+0000: no text
    column of PostgreSQL keeps it, and no name or comment needs it) or a lone surrogate."""
    if NUL in text:
        return "含有 NUL 字符（U+0000）"
    if not _encodable(text):
        return "含有无效的 Unicode 字符（单独的代理项）"
    return None


def texts_problem(value: object) -> str | None:
    """``text_problem`` of the first string in ``value`` (a string, or lists and dicts of
    them, keys included) that has one."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, dict):
        for key, item in value.items():
            found = texts_problem(key) or texts_problem(item)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = texts_problem(item)
            if found:
                return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
