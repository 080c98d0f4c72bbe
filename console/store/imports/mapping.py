"""Column mappings: our field names on the left, the export's column names on the right."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from console.domain.order_status import (
    DEFAULT_VALUES,
    NOT_COUNTED,
    ImportedStatus,
    StatusMapError,
    parse_status_map,
    status_words,
)
from console.tomlfile import read_toml


@dataclass(frozen=True)
class FieldSpec:
    """One field of ours: its name, what it holds, and whether a file must have it.

    ``required`` names the group it belongs to: a file needs a column for one field of each
    group (``amount`` or ``quantity``). The mapping, the column check and ``--help`` all read
    these, so the help can never list a field the importer does not know, or miss one.
    """

    name: str
    help: str
    required: str = ""


HELP_WIDTH = 94


def _spec(name: str, help: str, required: str = "") -> FieldSpec:
    return FieldSpec(name, help, required)


SPECS: dict[str, tuple[FieldSpec, ...]] = {
    "members": (
        _spec("member_id", "the member's id", "member_id"),
        _spec("name", "full name (shown masked)"),
        _spec("phone", "phone number"),
        _spec("opted_out", "opted out of personalisation: 是/否, yes/no, 1/0"),
        _spec("tags", "free tags"),
        _spec("city", "city"),
        _spec("lat", "latitude, with lon (nearest pickup point)"),
        _spec("lon", "longitude, with lat"),
    ),
    "orders": (
        _spec("member_id", "the buyer's member id", "member_id"),
        _spec("order_id", "the order's id (with --lines: the invoice's id)", "order_id"),
        _spec("ts", "when it was ordered", "ts"),
        _spec("amount", "paid, yuan (negative: a return)", "amount"),
        _spec("quantity", "with unit_price, instead of amount", "amount"),
        _spec("unit_price", "price of one, with quantity"),
        _spec("items", "what was bought"),
        _spec("channel", "where it was sold"),
        _spec("referrer", "the member who referred the buyer"),
        _spec("status", "the order's status (below); without it every order counts as paid"),
    ),
    "social": (
        _spec("member_id", "the member's id", "member_id"),
        _spec("kind", "share/invite/message (分享/邀请/群消息)", "kind"),
        _spec("ts", "when", "ts"),
        _spec("action_id", "the action's id (default: from member, kind and time)"),
    ),
    "products": (
        _spec("product_id", "the product's id", "product_id"),
        _spec("name", "its name", "name"),
        _spec("base_price", "price, yuan", "base_price"),
        _spec("stock", "units in stock", "stock"),
        _spec("emoji", "an emoji for the card"),
        _spec("category", "category"),
    ),
    "points": (
        _spec("point_id", "the pickup point's id (自提点)", "point_id"),
        _spec("name", "its name", "name"),
        _spec("leader", "its 团长"),
        _spec("lat", "latitude", "lat"),
        _spec("lon", "longitude", "lon"),
        _spec("address", "address"),
    ),
    "reservations": (
        _spec("member_id", "the member who reserved (预约), with --session SID", "member_id"),
        _spec("reserved_at", "when (default: the time of the import)"),
        _spec("invite_code", "the invitation code it answers, if any"),
    ),
}
FIELDS: dict[str, tuple[str, ...]] = {
    kind: tuple(spec.name for spec in specs) for kind, specs in SPECS.items()
}


def required_groups(kind: str) -> tuple[tuple[str, ...], ...]:
    """Each group: alternatives, one of which must be a column of the file."""
    groups: dict[str, list[str]] = {}
    for spec in SPECS[kind]:
        if spec.required:
            groups.setdefault(spec.required, []).append(spec.name)
    return tuple(tuple(names) for names in groups.values())


def fields_help() -> str:
    """Every kind's fields and the order statuses understood, for ``import --help`` and the
    README (one text: a test checks the README holds it)."""
    lines = ["fields (--map FIELD=COLUMN; * a file needs it; + a file needs one of the +):"]
    for kind, specs in SPECS.items():
        lines.append(f"  {kind}:")
        groups = {name: len(group) for group in required_groups(kind) for name in group}
        for spec in specs:
            mark = {0: "", 1: "*"}.get(groups.get(spec.name, 0), "+")
            lines.append(f"    {spec.name + mark:<13}{spec.help}")
    lines.append("order status values (status=COLUMN; more with --status-map 'VALUE=STATUS,...'):")
    for status, words in DEFAULT_VALUES.items():
        lines += textwrap.wrap(
            ", ".join(words),
            width=HELP_WIDTH,
            initial_indent=f"  {status:<11}",
            subsequent_indent=" " * 13,
            break_on_hyphens=False,
        )
    lines.append(f"  {' and '.join(NOT_COUNTED)} orders count in neither F nor M")
    return "\n".join(lines)


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
    lines: bool = False  # orders: each row is a line of an order (invoice); lines add up
    status_map: dict[str, ImportedStatus] = field(default_factory=dict)  # the shop's own words

    def column(self, name: str) -> str:
        """The export's column holding our field ``name``."""
        return self.mapping.get(name, name)


def parse_map(text: str, kind: str) -> dict[str, str]:
    """``member_id=CustomerID,ts=InvoiceDate`` -> ``{"member_id": "CustomerID", ...}``."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        ours, sep, theirs = part.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise MappingError(f"--map：{part!r} 应写成 字段=列名")
        mapping[ours.strip()] = theirs.strip()
    _check_fields(mapping, kind, "--map")
    return mapping


def status_map(text: str) -> dict[str, ImportedStatus]:
    """``--status-map 'X=cancelled,Y=paid'``; MappingError when it names no status."""
    try:
        return parse_status_map(text)
    except StatusMapError as exc:
        raise MappingError(str(exc)) from None


def load_mapping_file(path: Path, kind: str) -> ImportOptions:
    """A TOML mapping file: ``[map]`` field = "Column", optional ``[options]`` and, for
    orders, ``[status]`` "the shop's word" = "cancelled" (as ``--status-map``)."""
    raw = read_toml(path, MappingError)
    mapping = {str(k): str(v) for k, v in raw.get("map", {}).items()}
    _check_fields(mapping, kind, str(path))
    options = raw.get("options", {})
    known = {"dayfirst", "utc_offset_hours", "encoding", "lines"}
    if unknown := set(options) - known:
        raise MappingError(f"{path}：未知的选项 {', '.join(sorted(unknown))}")
    words = raw.get("status", {})
    if not isinstance(words, dict):
        raise MappingError(f'{path}：[status] 应是 "导出的值" = "状态" 的表')
    return ImportOptions(
        mapping=mapping,
        dayfirst=bool(options.get("dayfirst", False)),
        utc_offset_hours=float(options.get("utc_offset_hours", 8.0)),
        encoding=str(options.get("encoding", "auto")),
        lines=bool(options.get("lines", False)),
        status_map=_status_words(path, words),
    )


def _status_words(path: Path, words: dict[str, object]) -> dict[str, ImportedStatus]:
    try:
        return status_words((str(k), str(v)) for k, v in words.items())
    except StatusMapError as exc:
        raise MappingError(f"{path}：[status]：{str(exc).removeprefix('--status-map：')}") from None


def _check_fields(mapping: dict[str, str], kind: str, where: str) -> None:
    allowed = FIELDS[kind]
    for ours in mapping:
        if ours not in allowed:
            raise MappingError(f"{where}：{ours!r} 不是 {kind} 的字段；可选：{', '.join(allowed)}")
