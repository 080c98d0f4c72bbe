"""The room-turn prompts' thresholds for a show going live (场控提示阈值), from the brand's
recent ended shows and the session's catalog (``console.domain.turn_norms`` decides).

Each ended show is summarised once from its log (folded by the domain's reducer) into
``show_summaries``: when it ends, or, for a show that ended before there were summaries,
the first time a later show asks. The thresholds are logged as a ``prompt_settings``
event when the show goes live (``sessions.set_status``), so the live console and the
replay raise the same prompts.
"""

from __future__ import annotations

from typing import Any

import orjson

from console.domain.decisions import NewEvent
from console.domain.events import EventType
from console.domain.room import RoomState
from console.domain.sessions import SessionStatus
from console.domain.turn_norms import (
    HISTORY_SHOWS,
    ShowSummary,
    TurnSettings,
    settings_from_history,
)
from console.domain.turns import show_summary
from console.store.repository import EVENT_COLUMNS, event_of
from console.store.schema import transaction

READ_BATCH = 5_000


def fold_summary(db: Any, sid: str) -> ShowSummary:
    """The show's summary from its whole log."""
    state = RoomState()
    after = 0
    while True:
        rows = db.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE session_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            [sid, after, READ_BATCH],
        ).fetchall()
        if not rows:
            break
        for row in rows:
            state.apply(event_of(row))
        after = state.seq
    return show_summary(state)


def keep_summary(db: Any, sid: str) -> ShowSummary:
    """Fold and keep the summary of an ended show (kept once: a second call writes nothing).
    Outside any transaction: the fold reads, then one short one writes."""
    summary = fold_summary(db, sid)
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO show_summaries (session_id, summary) VALUES (?, ?) "
            "ON CONFLICT (session_id) DO NOTHING",
            [sid, orjson.dumps(summary.to_data()).decode()],
        )
    return summary


def recent_summaries(db: Any, sid: str, shows: int = HISTORY_SHOWS) -> list[ShowSummary]:
    """The summaries of the brand's ``shows`` most recently ended shows other than ``sid``
    that went on air, folding (and keeping) those not summarised yet."""
    rows = db.execute(
        "SELECT s.id, m.summary FROM sessions s "
        "LEFT JOIN show_summaries m ON m.session_id = s.id "
        "WHERE s.status = ? AND s.started_at IS NOT NULL AND s.id <> ? "
        "ORDER BY s.ended_at DESC, s.id LIMIT ?",
        [SessionStatus.ENDED.value, sid, shows],
    ).fetchall()
    found = []
    for other, kept in rows:
        if kept is None:
            found.append(keep_summary(db, other))
        else:
            found.append(ShowSummary.from_data(orjson.loads(kept)))
    return found


def configured_settings(db: Any, sid: str) -> dict[str, float]:
    row = db.execute("SELECT prompt_settings FROM sessions WHERE id = ?", [sid]).fetchone()
    return dict(orjson.loads(row[0])) if row and row[0] else {}


def settings_for(db: Any, sid: str) -> TurnSettings:
    """The thresholds for ``sid`` going live now."""
    return settings_from_history(recent_summaries(db, sid), configured_settings(db, sid))


def settings_event(settings: TurnSettings, now: float) -> NewEvent:
    """The ``prompt_settings`` event a show going live logs."""
    return NewEvent(EventType.PROMPT_SETTINGS, now, settings.to_data())
