"""Timestamps as exports write them, to epoch seconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from console.domain.bounds import epoch_problem

# Tried in order after ISO 8601; the format that last worked is tried first, so a file in
# one format costs one strptime per row.
_FORMATS_MONTH_FIRST = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y",
)
_FORMATS_DAY_FIRST = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
)
_FORMATS_OTHER = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y%m%d",
)
EPOCH_MS_THRESHOLD = 1e11  # larger numbers are epoch milliseconds


class TimestampParser:
    """Parses ISO 8601, epoch seconds or milliseconds, and common export formats.

    Times without a zone are taken as local to ``utc_offset_hours``. ``dayfirst`` decides
    whether 01/02/2024 is 1 February (True) or 2 January (False, as in US exports).
    """

    def __init__(self, dayfirst: bool = False, utc_offset_hours: float = 8.0) -> None:
        self.zone = timezone(timedelta(hours=utc_offset_hours))
        slash = _FORMATS_DAY_FIRST if dayfirst else _FORMATS_MONTH_FIRST
        self._formats = list(slash + _FORMATS_OTHER)

    def parse(self, value: object) -> float:
        """Epoch seconds within ``console.domain.bounds`` (2000..2100); ValueError with a
        readable reason if the value is no time, or out of those bounds."""
        seconds = self._parse(value)
        reason = epoch_problem(seconds)
        if reason is not None:
            raise ValueError(reason)
        return seconds

    def _parse(self, value: object) -> float:
        if isinstance(value, bool):
            raise ValueError(f"不是日期或时间：{value!r}")
        if isinstance(value, int | float):
            return self._epoch(float(value))
        text = str(value).strip()
        if not text:
            raise ValueError("为空")
        try:
            return self._epoch(float(text))
        except ValueError:
            pass
        try:
            return self._aware(datetime.fromisoformat(text)).timestamp()
        except ValueError:
            pass
        for index, fmt in enumerate(self._formats):
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if index:
                self._formats.insert(0, self._formats.pop(index))
            return self._aware(parsed).timestamp()
        raise ValueError(f"无法识别的日期或时间：{text[:40]!r}")

    def _aware(self, moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)

    @staticmethod
    def _epoch(number: float) -> float:
        return number / 1000.0 if abs(number) >= EPOCH_MS_THRESHOLD else number
