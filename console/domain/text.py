"""Making untrusted text safe to display: no control characters, no bidi overrides."""

from __future__ import annotations

import re
import unicodedata

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
