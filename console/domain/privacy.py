"""Masking of personal names for anything that may be shown on stream (脱敏)."""

from __future__ import annotations

import functools

from console.domain.text import display_text

MASK = "*"


MAX_MASK = 3
CACHED_NAME_LENGTH = 64  # longer (hostile) names are masked afresh, never kept in memory


def mask_name(name: str) -> str:
    """Keep the first and last character and mask the rest: 林小薇 -> 林*薇, 林薇 -> 林*.

    Latin names keep their first and last letter too (Alice -> A***e; longer ones get no more
    stars, so neither a name's length nor a hostile 5 KB one reaches the screen). Control and
    bidi characters go first (``display_text``). Empty stays empty.
    """
    if len(name) <= CACHED_NAME_LENGTH:
        return _mask_cached(name)  # at ingest the same viewers' names come again and again
    return _mask(name)


def _mask(name: str) -> str:
    chars = list(display_text(name, len(name) + 1).strip())
    if not chars:  # nothing visible: still a name, shown as one star (never as nothing)
        return MASK if name.strip() else ""
    if len(chars) == 1:
        return MASK
    if len(chars) == 2:
        return chars[0] + MASK
    if all(ord(c) < 0x2E80 for c in chars):
        return chars[0] + MASK * min(len(chars) - 2, MAX_MASK) + chars[-1]
    return chars[0] + MASK + chars[-1]


_mask_cached = functools.lru_cache(maxsize=16_384)(_mask)
