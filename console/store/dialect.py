"""The few SQL fragments SQLite and PostgreSQL spell differently, side by side.

Everything else the store runs is written once (``->>`` on JSON, ``ON CONFLICT``,
``RETURNING``, ``CAST``), which both accept; ``postgres.PgDatabase`` adapts placeholders.
"""

from __future__ import annotations

from typing import Any

from console.store.postgres import is_postgres


def json_values(db: Any) -> str:
    """A subquery of the values of a JSON array passed as one ``?`` parameter."""
    if is_postgres(db):
        return "(SELECT value FROM json_array_elements_text(CAST(? AS json)))"
    return "(SELECT value FROM json_each(?))"


def group_array(db: Any, column: str, order: str) -> str:
    """An aggregate collecting ``column`` into a JSON array (as text), in ``order``
    (SQLite keeps its subquery's order; PostgreSQL is told)."""
    if is_postgres(db):
        return f"coalesce(CAST(json_agg({column} ORDER BY {order}) AS text), '[]')"
    return f"json_group_array({column})"


def binary(db: Any, column: str) -> str:
    """``column`` compared and sorted by its bytes, as SQLite and Python sort strings
    (PostgreSQL would follow the database's locale)."""
    if is_postgres(db):
        return f'{column} COLLATE "C"'
    return column


def contains(db: Any, haystack: str, needle: str) -> str:
    """``needle`` occurs in ``haystack`` (both SQL expressions)."""
    if is_postgres(db):
        return f"strpos({haystack}, {needle}) > 0"
    return f"instr({haystack}, {needle}) > 0"


def json_is_true(db: Any, column: str, key: str) -> str:
    """The JSON object in ``column`` has ``key`` set to true."""
    if is_postgres(db):
        return f"({column} ->> '{key}') = 'true'"
    return f"({column} ->> '{key}') = 1"
