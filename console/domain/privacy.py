"""Masking of personal names for anything that may be shown on stream (脱敏)."""

from __future__ import annotations

MASK = "*"


def mask_name(name: str) -> str:
    """Keep the first and last character and mask the rest: 林小薇 -> 林*薇, 林薇 -> 林*.

    Latin names keep their first and last letter too (Alice -> A***e). Empty stays empty.
    """
    chars = list(name.strip())
    if not chars:
        return ""
    if len(chars) == 1:
        return MASK
    if len(chars) == 2:
        return chars[0] + MASK
    if all(ord(c) < 0x2E80 for c in chars):
        return chars[0] + MASK * (len(chars) - 2) + chars[-1]
    return chars[0] + MASK + chars[-1]
