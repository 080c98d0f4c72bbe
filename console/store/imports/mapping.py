"""Column mappings: our field names on the left, the export's column names on the right."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

FIELDS: dict[str, tuple[str, ...]] = {
    "members": ("member_id", "name", "phone", "opted_out", "tags", "city", "lat", "lon"),
    "orders": (
        "member_id",
        "order_id",
        "ts",
        "amount",
        "quantity",
        "unit_price",
        "items",
        "channel",
        "referrer",
    ),
    "social": ("member_id", "kind", "ts", "action_id"),
    "products": ("product_id", "name", "base_price", "stock", "emoji", "category"),
    "points": ("point_id", "name", "leader", "lat", "lon", "address"),
}


class MappingError(ValueError):
    """A column mapping or mapping file is malformed."""


@dataclass
class ImportOptions:
    """How to read one file: column mapping, date conventions, what to do with bad rows."""

    mapping: dict[str, str] = field(default_factory=dict)
    dayfirst: bool = False  # 01/02/2024 is 1 February rather than 2 January
    utc_offset_hours: float = 8.0  # times without a zone are local to this offset (China: +8)
    encoding: str = "auto"  # auto: UTF-8 (with or without BOM), else GB18030
    skip_bad: bool = False
    rejects_path: Path | None = None
    shift_seconds: float = 0.0  # added to every time (moves demo or rehearsal data to today)

    def column(self, name: str) -> str:
        """The export's column holding our field ``name``."""
        return self.mapping.get(name, name)


def parse_map(text: str, kind: str) -> dict[str, str]:
    """``member_id=CustomerID,ts=InvoiceDate`` -> ``{"member_id": "CustomerID", ...}``."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        ours, sep, theirs = part.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise MappingError(f"--map: {part!r} is not like field=Column")
        mapping[ours.strip()] = theirs.strip()
    _check_fields(mapping, kind, "--map")
    return mapping


def load_mapping_file(path: Path, kind: str) -> ImportOptions:
    """A TOML mapping file: ``[map]`` field = "Column", and optional ``[options]``."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: {exc}") from exc
    mapping = {str(k): str(v) for k, v in raw.get("map", {}).items()}
    _check_fields(mapping, kind, str(path))
    options = raw.get("options", {})
    known = {"dayfirst", "utc_offset_hours", "encoding"}
    if unknown := set(options) - known:
        raise MappingError(f"{path}: unknown option(s) {', '.join(sorted(unknown))}")
    return ImportOptions(
        mapping=mapping,
        dayfirst=bool(options.get("dayfirst", False)),
        utc_offset_hours=float(options.get("utc_offset_hours", 8.0)),
        encoding=str(options.get("encoding", "auto")),
    )


def _check_fields(mapping: dict[str, str], kind: str, where: str) -> None:
    allowed = FIELDS[kind]
    for ours in mapping:
        if ours not in allowed:
            raise MappingError(
                f"{where}: {ours!r} is not a {kind} field; one of {', '.join(allowed)}"
            )
