"""Reads and writes of sessions, members and the per-session event log.

Appends are idempotent on the event id and gapless in ``seq``: duplicates (already stored,
or repeated inside one batch) are acknowledged and skipped before numbering, and the whole
batch commits in one transaction.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlite_utils

from console.domain.decisions import NewEvent, Refused
from console.domain.events import Event, EventType
from console.domain.segments import parse_segment
from console.domain.session_clock import SessionClock
from console.domain.sessions import (
    OffAir,
    SessionStatus,
    admit_platform_events,
    parse_status,
    require_live,
)
from console.store.dialect import json_values
from console.store.postgres import IntegrityError as PgIntegrityError
from console.store.postgres import is_postgres, notify_appended, sync
from console.store.schema import sql_mask_name, transaction

LIVE = SessionStatus.LIVE.value
INTEGRITY_ERRORS = (sqlite3.IntegrityError, PgIntegrityError)
# Event times are kept to the millisecond: SQLite's JSON output has 15 significant digits,
# and epoch milliseconds fit, so the log reads back exactly as the reducer folded it.
TS_DECIMALS = 3


LiveAppend = Callable[[sqlite3.Connection, str, Sequence[Mapping[str, Any]]], "AppendResult"]


class NotFound(LookupError):
    """A named thing (session, member) does not exist; ``field`` names what the caller gave
    for it (``sid``, ``session``, ``member_id``; ``id`` when nothing better is known), the
    field the 404 names (``errors.not_found_handler``)."""

    def __init__(self, message: str, field: str = "id") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class AppendResult:
    accepted: int
    duplicates: int
    last_seq: int


class OffAirRefused(Refused):
    """Platform events refused because the session is not live; they were counted (the
    count is committed, so the refusal is raised after the transaction)."""


# -- sessions ----------------------------------------------------------------------------


def new_session_id() -> str:
    return "s_" + secrets.token_hex(5)


def create_session(
    db: sqlite_utils.Database,
    title: str,
    scenario: str | None = None,
    audience: Mapping[str, Any] | None = None,
    clock: SessionClock = SessionClock.WALL,
) -> dict[str, Any]:
    row = {
        "id": new_session_id(),
        "title": title,
        "status": SessionStatus.SCHEDULED.value,
        "scenario": scenario,
        "audience": orjson.dumps(audience or {}).decode(),
        "created_at": time.time(),
        "started_at": None,
        "ended_at": None,
        "last_seq": 0,
        "clock": clock.value,
    }
    columns = ", ".join(row)
    db.execute(
        f"INSERT INTO sessions ({columns}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return session_json({**row, **{f"{kind.value}_events": 0 for kind in OffAir}})


def session_json(row: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(row)
    result["audience"] = orjson.loads(row["audience"] or "{}")
    # What the catalog's [prompts] set (shares; {}: the brand's norms, logged at go-live).
    result["prompt_settings"] = orjson.loads(row.get("prompt_settings") or "{}")
    # The thresholds the show went live with ({}: not live yet; room.initial_state).
    result["turn_settings"] = orjson.loads(row.get("turn_settings") or "{}")
    return result


# A session with the platform events it refused, apart from its log: ``early_events``
# (before the show) and ``late_events`` (after it).
_SESSION_ROWS = "SELECT s.*, " + ", ".join(
    "(SELECT count(*) FROM off_air_events AS o WHERE o.session_id = s.id "
    f"AND o.off_air = '{kind.value}') AS {kind.value}_events"
    for kind in OffAir
)


def get_session(db: sqlite_utils.Database, sid: str) -> dict[str, Any]:
    rows = list(db.query(f"{_SESSION_ROWS} FROM sessions AS s WHERE s.id = ?", [sid]))
    if not rows:
        raise NotFound(f"没有这场直播：{sid!r}", field="sid")
    return session_json(rows[0])


def session_created_at(db: sqlite_utils.Database, sid: str) -> float:
    """When the session was created (an indexed single-row read)."""
    row = db.execute("SELECT created_at FROM sessions WHERE id = ?", [sid]).fetchone()
    if row is None:
        raise NotFound(f"没有这场直播：{sid!r}", field="sid")
    return float(row[0])


def list_sessions(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return [
        session_json(row)
        for row in db.query(f"{_SESSION_ROWS} FROM sessions AS s ORDER BY created_at DESC, id")
    ]


def session_status(conn: sqlite3.Connection, sid: str) -> SessionStatus | None:
    row = conn.execute("SELECT status FROM sessions WHERE id = ?", [sid]).fetchone()
    return None if row is None else parse_status(row[0])


def write_status(conn: sqlite3.Connection, sid: str, status: SessionStatus, now: float) -> None:
    """Record a status the operator's call decided (``sessions.change_status``)."""
    started = now if status is SessionStatus.LIVE else None
    ended = now if status is SessionStatus.ENDED else None
    conn.execute(
        "UPDATE sessions SET status = ?, started_at = coalesce(started_at, ?), "
        "ended_at = coalesce(ended_at, ?) WHERE id = ?",
        [status.value, started, ended, sid],
    )


# -- members -----------------------------------------------------------------------------


def live_session_count(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT count(*) FROM sessions WHERE status = ?", [LIVE]).fetchone()[0])


def count_members(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT count(*) FROM members").fetchone()[0])


# -- the event log -----------------------------------------------------------------------

# One statement appends a whole batch: SQLite walks the JSON array in C, numbers the events
# after the session's last seq, and stamps each with its member's segment, KOC flag and
# masked nick (a guest's own nick is masked by the registered mask_name function). Being a
# single sqlite3_step, it runs without the GIL, so the event loop meanwhile parses and
# validates the next batch.
_APPEND_BATCH = f"""
INSERT INTO events (session_id, seq, event_id, type, ts, member_id, segment, koc, nick, data,
                    received_at, opted_out)
SELECT :sid, :last_seq + e.key + 1,
       json_extract(e.value, '$.id'),
       json_extract(e.value, '$.type'),
       round(json_extract(e.value, '$.ts'), {TS_DECIMALS}),
       json_extract(e.value, '$.member_id'),
       m.segment,
       coalesce(m.koc, 0),
       coalesce(m.nick, mask_name(json_extract(e.value, '$.data.nick')),
                mask_name(json_extract(e.value, '$.data.platform_user.nick')), ''),
       CASE json_type(e.value, '$.data') WHEN 'object' THEN json_extract(e.value, '$.data')
            ELSE '{{}}' END,
       :now,
       coalesce(m.opted_out, 0)
FROM json_each(:events) AS e
LEFT JOIN members AS m ON m.id = json_extract(e.value, '$.member_id')
"""

# The same on PostgreSQL: each event is read into typed columns once (json_to_recordset;
# ->> on json would parse the event again for every field), and guests' nicks arrive
# masked in Python (``_guest_nick``).
_APPEND_BATCH_PG = f"""
INSERT INTO events (session_id, seq, event_id, type, ts, member_id, segment, koc, nick, data,
                    received_at, opted_out)
SELECT :sid, :last_seq + e.n,
       e.id,
       e.type,
       CAST(round(e.ts, {TS_DECIMALS}) AS double precision),
       e.member_id,
       m.segment,
       coalesce(m.koc, 0),
       coalesce(m.nick, e._guest_nick, ''),
       CASE json_typeof(e.data) WHEN 'object' THEN e.data ELSE CAST('{{}}' AS json) END,
       :now,
       coalesce(m.opted_out, 0)
FROM ROWS FROM (json_to_recordset(CAST(:events AS json))
                AS (id text, type text, ts numeric, member_id text, data json,
                    _guest_nick text)) WITH ORDINALITY
     AS e(id, type, ts, member_id, data, _guest_nick, n)
LEFT JOIN members AS m ON m.id = e.member_id
"""

# A member's first share in a session issues their referral code (推荐码): orders naming it
# are credited to them. Random, so nobody can guess another member's code.
_ISSUE_REFERRAL_CODE = """
INSERT INTO referral_codes (code, session_id, member_id)
SELECT ?, ?, id FROM members WHERE id = ?
ON CONFLICT DO NOTHING
"""


def append_events(
    db: sqlite_utils.Database,
    sid: str,
    events: Sequence[Mapping[str, Any]],
    originals: Mapping[str, Mapping[str, Any]] | None = None,
    append_live: LiveAppend | None = None,
) -> AppendResult:
    """Store validated incoming events after the session's last ``seq``, in one transaction.

    Each new event is stamped with the member's current segment, KOC flag and masked
    display name, so the log keeps telling the truth after later re-segmentation. Events
    whose id is already stored (or repeated in the batch) are acknowledged, not stored.
    ``originals`` (event id -> data as sent, before redaction) go to the operator's table.

    Only a live session takes new events (``sessions.admit_platform_events``): otherwise
    they are counted as early or late, nothing else changes, and ``OffAirRefused`` is
    raised once the count is committed. A batch of repeats only is acknowledged as such.
    ``append_live`` appends them to a live session (default ``append_in``; a rehearsal's
    ends its 接龙 between them, ``rehearsal.ingest``).
    """
    append_live = append_live or append_in
    with transaction(db) as conn:
        status = session_status(conn, sid)
        if status is None:
            raise NotFound(f"没有这场直播：{sid!r}", field="sid")
        # A live session takes append_in's fast path, which sorts out repeats itself.
        fresh = events if status is SessionStatus.LIVE else _without_stored(conn, sid, events)
        admission = admit_platform_events(status, len(fresh))
        if admission.off_air is not None:
            _count_off_air(conn, sid, fresh, admission.off_air)
        elif not fresh:
            return AppendResult(0, len(events), _last_seq(conn, sid))
        else:
            result = append_live(conn, sid, events)
            keep_originals(conn, sid, originals or {})
            return result
    refusal = admission.refusal
    assert refusal is not None
    raise OffAirRefused(refusal.kind, refusal.field, refusal.reason)


def keep_originals(
    conn: sqlite3.Connection, sid: str, originals: Mapping[str, Mapping[str, Any]]
) -> None:
    """What the platform sent before redaction, for the operator only (event id -> data)."""
    if originals:
        conn.executemany(
            "INSERT INTO event_originals (session_id, event_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(sid, event_id, orjson.dumps(data).decode()) for event_id, data in originals.items()],
        )


def _count_off_air(
    conn: sqlite3.Connection, sid: str, events: Sequence[Mapping[str, Any]], off_air: OffAir
) -> None:
    """Keep the refused events by id, type and time only (no member, no text): counted
    once per id however often a platform resends them."""
    now = time.time()
    conn.executemany(
        "INSERT INTO off_air_events "
        "(session_id, event_id, off_air, type, ts, received_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(sid, e["id"], off_air.value, e["type"], e["ts"], now) for e in events],
    )


def _last_seq(conn: sqlite3.Connection, sid: str) -> int:
    return int(conn.execute("SELECT last_seq FROM sessions WHERE id = ?", [sid]).fetchone()[0])


def append_new(
    conn: sqlite3.Connection, sid: str, events: Sequence[NewEvent], ids: Sequence[str] = ()
) -> AppendResult:
    """Append events a decision returned, with ``ids`` or fresh random ones (the request's
    idempotency key or command id, not the event id, guards against repeats)."""
    raw = [
        e.to_raw(ids[n] if n < len(ids) else f"{e.type.value}-{secrets.token_hex(8)}")
        for n, e in enumerate(events)
    ]
    return append_in(conn, sid, raw)


def append_in(
    conn: sqlite3.Connection, sid: str, events: Sequence[Mapping[str, Any]]
) -> AppendResult:
    """``append_events`` inside a transaction the caller holds (orders, commands), into a
    live session only (the caller has asked its decision; this is the last guard)."""
    now = time.time()
    row = conn.execute("SELECT last_seq, status FROM sessions WHERE id = ?", [sid]).fetchone()
    if row is None:
        raise NotFound(f"没有这场直播：{sid!r}", field="sid")
    last_seq = int(row[0])
    if events:
        # Whatever the path (ingest, an order, a command, a chain's deadline), nothing goes
        # into the log of a session that is not live.
        require_live(parse_status(row[1]))
    fresh = list(events)
    params = {"sid": sid, "last_seq": last_seq, "now": now}
    conn.execute("SAVEPOINT append")
    try:
        # Fast path: a batch without repeats; the unique index catches any.
        if fresh:
            _append_batch(conn, params, fresh)
            sync(conn)  # on PostgreSQL a duplicate id is only known once the insert is done
    except INTEGRITY_ERRORS:
        conn.execute("ROLLBACK TO append")
        fresh = _without_stored(conn, sid, events)
        if fresh:
            _append_batch(conn, params, fresh)
    conn.execute("RELEASE append")
    seq = last_seq + len(fresh)
    if fresh:
        # Only the seq moves: an event never starts (or ends) the show, the operator does.
        conn.execute("UPDATE sessions SET last_seq = ? WHERE id = ?", [seq, sid])
        notify_appended(conn, sid, seq)
    return AppendResult(len(fresh), len(events) - len(fresh), seq)


def _append_batch(
    conn: sqlite3.Connection, params: dict[str, Any], events: Sequence[Mapping[str, Any]]
) -> None:
    # A platform viewer who is not a member (member_id null) gets no referral code.
    sharers = {
        str(e["member_id"]) for e in events if e.get("type") == "share" and e.get("member_id")
    }
    if sharers:
        conn.executemany(
            _ISSUE_REFERRAL_CODE,
            [("R" + secrets.token_hex(5).upper(), params["sid"], m) for m in sorted(sharers)],
        )
    if is_postgres(conn):
        guests = [{**e, "_guest_nick": _guest_nick(e)} for e in events]
        conn.execute(_APPEND_BATCH_PG, {**params, "events": orjson.dumps(guests).decode()})
    else:
        conn.execute(_APPEND_BATCH, {**params, "events": orjson.dumps(events)})


def _guest_nick(event: Mapping[str, Any]) -> str | None:
    """What SQLite's ``mask_name`` calls in ``_APPEND_BATCH`` give a guest (no member)."""
    data = event.get("data")
    if not isinstance(data, dict):
        return None
    user = data.get("platform_user")
    for name in (data.get("nick"), user.get("nick") if isinstance(user, dict) else None):
        masked = sql_mask_name(name)
        if masked is not None:
            return masked
    return None


def _without_stored(
    conn: sqlite3.Connection, sid: str, events: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """``events`` minus those already in the log and minus repeats within the batch."""
    seen = {
        r[0]
        for r in conn.execute(
            f"SELECT event_id FROM events WHERE session_id = ? AND event_id IN {json_values(conn)}",
            [sid, orjson.dumps([e["id"] for e in events])],
        )
    }
    fresh = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            fresh.append(event)
    return fresh


_EVENT_JSON = """
json_object('seq', seq, 'id', event_id, 'type', type, 'ts', ts, 'member_id', member_id,
            'segment', segment, 'koc', json(CASE koc WHEN 0 THEN 'false' ELSE 'true' END),
            'nick', nick, 'data', json(data),
            'opted_out', json(CASE opted_out WHEN 0 THEN 'false' ELSE 'true' END))
"""


_EVENT_JSON_PG = """
CAST(json_build_object('seq', seq, 'id', event_id, 'type', type, 'ts', ts,
                       'member_id', member_id, 'segment', segment, 'koc', koc <> 0,
                       'nick', nick, 'data', data, 'opted_out', opted_out <> 0) AS text)
"""


def read_events_json(db: Any, sid: str, after: int, limit: int) -> list[tuple[int, str]]:
    """``(seq, event as JSON text)`` after ``after``, in order, built by the database."""
    built = _EVENT_JSON_PG if is_postgres(db) else _EVENT_JSON
    return [
        (int(r[0]), r[1])
        for r in db.execute(
            f"SELECT seq, {built} FROM events WHERE session_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            [sid, after, limit],
        )
    ]


def reveal_originals(
    db: sqlite_utils.Database, sid: str, rows: list[tuple[int, str]]
) -> list[tuple[int, str]]:
    """The rows with each event's data as the platform sent it, where it was redacted
    (the operator's view only)."""
    if not rows:
        return rows
    originals = dict(
        db.execute(
            "SELECT o.event_id, o.data FROM event_originals AS o JOIN events AS e "
            "ON e.session_id = o.session_id AND e.event_id = o.event_id "
            "WHERE o.session_id = ? AND e.seq > ? AND e.seq <= ?",
            [sid, rows[0][0] - 1, rows[-1][0]],
        ).fetchall()
    )
    if not originals:
        return rows
    revealed = []
    for seq, text in rows:
        event = orjson.loads(text)
        sent = originals.get(event.get("id"))
        if sent is not None:
            event["data"] = orjson.loads(sent)
        revealed.append((seq, text if sent is None else orjson.dumps(event).decode()))
    return revealed


EVENT_COLUMNS = "seq, event_id, type, ts, member_id, segment, koc, nick, data, opted_out"
"""An ``events`` row as ``event_of`` reads it."""


def event_of(row: Sequence[Any]) -> Event:
    """A stored event (selected as ``EVENT_COLUMNS``) as the domain's ``Event``."""
    return Event(
        seq=row[0],
        id=row[1],
        type=EventType(row[2]),
        ts=row[3],
        member_id=row[4],
        segment=parse_segment(row[5]),
        koc=bool(row[6]),
        nick=row[7],
        data=orjson.loads(row[8]),
        opted_out=bool(row[9]),
    )


def read_events(db: sqlite_utils.Database, sid: str, after: int, limit: int) -> list[Event]:
    """Stored events after ``after`` as domain objects, in order."""
    return [
        event_of(r)
        for r in db.execute(
            f"SELECT {EVENT_COLUMNS} FROM events "
            "WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            [sid, after, limit],
        )
    ]


def referral_code(db: Any, sid: str, member_id: str) -> str | None:
    """The code a member was issued at their first share in the session, if they shared."""
    row = db.execute(
        "SELECT code FROM referral_codes WHERE session_id = ? AND member_id = ?", [sid, member_id]
    ).fetchone()
    return None if row is None else str(row[0])


def last_seq(db: sqlite_utils.Database, sid: str) -> int:
    row = db.execute("SELECT last_seq FROM sessions WHERE id = ?", [sid]).fetchone()
    if row is None:
        raise NotFound(f"没有这场直播：{sid!r}", field="sid")
    return int(row[0])
