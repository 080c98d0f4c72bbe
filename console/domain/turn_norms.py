"""The room-turn prompts' thresholds (场控提示阈值): the brand's own norms, or what it set.

A prompt should fire on a turn that is unusual *for this brand*, so the thresholds default to
what the brand's past shows looked like, and a session's catalog may set any of them
(``[prompts]``, validated by the store). Each past show is summarised once from its fold
(``summarize``: pure, of the ``RoomState`` at its end); the norms are medians over those
summaries (``settings_from_history``). The store fixes the result when a session goes live
(the session's ``turn_settings``) and every fold of its log starts from it
(``room.initial_state``), so the live console and the replay raise the same prompts from the
same numbers.

Definitions (one each, shared by the prompts, the event and the report):

- **window fall** of the room's online count at minute m: (online at m-N - online at m) /
  online at m-N, for bases of at least ``MIN_BASE`` viewers;
- **entries** in a window: viewers who entered the room (``viewer_joined``) in the N minutes;
  the **entries fall**: (entries in the N minutes before - entries in the last N) / before,
  past the show's opening (its first N minutes are never a window before: the opening wave
  always fades);
- **a presentation's conversion** (讲解转化): of the distinct viewers in the room at any time
  while the product was presented (there when it began, or joining during it), the share who
  ordered it during the presentation (so never above 1); counted for presentations of at
  least ``MIN_PRESENTATION_S`` with at least ``MIN_BASE`` viewers;
- **a show's usual fall**: the 90th percentile (nearest rank) of its window falls; the
  brand's ``drop_share`` is the median of its recent shows' usual falls, kept within
  [``MIN_DROP_SHARE``, ``MAX_DROP_SHARE``] (likewise entries); with fewer than
  ``MIN_SHOWS`` shows, the defaults below;
- **which shows**: the ``HISTORY_SHOWS`` most recent ended shows on the wall clock (real
  shows); a brand with fewer than ``MIN_SHOWS`` of them (a new brand, a demo store) takes
  its most recent rehearsals (彩排) as well, since played scripts are then all it has;
- **a product's norm**: the median of its past presentations' conversions (at least
  ``MIN_PRESENTATIONS`` of them); the prompt fires below ``conversion_share`` of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from statistics import median
from typing import Any

WINDOW_MIN = 5
DROP_SHARE = 0.30
ENTRIES_DROP_SHARE = 0.50
CIRCLE_MARGIN = 0.10
CONVERSION_SHARE = 0.50
MIN_BASE = 5
"""Fewest viewers (or entries) at a window's start for a fall to mean anything."""
MIN_PRESENTATION_S = 180.0
"""A presentation is judged (and counted in a norm) once it has run this long."""
MIN_SHOWS = 2
MIN_PRESENTATIONS = 2
MIN_DROP_SHARE, MAX_DROP_SHARE = 0.15, 0.90
USUAL_PERCENTILE = 0.90
HISTORY_SHOWS = 10
"""How many of the brand's most recent ended shows the norms are taken from."""

SETTABLE: dict[str, tuple[float, float]] = {
    "window_min": (2, 15),
    "drop_share": (0.05, 0.95),
    "entries_drop_share": (0.05, 0.95),
    "circle_margin": (0.0, 0.5),
    "conversion_share": (0.05, 1.0),
}
"""What a catalog's ``[prompts]`` may set, with its bounds (the store validates)."""


@dataclass(frozen=True)
class TurnSettings:
    """The thresholds one session's prompts use (the session's ``turn_settings``)."""

    window_min: int = WINDOW_MIN
    drop_share: float = DROP_SHARE
    entries_drop_share: float = ENTRIES_DROP_SHARE
    circle_margin: float = CIRCLE_MARGIN
    conversion_share: float = CONVERSION_SHARE
    conversion_norms: Mapping[str, float] = field(default_factory=dict)
    from_shows: int = 0  # past shows the norms were taken from
    configured: tuple[str, ...] = ()  # which values the session's catalog set

    @property
    def is_default(self) -> bool:
        """Whether a show with these thresholds prompts exactly as one with none logged (the
        defaults, no norm for any product; how many shows were looked at aside)."""
        return replace(self, from_shows=0) == TurnSettings()

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["conversion_norms"] = dict(sorted(self.conversion_norms.items()))
        data["configured"] = list(self.configured)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TurnSettings:
        """From an event's data; a value missing or out of its bounds keeps the default
        (a log is read, never refused)."""
        kept: dict[str, Any] = {}
        for name, (low, high) in SETTABLE.items():
            value = data.get(name)
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and low <= value <= high
            ):
                kept[name] = int(value) if name == "window_min" else float(value)
        norms = data.get("conversion_norms")
        if isinstance(norms, Mapping):
            kept["conversion_norms"] = {
                str(p): float(r)
                for p, r in norms.items()
                if isinstance(r, int | float) and not isinstance(r, bool) and 0 <= r <= 1
            }
        shows = data.get("from_shows")
        if isinstance(shows, int) and not isinstance(shows, bool):
            kept["from_shows"] = max(0, shows)
        configured = data.get("configured")
        if isinstance(configured, list):
            named = (c for c in configured if isinstance(c, str))
            kept["configured"] = tuple(c for c in named if c in SETTABLE)
        return cls(**kept)


@dataclass(frozen=True)
class PresentationResult:
    """One presentation (讲解) as it ended: product, when, base and buyers."""

    product_id: str
    start_ts: float
    end_ts: float
    viewers: int  # distinct members in the room at any time during it
    buyers: int  # of those viewers, the ones who ordered the product during it

    @property
    def judged(self) -> bool:
        return self.end_ts - self.start_ts >= MIN_PRESENTATION_S and self.viewers >= MIN_BASE

    @property
    def conversion(self) -> float:
        return self.buyers / self.viewers if self.viewers else 0.0


@dataclass(frozen=True)
class ShowSummary:
    """What one ended show contributes to the brand's norms."""

    usual_fall: float | None  # None: too short or too small to say
    usual_entries_fall: float | None
    conversions: Mapping[str, tuple[float, ...]]  # product -> judged presentations'

    def to_data(self) -> dict[str, Any]:
        return {
            "usual_fall": self.usual_fall,
            "usual_entries_fall": self.usual_entries_fall,
            "conversions": {p: list(c) for p, c in sorted(self.conversions.items())},
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ShowSummary:
        def share(value: Any) -> float | None:
            return float(value) if isinstance(value, int | float) else None

        conversions = data.get("conversions") or {}
        return cls(
            share(data.get("usual_fall")),
            share(data.get("usual_entries_fall")),
            {str(p): tuple(float(r) for r in rates) for p, rates in conversions.items()},
        )


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (the smallest value with at least ``share`` at or below it)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered) - 1e-9))
    return ordered[rank - 1]


def filled(series: Sequence[tuple[int, int]]) -> list[int]:
    """A per-minute series of (minute, value) as one value a minute from its first to its
    last, a minute missing from it having the value of the newest one before it."""
    if not series:
        return []
    values = dict(series)
    out: list[int] = []
    current = series[0][1]
    for minute in range(series[0][0], series[-1][0] + 1):
        current = values.get(minute, current)
        out.append(current)
    return out


def window_falls(series: Sequence[tuple[int, int]], window_min: int) -> list[float]:
    """Each minute's window fall over a per-minute series of (minute, value) (``filled``)."""
    filled_in = filled(series)
    falls = []
    for i in range(window_min, len(filled_in)):
        before, now = filled_in[i - window_min], filled_in[i]
        if before >= MIN_BASE:
            falls.append(max(0.0, (before - now) / before))
    return falls


def entries_falls(series: Sequence[tuple[int, int]], window_min: int) -> list[float]:
    """Each minute's entries fall, over a series of (minute, entries so far), past the
    show's opening (the window before starts ``window_min`` minutes after the first)."""
    cumulative = filled(series)
    falls = []
    for i in range(3 * window_min, len(cumulative)):
        before = cumulative[i - window_min] - cumulative[i - 2 * window_min]
        now = cumulative[i] - cumulative[i - window_min]
        if before >= MIN_BASE:
            falls.append(max(0.0, (before - now) / before))
    return falls


def summarize(
    online: Sequence[tuple[int, int]],
    entries: Sequence[tuple[int, int]],
    presentations: Iterable[PresentationResult],
    window_min: int = WINDOW_MIN,
) -> ShowSummary:
    """One ended show: its usual falls and its judged presentations' conversions."""
    falls = window_falls(online, window_min)
    entry_falls = entries_falls(entries, window_min)
    conversions: dict[str, list[float]] = {}
    for p in presentations:
        if p.judged:
            conversions.setdefault(p.product_id, []).append(p.conversion)
    return ShowSummary(
        percentile(falls, USUAL_PERCENTILE) if falls else None,
        percentile(entry_falls, USUAL_PERCENTILE) if entry_falls else None,
        {p: tuple(c) for p, c in conversions.items()},
    )


def norm_sources(ended: Sequence[tuple[str, bool]], shows: int = HISTORY_SHOWS) -> list[str]:
    """The shows the norms come from, out of ``ended`` ((id, is a rehearsal), most recent
    first): the real ones, or every one when there are too few real ones."""
    real = [sid for sid, rehearsal in ended if not rehearsal]
    if len(real) >= MIN_SHOWS:
        return real[:shows]
    rehearsals = [sid for sid, rehearsal in ended if rehearsal]
    return real + rehearsals[: max(0, shows - len(real))]


def _bounded(value: float) -> float:
    return min(MAX_DROP_SHARE, max(MIN_DROP_SHARE, value))


def settings_from_history(
    shows: Sequence[ShowSummary], configured: Mapping[str, float] | None = None
) -> TurnSettings:
    """The thresholds for a new session: the brand's norms over ``shows`` (its recent ended
    shows), then whatever the session's catalog set (``configured``, already validated)."""
    settings = TurnSettings(from_shows=len(shows))
    usual = [s.usual_fall for s in shows if s.usual_fall is not None]
    if len(usual) >= MIN_SHOWS:
        settings = replace(settings, drop_share=round(_bounded(median(usual)), 4))
    usual_entries = [s.usual_entries_fall for s in shows if s.usual_entries_fall is not None]
    if len(usual_entries) >= MIN_SHOWS:
        settings = replace(settings, entries_drop_share=round(_bounded(median(usual_entries)), 4))
    pooled: dict[str, list[float]] = {}
    for show in shows:
        for product, rates in show.conversions.items():
            pooled.setdefault(product, []).extend(rates)
    norms = {p: round(median(r), 4) for p, r in pooled.items() if len(r) >= MIN_PRESENTATIONS}
    settings = replace(settings, conversion_norms=norms)
    if configured:
        chosen = {k: v for k, v in configured.items() if k in SETTABLE}
        if "window_min" in chosen:
            chosen["window_min"] = int(chosen["window_min"])
        settings = replace(settings, **chosen, configured=tuple(sorted(chosen)))  # type: ignore[arg-type]
    return settings
