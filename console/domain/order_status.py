"""The status of an imported order (订单状态), from whatever words a shop's export uses.

Exports name the same four states in many ways (已取消, 交易关闭, refunded, shipped, ...).
``status_of`` maps one cell to ``ImportedStatus``: the defaults below, then the operator's own
words (``parse_status_map``, e.g. ``--status-map 'X=cancelled,Y=paid'``), which win. A
cancelled or refunded order never counts as a purchase (not in F, not in M).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class ImportedStatus(StrEnum):
    """placed: ordered, not paid (待付款); paid: paid, shipped or done; cancelled: never
    went through (已取消, 交易关闭); refunded: paid, then the money went back (已退款)."""

    PLACED = "placed"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


COUNTED: frozenset[ImportedStatus] = frozenset({ImportedStatus.PLACED, ImportedStatus.PAID})
"""Statuses whose orders are purchases: the others count in neither F nor M."""
NOT_COUNTED: tuple[ImportedStatus, ...] = tuple(s for s in ImportedStatus if s not in COUNTED)
WITHOUT_STATUS = ImportedStatus.PAID
"""An export without a status column lists orders that happened: each counts as paid."""

DEFAULT_VALUES: Mapping[ImportedStatus, tuple[str, ...]] = {
    ImportedStatus.PLACED: (
        "待付款",
        "等待付款",
        "未付款",
        "placed",
        "pending",
        "unpaid",
        "created",
    ),
    ImportedStatus.PAID: (
        "已付款",
        "待发货",
        "已发货",
        "已签收",
        "已完成",
        "交易成功",
        "paid",
        "approved",
        "invoiced",
        "processing",
        "shipped",
        "delivered",
        "completed",
        "complete",
    ),
    ImportedStatus.CANCELLED: (
        "已取消",
        "交易关闭",
        "已关闭",
        "cancelled",
        "canceled",
        "closed",
        "unavailable",
    ),
    ImportedStatus.REFUNDED: ("已退款", "退款成功", "refunded", "returned"),
}
"""The words understood without ``--status-map``, per status (compared ignoring case)."""

_DEFAULTS: dict[str, ImportedStatus] = {
    word.casefold(): status for status, words in DEFAULT_VALUES.items() for word in words
}


class StatusMapError(ValueError):
    """A ``--status-map`` is malformed (names no status of ours)."""


class UnknownStatus(ValueError):
    """A cell names no status we know: the reason names it and the words understood."""


def normalise(value: str) -> str:
    return value.strip().casefold()


def parse_status_map(text: str) -> dict[str, ImportedStatus]:
    """``'X=cancelled,Y=paid'`` -> ``{"x": CANCELLED, "y": PAID}`` (keys normalised)."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        theirs, sep, ours = part.rpartition("=")
        if not sep or not theirs.strip():
            raise StatusMapError(f"--status-map：{part!r} 应写成 导出的值=状态")
        pairs.append((theirs, ours))
    return status_words(pairs)


def status_words(pairs: Iterable[tuple[str, str]]) -> dict[str, ImportedStatus]:
    """(the shop's word, our status name) pairs -> the custom words ``status_of`` takes."""
    found: dict[str, ImportedStatus] = {}
    for theirs, ours in pairs:
        if not normalise(theirs):
            raise StatusMapError(f"--status-map：空的值不能对应状态（{ours!r}）")
        try:
            found[normalise(theirs)] = ImportedStatus(normalise(ours))
        except ValueError:
            allowed = ", ".join(ImportedStatus)
            raise StatusMapError(
                f"--status-map：{ours.strip()!r} 不是状态；可选：{allowed}"
            ) from None
    return found


def status_of(value: str, custom: Mapping[str, ImportedStatus] | None = None) -> ImportedStatus:
    """The status a cell names; ``custom`` (from ``parse_status_map``) wins over the defaults.

    Raises ``UnknownStatus`` naming the value and the words understood.
    """
    key = normalise(value)
    if custom and key in custom:
        return custom[key]
    found = _DEFAULTS.get(key)
    if found is not None:
        return found
    if not key:
        raise UnknownStatus("为空；" + understood(custom))
    raise UnknownStatus(
        f"无法识别的订单状态 {value.strip()[:30]!r}；{understood(custom)}"
        "（其他写法可用 --status-map '值=状态' 指定）"
    )


def understood(custom: Mapping[str, ImportedStatus] | None = None) -> str:
    """可识别的状态 per status, defaults and the operator's own words, in one line."""
    words: dict[ImportedStatus, list[str]] = {s: list(DEFAULT_VALUES[s]) for s in ImportedStatus}
    for word, status in (custom or {}).items():
        if word not in (w.casefold() for w in words[status]):
            words[status].append(word)
    return "可识别的状态：" + "；".join(f"{s}：{'、'.join(words[s])}" for s in ImportedStatus)


def status_counts(statuses: Iterable[str]) -> dict[str, int]:
    """How many of each status, every status named (0 when absent), in the enum's order."""
    counts = {status.value: 0 for status in ImportedStatus}
    for status in statuses:
        counts[status] += 1
    return counts
