"""The bundled font covers everything the console can print; its licence ships with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from console.resources import RESOURCES, resource_path
from console.sim import demo_members

FONT_FILES = ("fonts/LiveConsoleSansSC-Regular.otf", "fonts/LiveConsoleSansSC-Bold.otf")
EMOJI_FONT = "fonts/LiveConsoleEmoji.ttf"


def ui_characters() -> set[str]:
    chars: set[str] = set()
    patterns = (
        "console/**/*.py",
        "resources/**/*.toml",
        "resources/**/*.qss",
        "resources/demo/*.csv",
    )
    for pattern in patterns:
        for path in RESOURCES.parent.glob(pattern):
            chars.update(path.read_text(encoding="utf-8"))
    for member in demo_members.load_demo_members():
        chars.update(member["name"])
    return {c for c in chars if ord(c) > 0x7F}


def is_emoji(char: str) -> bool:
    return ord(char) >= 0x1F000


def test_bundled_emoji_font_covers_the_products_emoji() -> None:
    cmap = TTFont(resource_path(EMOJI_FONT)).getBestCmap()
    missing = sorted(c for c in ui_characters() if is_emoji(c) and ord(c) not in cmap)
    assert not missing, f"re-run tools/subset_emoji.py; missing: {''.join(missing)}"


@pytest.mark.parametrize("relative", FONT_FILES)
def test_bundled_font_covers_the_ui(relative: str) -> None:
    cmap = TTFont(resource_path(relative)).getBestCmap()
    missing = sorted(c for c in ui_characters() if not is_emoji(c) and ord(c) not in cmap)
    assert not missing, f"re-run tools/subset_font.py; missing: {''.join(missing)}"


@pytest.mark.parametrize("relative", FONT_FILES)
def test_bundled_font_covers_gb2312_level_one(relative: str) -> None:
    cmap = TTFont(resource_path(relative)).getBestCmap()
    level_one = [
        bytes([hi, lo]).decode("gb2312")
        for hi in range(0xB0, 0xD8)
        for lo in range(0xA1, 0xFF)
        if (hi, lo) < (0xD7, 0xFA)
    ]
    assert len(level_one) == 3755
    assert all(ord(c) in cmap for c in level_one)


def test_font_licence_ships_beside_the_font() -> None:
    licence = resource_path("fonts/OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Adobe" in licence


def test_emoji_font_licence_ships_beside_it() -> None:
    licence = resource_path("fonts/OFL-emoji.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Google" in licence


def test_check_boxes_have_a_visible_indicator_and_their_tick_exists() -> None:
    """An unticked box was nearly invisible on the dark panels (the platform's default)."""
    import re

    from console.ui.theme import stylesheet

    sheet = stylesheet("Noto Sans CJK SC")
    assert re.search(r"QCheckBox::indicator \{[^}]*border: 2px solid #a7b1bf", sheet)
    tick = re.search(r'image: url\("([^"]+check\.svg)"\)', sheet)
    assert tick is not None
    assert Path(tick.group(1)).is_file()
