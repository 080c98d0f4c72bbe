"""One row of an export -> one record of ours, or the reason it is refused."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console.domain.order_status import WITHOUT_STATUS, UnknownStatus, status_of
from console.store.imports.mapping import ImportOptions
from console.store.models import MAX_PRICE_YUAN, MAX_STOCK

MAX_TEXT = 200
SOCIAL_KINDS = {
    "share": "share",
    "分享": "share",
    "转发": "share",
    "invite": "invite",
    "invite_converted": "invite",
    "邀请": "invite",
    "邀请成功": "invite",
    "message": "message",
    "community_message": "message",
    "群消息": "message",
    "发言": "message",
}
_TRUE = {"1", "true", "yes", "y", "是", "t"}
_FALSE = {"0", "false", "no", "n", "否", "f", ""}
_FLOAT_ID = re.compile(r"^(\d+)\.0+$")  # 17850.0 from a spreadsheet round trip -> 17850


RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    # What each position of a kind's record holds (named when two rows of one id differ).
    "members": ("member_id", "name", "phone", "opted_out", "tags", "city", "lat", "lon"),
    "orders": (
        "order_id",
        "member_id",
        "ts",
        "amount",
        "items",
        "channel",
        "referrer",
        "status",
    ),
    "social": ("action_id", "member_id", "kind", "ts"),
    "products": ("product_id", "name", "base_price", "stock", "emoji", "category"),
    "points": ("point_id", "name", "leader", "lat", "lon", "address"),
}


class Refused(ValueError):
    """A row is refused: ``field`` is our field name, the message the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


@dataclass
class Fields:
    """Reads our fields from a row through the mapping."""

    row: Mapping[str, Any]
    options: ImportOptions

    def raw(self, name: str) -> Any:
        value = self.row.get(self.options.column(name))
        return value.strip() if isinstance(value, str) else value

    def text(self, name: str, required: bool = False, limit: int = MAX_TEXT) -> str:
        value = self.raw(name)
        text = "" if value is None else str(value)
        if required and not text:
            raise Refused(name, "必填")
        if len(text) > limit:
            raise Refused(name, f"超过 {limit} 个字符")
        return text

    def identifier(self, name: str) -> str:
        text = self.text(name, required=True, limit=64)
        match = _FLOAT_ID.match(text)
        return match[1] if match else text

    def number(self, name: str, required: bool = True) -> float | None:
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise Refused(name, "必填")
            return None
        try:
            number = float(str(value).replace(",", "").replace("¥", "").replace("￥", ""))
        except ValueError:
            raise Refused(name, f"不是数字：{str(value)[:30]!r}") from None
        if not math.isfinite(number):
            raise Refused(name, "必须是有限的数字")
        return number

    def when(self, name: str, parse: Callable[[object], float]) -> float:
        value = self.raw(name)
        if value is None or value == "":
            raise Refused(name, "必填")
        try:
            return parse(value)
        except ValueError as exc:
            raise Refused(name, str(exc)) from None


def member_record(fields: Fields) -> tuple[Any, ...]:
    """(id, name, phone, opted_out, tags, city, lat, lon); the location is optional."""
    opted = fields.text("opted_out").lower()
    if opted not in _TRUE | _FALSE:
        raise Refused("opted_out", f"不是“是/否”：{opted[:20]!r}")
    lat = fields.number("lat", required=False)
    lon = fields.number("lon", required=False)
    if (lat is None) != (lon is None):
        raise Refused("lat" if lat is None else "lon", "位置需要同时有 lat 和 lon")
    return (
        fields.identifier("member_id"),
        fields.text("name", limit=64),
        fields.text("phone", limit=32),
        int(opted in _TRUE),
        fields.text("tags", limit=500),
        fields.text("city", limit=64),
        *_coordinates(lat, lon),
    )


def _coordinates(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    if lat is not None and not -90 <= lat <= 90:
        raise Refused("lat", f"纬度超出范围：{lat}")
    if lon is not None and not -180 <= lon <= 180:
        raise Refused("lon", f"经度超出范围：{lon}")
    return lat, lon


def order_line(fields: Fields, parse: Callable[[object], float]) -> tuple[Any, ...]:
    """(order_id, member_id, ts, amount, items, channel, referrer, status) for one order or
    line.

    ``amount`` is taken as given, or derived as quantity x unit price. A negative amount
    (a return, or a cancellation such as an Online Retail "C" invoice) is kept negative.
    ``status`` is read by ``console.domain.order_status`` (with the mapping's own words); a
    file without a status column lists orders that happened (``WITHOUT_STATUS``).
    """
    amount = fields.number("amount", required=False)
    if amount is None:
        quantity = fields.number("quantity", required=False)
        unit_price = fields.number("unit_price", required=False)
        if quantity is None or unit_price is None:
            raise Refused("amount", "必填（或给出 quantity 和 unit_price）")
        amount = quantity * unit_price
    return (
        fields.identifier("order_id"),
        fields.identifier("member_id"),
        fields.when("ts", parse),
        round(amount, 2),
        fields.text("items", limit=100),
        fields.text("channel", limit=32),
        fields.text("referrer", limit=64),
        _status(fields),
    )


def _status(fields: Fields) -> str:
    """The status's plain text (sqlite3 binds a str subclass through its slow adapter path)."""
    value = fields.raw("status")
    if value is None:  # no such column (or key): refused only if the mapping names one
        if "status" in fields.options.mapping:
            raise Refused("status", "必填")
        return WITHOUT_STATUS.value
    try:
        return status_of(str(value), fields.options.status_map).value
    except UnknownStatus as exc:
        raise Refused("status", str(exc)) from None


def social_record(fields: Fields, parse: Callable[[object], float]) -> tuple[Any, ...]:
    """(action_id, member_id, kind, ts); without an id the action is keyed by its content."""
    member = fields.identifier("member_id")
    kind_text = fields.text("kind", required=True).lower()
    kind = SOCIAL_KINDS.get(kind_text)
    if kind is None:
        raise Refused("kind", f"未知的类型 {kind_text[:20]!r}；可选：share、invite、message")
    ts = fields.when("ts", parse)
    action_id = fields.text("action_id", limit=64)
    if not action_id:
        action_id = "h:" + hashlib.sha1(f"{member}|{kind}|{ts:.3f}".encode()).hexdigest()[:24]
    return (action_id, member, kind, ts)


def product_record(fields: Fields) -> tuple[Any, ...]:
    """(id, name, base_price in fen, stock, emoji, category)."""
    price = fields.number("base_price")
    assert price is not None
    if price < 0:
        raise Refused("base_price", "不能为负数")
    if price > MAX_PRICE_YUAN:
        raise Refused("base_price", f"超过 {MAX_PRICE_YUAN} 元：多半是输错了")
    stock = fields.number("stock")
    assert stock is not None
    if stock < 0 or stock != int(stock):
        raise Refused("stock", f"必须是不小于 0 的整数：{fields.raw('stock')!r}")
    if stock > MAX_STOCK:
        raise Refused("stock", f"超过 {MAX_STOCK} 件")
    return (
        fields.identifier("product_id"),
        fields.text("name", required=True, limit=100),
        round(price * 100),
        int(stock),
        fields.text("emoji", limit=8),
        fields.text("category", limit=32),
    )


def point_record(fields: Fields) -> tuple[Any, ...]:
    """(id, name, leader, lat, lon, address): a pickup point and its 团长."""
    lat, lon = _coordinates(fields.number("lat"), fields.number("lon"))
    return (
        fields.identifier("point_id"),
        fields.text("name", required=True, limit=100),
        fields.text("leader", limit=32),
        lat,
        lon,
        fields.text("address", limit=200),
    )
