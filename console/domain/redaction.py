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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from console.domain.events import PLATFORM_USER, EventType
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
_MAYBE = re.compile(r"\d{4}|[路街道巷弄里号栋幢室]")


def redact_text(text: str) -> str:
    """``text`` with phone numbers, ID-card numbers and addresses replaced by [已隐藏]."""
    if not _MAYBE.search(text):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(HIDDEN, text)
    return text


# The free-text fields of events a platform sends, and the name field.
TEXT_FIELDS = ("text",)
NAME_FIELD = "nick"


def redact_event_data(
    data: Mapping[str, Any], event_type: str = EventType.COMMENT.value
) -> dict[str, Any] | None:
    """The event's ``data`` as screens may show it, or None when nothing had to change.

    Free text is redacted, a bind code hidden ("绑定 ******": never read aloud); a
    platform-sent name is replaced by its mask (林小薇 -> 林*薇); a platform handle by its
    pseudonym (``platform.redact_platform_user``)."""
    changed: dict[str, Any] | None = None
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
