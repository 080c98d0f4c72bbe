"""Free-text redaction (脱敏) before anything reaches a screen that may be on stream.

Viewers type their phone number or address into a comment ("我的电话138 1234 5678，地址
XX路88号"); a platform sends a viewer's full name as ``data.nick``. The store applies
``redact_event_data`` at ingest: the log that hosts, assistants, streams, caches, replays and
reports read holds the redacted text and the masked name; the original is kept apart for the
operator. Patterns, in the order they are tried:

- ID-card numbers: 17 digits and a digit or X (with spaces allowed between groups);
- mainland mobile numbers: 1[3-9] and nine more digits, spaces or dashes between groups,
  an optional +86 / 86 prefix;
- landlines: an area code 0xx(x) and 7-8 digits, with or without a dash, space or brackets;
- addresses: a run of Chinese characters or digits ending in 路/街/道/巷/弄/里 with a number
  (号), optionally 栋/幢/单元/楼/室; or "小区" / "花园" / "公寓" followed by building numbers.

Digits in any script (full-width １３８…, Arabic-Indic) and full-width dashes, pluses and
spaces are read as their ASCII forms for matching, and the match is hidden in the text as
typed. Every string in ``data`` that is not a field the event type declares (a platform's
extras, nested or not) is free text too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from console.domain.events import EVENT_RULES, PLATFORM_USER, EventType
from console.domain.identities import bind_code_in, hide_bind_code
from console.domain.platform import redact_platform_user
from console.domain.privacy import mask_name

HIDDEN = "[已隐藏]"
_SEP = r"[\s\-–—.]?"
_ID_CARD = re.compile(r"(?<!\d)\d{6}" + _SEP + r"\d{8}" + _SEP + r"\d{3}[\dXx](?![\dA-Za-z])")
_MOBILE = re.compile(
    r"(?<!\d)(?:\+?86" + _SEP + r")?1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4}(?!\d)"
)
_LANDLINE = re.compile(r"(?<!\d)[(（]?0\d{2,3}[)）]?" + _SEP + r"\d{7,8}(?!\d)")
_HAN = r"\u4e00-\u9fff"
_ADDRESS = re.compile(
    rf"[{_HAN}A-Za-z0-9]{{0,20}}(?:路|街|大道|道|巷|弄|里)\s*\d+\s*号"
    rf"(?:\s*\d+\s*(?:栋|幢|座|单元|楼|层|室|号楼))*"
    rf"|[{_HAN}]{{1,20}}(?:小区|花园|公寓|大厦|苑)\s*\d+\s*(?:栋|幢|座|号楼)"
    rf"(?:\s*\d+\s*(?:单元|楼|层|室))*"
)
_PATTERNS = (_ID_CARD, _MOBILE, _LANDLINE, _ADDRESS)
# A quick test before the patterns: most comments have no run of digits and no address word.
_MAYBE = re.compile(r"\d{4}|[路街道巷弄里号栋幢室]")  # \d: a digit in any script


def _ascii_forms() -> dict[int, str]:
    """Each non-ASCII decimal digit of the Basic Multilingual Plane, and the full-width
    separators, as the one ASCII character it reads as (one for one: positions stay)."""
    table = {
        code: str(digit)
        for code in range(0x80, 0x10000)
        if (digit := unicodedata.decimal(chr(code), None)) is not None
    }
    table.update({ord(c): a for c, a in zip("－＋（）　．", "-+() .", strict=True)})
    return table


_ASCII_FORMS = _ascii_forms()


def redact_text(text: str) -> str:
    """``text`` with phone numbers, ID-card numbers and addresses replaced by [已隐藏]."""
    if not _MAYBE.search(text):
        return text
    probe = text.translate(_ASCII_FORMS)
    if probe == text:
        for pattern in _PATTERNS:
            text = pattern.sub(HIDDEN, text)
        return text
    return _hide_spans(text, probe)


def _hide_spans(text: str, probe: str) -> str:
    """Hide in ``text`` what the patterns find in ``probe`` (the same text, read as ASCII)."""
    spans = sorted(m.span() for pattern in _PATTERNS for m in pattern.finditer(probe))
    parts: list[str] = []
    cursor = 0
    for start, end in spans:
        if end <= cursor:
            continue
        if start >= cursor:
            parts.append(text[cursor:start])
            parts.append(HIDDEN)
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)


def _redact_free(value: Any) -> Any:
    """Every string inside ``value`` (free-form JSON) redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_free(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_free(v) for v in value]
    return value


# The free-text fields of events a platform sends, and the name field.
TEXT_FIELDS = ("text",)
NAME_FIELD = "nick"
_EVENT_TYPES = frozenset(t.value for t in EventType)


def redact_event_data(
    data: Mapping[str, Any], event_type: str = EventType.COMMENT.value
) -> dict[str, Any] | None:
    """The event's ``data`` as screens may show it, or None when nothing had to change.

    Free text is redacted, a bind code hidden ("绑定 ******": never read aloud); a
    platform-sent name is replaced by its mask (林小薇 -> 林*薇); a platform handle by its
    pseudonym (``platform.redact_platform_user``)."""
    changed: dict[str, Any] | None = None
    rule = EVENT_RULES.get(EventType(event_type)) if event_type in _EVENT_TYPES else None
    declared = set(rule.fields) if rule is not None else set()
    for key, value in data.items():  # a platform's extras: free text, however deep
        if key in declared or key in TEXT_FIELDS or key in (NAME_FIELD, PLATFORM_USER):
            continue
        clean = _redact_free(value)
        if clean != value:
            changed = changed if changed is not None else dict(data)
            changed[key] = clean
    for key in TEXT_FIELDS:
        value = data.get(key)
        if isinstance(value, str):
            clean = redact_text(value)
            if event_type == EventType.COMMENT.value and bind_code_in(value) is not None:
                clean = hide_bind_code(value)
            if clean != value:
                changed = changed if changed is not None else dict(data)
                changed[key] = clean
    name = data.get(NAME_FIELD)
    if isinstance(name, str) and name:
        masked = mask_name(name)
        if masked != name:
            changed = changed if changed is not None else dict(data)
            changed[NAME_FIELD] = masked
    user = data.get(PLATFORM_USER)
    if isinstance(user, Mapping):
        clean_user = redact_platform_user(user)
        nick = clean_user.get(NAME_FIELD)
        if isinstance(nick, str) and nick:
            clean_user[NAME_FIELD] = mask_name(nick)
        changed = changed if changed is not None else dict(data)
        changed[PLATFORM_USER] = clean_user
    return changed
