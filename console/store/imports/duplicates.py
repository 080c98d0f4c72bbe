"""Rows of one file that name the same id: refused, or (order lines, shares) folded together.

One id is one thing. In a file of orders (one row per order), members, products or pickup
points, a second row with the same id is refused: an exact repeat names the row it repeats
(the first one stays good), and rows of one id that differ are all refused (nobody can tell
which one is true), each naming every line. A file of order *lines* (``--lines``: invoice
lines, as the Online Retail export) adds its lines up instead. Social actions without an id
are keyed by their content: the same action twice is one action, counted once.

Pure: records in, records and refusals out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Record = tuple[Any, ...]
LINES_HINT = "若文件每行是订单的一条明细（如发票行），请用 --lines 按明细相加"
SHOWN_LINES = 5
SHOWN_VALUE = 30


@dataclass(frozen=True)
class Refusal:
    line: int
    field: str  # our field name
    reason: str


@dataclass
class Folded:
    """What is left once repeated ids are dealt with."""

    good: list[tuple[int, Record]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    merged: int = 0  # rows added into an earlier row (order lines, the same share again)


def _lines(lines: Sequence[int]) -> str:
    shown = "、".join(str(n) for n in lines[:SHOWN_LINES])
    more = f" 等 {len(lines)} 行" if len(lines) > SHOWN_LINES else " 行"
    return f"第 {shown}{more}"


def _value(value: Any) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return repr(text[:SHOWN_VALUE])


def _differences(names: Sequence[str], records: Sequence[Record]) -> str:
    parts = []
    for index, name in enumerate(names):
        values = list(dict.fromkeys(record[index] for record in records))
        if len(values) > 1:
            parts.append(f"{name}：{' / '.join(_value(v) for v in values[:3])}")
    return "；".join(parts)


def _repeated(rows: Sequence[tuple[int, Record]]) -> dict[Any, list[tuple[int, Record]]]:
    """The rows of each id that has more than one, in file order (one pass, one dict: in a
    real export almost every id is seen once)."""
    first: dict[Any, tuple[int, Record]] = {}
    repeated: dict[Any, list[tuple[int, Record]]] = {}
    for row in rows:
        seen = first.setdefault(row[1][0], row)
        if seen is not row:
            group = repeated.get(row[1][0])
            if group is None:
                repeated[row[1][0]] = [seen, row]
            else:
                group.append(row)
    return repeated


def one_per_id(
    rows: Sequence[tuple[int, Record]],
    names: Sequence[str],
    hint: str = "",
    same_is_one: bool = False,
) -> Folded:
    """Keep one row per id (``record[0]``); ``names`` names each position of a record.

    ``same_is_one``: an exact repeat is the same thing again (content-keyed social actions):
    counted as merged rather than refused.
    """
    repeated = _repeated(rows)
    folded = Folded(good=[row for row in rows if row[1][0] not in repeated])
    label = names[0]
    for key, group in repeated.items():
        first_line, first = group[0]
        records = [record for _, record in group]
        lines = [line for line, _ in group]
        if all(record == first for record in records):
            folded.good.append((first_line, first))
            if same_is_one:
                folded.merged += len(group) - 1
                continue
            for line in lines[1:]:
                reason = f"{_value(key)} 重复：与第 {first_line} 行完全相同"
                folded.refused.append(Refusal(line, label, f"{reason}；{hint}" if hint else reason))
            continue
        reason = (
            f"{_value(key)} 重复：{_lines(lines)}内容不同（{_differences(names, records)}），"
            "都未导入"
        )
        for line in lines:
            folded.refused.append(Refusal(line, label, f"{reason}；{hint}" if hint else reason))
    if repeated:
        folded.good.sort(key=lambda item: item[0])
    return folded


def add_order_lines(rows: Sequence[tuple[int, Record]], names: Sequence[str]) -> Folded:
    """Lines of one order (one order id) become one order: amounts add up, the earliest time
    and the first channel and referrer stay, items are listed once each. Lines of one order
    for two members, or in two statuses, are refused (each naming the lines)."""
    repeated = _repeated(rows)
    member_at, status_at = names.index("member_id"), names.index("status")
    folded = Folded(good=[row for row in rows if row[1][0] not in repeated])
    for order_id, group in repeated.items():
        first_line, first = group[0]
        records = [record for _, record in group]
        for at in (member_at, status_at):
            if any(record[at] != first[at] for record in records):
                lines = [line for line, _ in group]
                values = " / ".join(_value(v) for v in dict.fromkeys(r[at] for r in records))
                reason = (
                    f"订单 {_value(order_id)} 的明细（{_lines(lines)}）{names[at]} 不同："
                    f"{values}，都未导入"
                )
                folded.refused += [Refusal(line, names[at], reason) for line in lines]
                break
        else:
            folded.good.append((first_line, _sum_lines(records)))
            folded.merged += len(group) - 1
    if repeated:
        folded.good.sort(key=lambda item: item[0])
    return folded


def _sum_lines(records: Sequence[Record]) -> Record:
    order_id, member, _, _, _, channel, referrer, status = records[0]
    items: list[str] = []
    for record in records:
        if record[4] and record[4] not in items:
            items.append(record[4])
    return (
        order_id,
        member,
        min(record[2] for record in records),
        round(sum(record[3] for record in records), 2),
        ";".join(items)[:500],
        channel,
        referrer,
        status,
    )
