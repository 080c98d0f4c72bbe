"""Rebuild the bundled emoji subset in ``resources/fonts/``.

Product cards show an emoji per product (🥗 🍒 🥛 …); machines without an emoji font would
draw empty boxes. This keeps the food and drink emoji, a few UI symbols and every emoji the
project's sources and data use, from Noto Color Emoji (SIL OFL 1.1).

Usage (Debian)::

    apt-get download fonts-noto-color-emoji && dpkg -x fonts-noto-color-emoji_*.deb /tmp/emoji
    python tools/subset_emoji.py /tmp/emoji/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "fonts" / "LiveConsoleEmoji.ttf"
FAMILY = "LiveConsole Emoji"
SOURCE_SUFFIXES = {".py", ".qss", ".toml", ".csv", ".md", ".json"}
# Food & drink, fruit, dishes; gifts and party; the UI's notice, pin, box and chart symbols.
RANGES = (
    (0x1F32D, 0x1F37F),
    (0x1F950, 0x1F96F),
    (0x1F9C0, 0x1F9CB),
    (0x1F380, 0x1F389),
    (0x1F4CC, 0x1F4CC),
    (0x1F4E2, 0x1F4E2),
    (0x1F4E6, 0x1F4E6),
    (0x1F525, 0x1F525),
    (0x1F338, 0x1F338),
)


def project_emoji() -> set[int]:
    found: set[int] = set()
    for folder in ("console", "resources"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                found.update(ord(c) for c in path.read_text(encoding="utf-8") if ord(c) >= 0x1F000)
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    font = TTFont(argv[1])
    wanted = project_emoji() | {c for low, high in RANGES for c in range(low, high + 1)}
    options = subset.Options()
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID in (3, 4):
            record.string = f"{FAMILY} Regular"
        elif record.nameID == 6:
            record.string = "LiveConsoleEmoji-Regular"
    font.save(str(OUT))
    print(
        f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size / 1024:.0f} KiB, {len(wanted)} code points"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
