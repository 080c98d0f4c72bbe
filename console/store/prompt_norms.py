"""The room-turn prompts' thresholds for a show going live (场控提示阈值), from the brand's
recent ended shows and the session's catalog (``console.domain.turn_norms`` decides).

Each ended show is summarised once from its log (folded by the domain's reducer) into
``show_summaries``: when it ends, or, for a show that ended before there were summaries,
the first time a later show asks. The thresholds are fixed when the show goes live
(``sessions.set_status``: ``sessions.turn_settings``, in the session's JSON) and every fold
of its log starts from them (``room.initial_state``), so the live console, the store's
index, the replay and the report raise the same prompts. Kept with the session, not as an
event: a store-written first event would shift every seq a platform's client expects.
"""

from __future__ import annotations

from typing import Any

import orjson

from console.domain.room import initial_state
from console.domain.session_clock import SessionClock, parse_clock
from console.domain.sessions import SessionStatus
from console.domain.turn_norms import (
    HISTORY_SHOWS,
    ShowSummary,
    TurnSettings,
    norm_sources,
    settings_from_history,
)
from console.domain.turns import show_summary
from console.store.repository import EVENT_COLUMNS, event_of
from console.store.schema import transaction

READ_BATCH = 5_000
CANDIDATES = 200  # recent ended shows looked at to find the real ones among rehearsals


def session_settings(db: Any, sid: str) -> dict[str, Any]:
    """What the show went live with (``TurnSettings.to_data``; {}: not live yet)."""
    row = db.execute("SELECT turn_settings FROM sessions WHERE id = ?", [sid]).fetchone()
    return dict(orjson.loads(row[0])) if row and row[0] else {}


def fold_summary(db: Any, sid: str) -> ShowSummary:
    """The show's summary from its whole log."""
    state = initial_state({"turn_settings": session_settings(db, sid)})
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
    """The summaries of the brand's most recent ended shows that went on air, other than
    ``sid``, as ``turn_norms.norm_sources`` picks them (real shows before rehearsals),
    folding (and keeping) those not summarised yet."""
    rows = db.execute(
        "SELECT s.id, s.clock, m.summary FROM sessions s "
        "LEFT JOIN show_summaries m ON m.session_id = s.id "
        "WHERE s.status = ? AND s.started_at IS NOT NULL AND s.id <> ? "
        "ORDER BY s.ended_at DESC, s.id LIMIT ?",
        [SessionStatus.ENDED.value, sid, CANDIDATES],
    ).fetchall()
    kept = {other: summary for other, _, summary in rows}
    chosen = norm_sources(
        [(other, parse_clock(clock) is SessionClock.REHEARSAL) for other, clock, _ in rows],
        shows,
    )
    found = []
    for other in chosen:
        if kept[other] is None:
            found.append(keep_summary(db, other))
        else:
            found.append(ShowSummary.from_data(orjson.loads(kept[other])))
    return found


def configured_settings(db: Any, sid: str) -> dict[str, float]:
    row = db.execute("SELECT prompt_settings FROM sessions WHERE id = ?", [sid]).fetchone()
    return dict(orjson.loads(row[0])) if row and row[0] else {}


def settings_for(db: Any, sid: str) -> TurnSettings:
    """The thresholds for ``sid`` going live now."""
    return settings_from_history(recent_summaries(db, sid), configured_settings(db, sid))


def fix_settings(conn: Any, sid: str, settings: TurnSettings) -> None:
    """Keep the thresholds ``sid`` goes live with (inside the status change's transaction)."""
    conn.execute(
        "UPDATE sessions SET turn_settings = ? WHERE id = ?",
        [orjson.dumps(settings.to_data()).decode(), sid],
    )
