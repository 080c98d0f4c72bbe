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
        # The thresholds decided when the show went live (turn_norms.TurnSettings, JSON),
        # fixed from then on: every fold of its log starts from them (room.initial_state).
        "ALTER TABLE sessions ADD COLUMN turn_settings TEXT",
        # What each ended show contributes to the brand's norms (console.domain.turn_norms),
        # folded from its log once; the next shows' thresholds are taken from these.
        """
        CREATE TABLE show_summaries (
            session_id TEXT PRIMARY KEY REFERENCES sessions (id),
            summary TEXT NOT NULL  -- JSON: ShowSummary.to_data()
        )
        """,
    ),
    17: (
        # Reservations (预约) for a session: one row per member, stamped with their circle
        # when they reserved (console.domain.reservations says why a table, not the log).
        """
        CREATE TABLE reservations (
            session_id TEXT NOT NULL REFERENCES sessions(id),
            member_id TEXT NOT NULL REFERENCES members(id),
            segment TEXT,
            source TEXT NOT NULL,  -- api, import, code
            invite_code TEXT NOT NULL DEFAULT '',
            request_id TEXT NOT NULL DEFAULT '',  -- the caller's idempotency key, if any
            reserved_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (session_id, member_id)
        )
        """,
        # Invitations sent (exported) for a session: the monthly cap counts them, the funnel
        # follows their codes (console.domain.invitations).
        """
        CREATE TABLE invitations (
            code TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            member_id TEXT NOT NULL REFERENCES members(id),
            segment TEXT,
            channel TEXT NOT NULL,  -- wecom, sms, group
            point_id TEXT NOT NULL DEFAULT '',
            leader TEXT NOT NULL DEFAULT '',
            month TEXT NOT NULL,  -- calendar month (China time) the cap counts in: 2026-11
            sent_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX invitations_member_month ON invitations (member_id, month)",
        "CREATE INDEX invitations_session ON invitations (session_id, member_id)",
    ),
    18: (
        # A 团长's token (role leader) carries their pickup point; other roles ''.
        "ALTER TABLE tokens ADD COLUMN point_id TEXT NOT NULL DEFAULT ''",
        # Follow-up tasks (余温沉淀 SOP) made from a rule file after a show: one per rule and
        # buyer, its id derived from both (console.domain.followups): made twice, stored once.
        """
        CREATE TABLE followup_tasks (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id),
            rule_id TEXT NOT NULL,
            title TEXT NOT NULL,
            member_id TEXT NOT NULL REFERENCES members(id),
            owner TEXT NOT NULL,  -- operator, leader
            point_id TEXT NOT NULL DEFAULT '',  -- the buyer's pickup point (its 团长 owns it)
            due_at DOUBLE PRECISION NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            done_at DOUBLE PRECISION,
            done_by TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX followup_tasks_session ON followup_tasks (session_id, rule_id)",
        "CREATE INDEX followup_tasks_point ON followup_tasks (point_id, owner)",
        # Pickups (提货) checked off by a 团长, often the day after the show: a row per order,
        # not an event (the log of an ended session takes no more events: append_in).
        """
        CREATE TABLE pickups (
            order_id TEXT PRIMARY KEY REFERENCES live_orders(id),
            session_id TEXT NOT NULL REFERENCES sessions(id),
            point_id TEXT NOT NULL,
            picked_by TEXT NOT NULL,  -- the token's label and point
            picked_at DOUBLE PRECISION NOT NULL
        )
        """,
    ),
}

SCHEMA_VERSION = max(STEPS)
