"""The dark studio theme: one palette, filled into the ordered .qss fragments."""

from __future__ import annotations

from string import Template

from PySide6.QtGui import QColor

from console.domain.segments import Segment
from console.domain.shoutouts import ShoutoutKind
from console.resources import RESOURCES

STYLE_DIR = RESOURCES / "styles"

PALETTE: dict[str, str] = {
    "background": "#111418",
    "panel": "#1a1f26",
    "panel_border": "#2a313b",
    "text": "#e8ecf1",
    "text_dim": "#a7b1bf",  # 7.6:1 on panel: captions are read from a metre away
    "accent": "#ffb020",
    "ok": "#2fbf71",
    "warn": "#f0a020",
    "error": "#c42b30",  # a background under white text (5.6:1)
    "error_text": "#ff6b6b",  # red text on the dark panels (6:1)
}

# Distinct under common colour-vision deficiencies (Okabe-Ito inspired), readable on dark.
SEGMENT_COLORS: dict[Segment, str] = {
    Segment.S1: "#e6b422",  # gold: 钻石核心
    Segment.S2: "#56b4e9",  # sky: 忠诚复购
    Segment.S3: "#2fbf71",  # green: 高潜成长
    Segment.S4: "#f28e2b",  # orange: 价格敏感
    Segment.S5: "#cc79a7",  # pink: KOC
    Segment.S6: "#9aa5b1",  # grey-blue: 沉睡新客
}
GUEST_COLOR = "#5b6470"

# Prompts when the room turns (console.domain.turns) wear their own colour, apart from the
# urgency colours of the thanks and questions: they ask the floor to act, not to read out.
PROMPT_COLOR = "#b48cff"  # violet, 6.4:1 on the panel
SHOUTOUT_KIND_COLORS: dict[ShoutoutKind, str] = {
    ShoutoutKind.ONLINE_DROP: PROMPT_COLOR,
    ShoutoutKind.CIRCLE_DROP: PROMPT_COLOR,
    ShoutoutKind.CHAIN_PACE: PROMPT_COLOR,
    ShoutoutKind.ENTRIES_DROP: PROMPT_COLOR,
    ShoutoutKind.CONVERSION_LOW: PROMPT_COLOR,
}


def segment_color(segment: Segment | None) -> QColor:
    return QColor(SEGMENT_COLORS[segment] if segment else GUEST_COLOR)


def stylesheet(font_family: str) -> str:
    """All ``resources/styles/*.qss`` fragments in name order, filled from the palette."""
    values = {**PALETTE, "font_family": font_family, "style_dir": STYLE_DIR.as_posix()}
    parts = [
        Template(path.read_text(encoding="utf-8")).substitute(values)
        for path in sorted(STYLE_DIR.glob("*.qss"))
    ]
    return "\n".join(parts)
