"""Rebuild the bundled CJK font subset in ``resources/fonts/``.

The console must render Chinese on machines without CJK fonts, so it ships a subset of
Noto Sans CJK SC (SIL OFL 1.1) covering ASCII, CJK punctuation, all of GB2312 and every
character used in the project's own sources and resources.

Usage (Debian)::

    apt-get download fonts-noto-cjk && dpkg -x fonts-noto-cjk_*.deb /tmp/noto
    python tools/subset_font.py /tmp/noto/usr/share/fonts/opentype/noto

The subset is renamed (family "LiveConsole Sans SC") so it never shadows a full Noto
install; see ``resources/fonts/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "fonts"
FAMILY = "LiveConsole Sans SC"
SC_FACE_INDEX = 2  # inside NotoSansCJK-*.ttc: JP, KR, SC, TC, HK, ...
SOURCE_SUFFIXES = {".py", ".qss", ".toml", ".csv", ".md", ".json"}


def gb2312_characters() -> set[str]:
    chars: set[str] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def project_characters() -> set[str]:
    chars: set[str] = set()
    for folder in ("console", "resources"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                chars.update(path.read_text(encoding="utf-8"))
    return {c for c in chars if ord(c) >= 0x80}


def wanted_text() -> str:
    ascii_printable = {chr(c) for c in range(0x20, 0x7F)}
    extras = set("·•—–…‘’“”、。，：；！？（）《》【】「」『』〈〉￥¥×÷±≤≥←→↑↓▲▼●○◆★☆✓✔✕％")
    return "".join(sorted(ascii_printable | extras | gb2312_characters() | project_characters()))


def build(source_dir: Path, weight: str) -> Path:
    collection = TTCollection(str(source_dir / f"NotoSansCJK-{weight}.ttc"))
    font = collection.fonts[SC_FACE_INDEX]
    options = subset.Options()
    options.hinting = False  # the UI renders at display sizes; hints cost ~15% of the file
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=wanted_text())
    subsetter.subset(font)
    names = font["name"]
    for record in names.names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID in (3, 4):
            record.string = f"{FAMILY} {weight}"
        elif record.nameID == 6:
            record.string = f"LiveConsoleSansSC-{weight}"
    out = OUT / f"LiveConsoleSansSC-{weight}.otf"
    font.save(str(out))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source_dir = Path(argv[1])
    for weight in ("Regular", "Bold"):
        out = build(source_dir, weight)
        print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
