"""Schema steps after version 13, written once in SQL that SQLite and PostgreSQL both run
(mind the types: DOUBLE PRECISION, not REAL, which is 4 bytes on PostgreSQL; BIGINT).

``STEPS[n]`` turns a version ``n - 1`` database into version ``n``; ``schema.open_store``
applies them in order inside one transaction each, on either backend.
"""

from __future__ import annotations

STEPS: dict[int, tuple[str, ...]] = {
    14: (
        # Which store process runs the background jobs (segmentation schedule, 接龙
        # deadlines, override expiry, replay indexing): one row, for operators and checks.
        """
        CREATE TABLE job_runner (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            holder TEXT NOT NULL,  -- host:pid of the process holding the jobs
            since DOUBLE PRECISION NOT NULL  -- REAL would be 4 bytes on PostgreSQL
        )
        """,
    ),
    15: (
        # The flash-sale timer (about every second) and each order look for a session's
        # 秒杀 events: a small index of only those, not a scan of the whole log.
        """
        CREATE INDEX events_flash ON events (type, session_id, seq)
        WHERE type IN ('flash_sale_started', 'flash_sale_ended')
        """,
    ),
    16: (
        # The room-turn prompts' thresholds a session's catalog set ([prompts], JSON).
        "ALTER TABLE sessions ADD COLUMN prompt_settings TEXT",
        # What each ended show contributes to the brand's norms (console.domain.turn_norms),
        # folded from its log once; the next shows' thresholds are taken from these.
        """
        CREATE TABLE show_summaries (
            session_id TEXT PRIMARY KEY REFERENCES sessions (id),
            summary TEXT NOT NULL  -- JSON: ShowSummary.to_data()
        )
        """,
    ),
}

SCHEMA_VERSION = max(STEPS)
