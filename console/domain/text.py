"""Making untrusted text safe to display: no control characters, no bidi overrides."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Explicit directional formatting characters can reorder the rest of a line (Trojan Source).
_BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)


# Terminal escape sequences: CSI ("ESC [ 31 m") and OSC ("ESC ] 0 ; title BEL").
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def display_text(text: str, max_chars: int = 200) -> str:
    """``text`` on one line without control or bidi characters or terminal escape
    sequences, cut to ``max_chars``."""
    cleaned: list[str] = []
    if "\x1b" in text:
        text = _ESCAPES.sub("", text)
    for char in text:
        if char in "\r\n\t":
            cleaned.append(" ")
        elif char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co"):
            continue
        else:
            cleaned.append(char)
        if len(cleaned) > max_chars:
            return "".join(cleaned[: max_chars - 1]) + "…"
    return "".join(cleaned)


# A spreadsheet (Excel, WPS, LibreOffice) opening a CSV runs a cell that starts with one of
# these as a formula (=HYPERLINK(...), +1, -1, @SUM(A1); a tab or CR before one), the OWASP
# "CSV injection" list.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as written, never runs: text starting with a formula
    character gets a leading ``'`` (OWASP), kept in the file so a reader sees it was text.

    The type decides, not the look: a number written as a number (``-5``, ``-0.5``) stays a
    number; text does not, even when it reads like one (a 团长 named ``-1``, a phone typed
    ``+86 138...`` or a quantity ``-5`` echoed back from an import file all come out with
    the quote). ``None`` and booleans pass as the csv module writes them."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def spreadsheet_row(values: Iterable[object]) -> list[object]:
    """``spreadsheet_safe`` for each cell of a row: every CSV the product writes goes
    through this (a check in the tests finds any writer that does not)."""
    return [spreadsheet_safe(v) for v in values]
