"""The store on a PostgreSQL server (psycopg 3): a connection that runs the store's SQL.

The store's statements are written once, in the SQL both databases understand, with
SQLite's placeholders (``?`` and ``:name``); ``PgDatabase`` rewrites the placeholders for
psycopg and reads values back as SQLite would hand them to Python (JSON as text, whole
sums as ``int``), so the code above it does not branch on the backend. The few statements
the two dialects spell differently ask ``is_postgres(db)``.

Writes keep SQLite's rule "one writer at a time" across store processes: a write
transaction takes a transaction-level advisory lock (``WRITE_LOCK``), so the checks a
decision makes (stock, limits, idempotency keys) still hold when it commits. Orders and
commands stay exactly-once and never oversell, whichever process took them.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Dumper, Loader
from psycopg.rows import dict_row
from psycopg.types.string import TextLoader

DIALECT = "postgresql"
WRITE_LOCK = 0x5354_4F52_4557  # "STOREW": every write transaction holds it to commit
JOBS_LOCK = 0x5354_4F52_454A  # "STOREJ": the one process running the background jobs
NOTIFY_CHANNEL = "store_events"
IntegrityError = psycopg.IntegrityError


class _IntOrFloatLoader(Loader):
    """``numeric`` (what ``sum`` of integers gives) as SQLite would: int when whole."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data).decode()
        if "." in text or "e" in text or "N" in text:
            return float(text)
        return int(text)


class _BoolAsIntDumper(Dumper):
    """Python's True/False into the integer 0/1 columns (SQLite's flags)."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: Any) -> Buffer:
        return b"1" if obj else b"0"


class _BytesAsTextDumper(Dumper):
    """``bytes`` (orjson's output) as text of unknown type, cast where it is used: the
    store keeps no binary data, and sqlite3 takes JSON bytes the same way."""

    def dump(self, obj: Any) -> Buffer:
        return bytes(obj)


def pg_configure(conn: psycopg.Connection[Any]) -> None:
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    conn.adapters.register_loader("numeric", _IntOrFloatLoader)
    conn.adapters.register_dumper(bool, _BoolAsIntDumper)
    conn.adapters.register_dumper(bytes, _BytesAsTextDumper)


_TOKEN = re.compile(
    r"""
    (?P<literal>'(?:[^']|'')*')          # a string literal, copied as is
  | (?P<ident>"(?:[^"]|"")*")            # a quoted identifier
  | (?P<comment>--[^\n]*)                # a comment
  | (?P<cast>::)                         # PostgreSQL's cast, not a placeholder
  | (?P<named>:(?P<name>[A-Za-z_]\w*))   # :name
  | (?P<positional>\?)                   # ?
  | (?P<percent>%)                       # psycopg's own marker, escaped
    """,
    re.VERBOSE,
)


@functools.lru_cache(maxsize=1024)
def pyformat(sql: str) -> str:
    """SQLite's placeholders (``?``, ``:name``) as psycopg's (``%s``, ``%(name)s``)."""

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup
        text = match.group(0)
        if kind == "name":  # the inner group of "named"
            kind = "named"
        if kind == "named":
            return f"%({match.group('name')})s"
        if kind == "positional":
            return "%s"
        if kind in ("literal", "ident", "comment"):
            return text.replace("%", "%%")
        if kind == "percent":
            return "%%"
        return text

    return _TOKEN.sub(replace, sql)


class PgDatabase:
    """One PostgreSQL connection in autocommit mode, with SQLite's calling conventions:
    ``execute`` returns a cursor (``fetchone``, ``fetchall``, iteration, ``rowcount``);
    ``BEGIN`` ... ``COMMIT`` are issued by ``transaction``, as on SQLite."""

    dialect = DIALECT

    def __init__(self, conn: psycopg.Connection[Any], url: str) -> None:
        self._conn = conn
        self.url = url
        self._pipeline: psycopg.Pipeline | None = None
        self._prefetched: dict[tuple[str, tuple[Any, ...]], psycopg.Cursor[Any]] = {}

    @classmethod
    def connect(cls, url: str) -> PgDatabase:
        conn = psycopg.connect(url, autocommit=True)
        pg_configure(conn)
        return cls(conn, url)

    @property
    def conn(self) -> PgDatabase:
        """Itself: code written for sqlite3 reaches the connection through ``db.conn``."""
        return self

    @property
    def raw(self) -> psycopg.Connection[Any]:
        return self._conn

    def execute(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> psycopg.Cursor[Any]:
        if self._prefetched and isinstance(params, list | tuple):
            ready = self._prefetched.pop((sql, tuple(params)), None)
            if ready is not None:
                return ready
        cursor = self._conn.cursor()
        if params is None:
            cursor.execute(sql.encode())  # no parameters: psycopg leaves % alone
        else:
            cursor.execute(pyformat(sql).encode(), params)
        return cursor

    def executemany(
        self, sql: str, params: Iterable[Sequence[Any] | Mapping[str, Any]]
    ) -> psycopg.Cursor[Any]:
        cursor = self._conn.cursor()
        cursor.executemany(pyformat(sql).encode(), list(params))
        if self._pipeline is not None:
            self._pipeline.sync()  # its rowcount is the sum once every answer is in
        return cursor

    def query(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        with self._conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(pyformat(sql).encode(), params)
            yield from cursor

    @contextmanager
    def transaction(self, pipeline: bool = True) -> Iterator[PgDatabase]:
        """All of it commits or none of it, holding the store's write lock (see module).

        In pipeline mode: statements whose results nobody reads (the lock, inserts,
        updates, the notification, COMMIT) go out without waiting for each answer, so a
        transaction costs about one round trip per read instead of one per statement. A
        read waits for everything before it; ``sync`` waits where an error must surface
        at once (``repository.append_in`` catches a duplicate id)."""
        if not pipeline:  # DDL scripts, COPY: not in a pipeline
            with self._plain_transaction():
                yield self
            return
        try:
            with self._conn.pipeline() as queue:
                self._pipeline = queue
                self._conn.execute("BEGIN")
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                try:
                    yield self
                except BaseException:
                    self._rollback(queue)
                    raise
                self._conn.execute("COMMIT")
        except BaseException:
            # A queued write that failed surfaces only here, with the pipeline's end: the
            # server skipped the COMMIT and holds an aborted transaction; end it, or the
            # next transaction on this connection would fail for nothing.
            self._end_aborted()
            raise
        finally:
            self._pipeline = None

    def _end_aborted(self) -> None:
        if self._conn.closed:
            return
        if self._conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("ROLLBACK")

    @contextmanager
    def _plain_transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN")
        try:
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            yield
        except BaseException:
            if not self._conn.closed:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _rollback(self, pipeline: psycopg.Pipeline) -> None:
        if self._conn.closed:
            return
        # An error still queued surfaces here; the one being raised already says what failed.
        with contextlib.suppress(psycopg.Error):
            pipeline.sync()
        self._conn.execute("ROLLBACK")

    @contextmanager
    def prefetched(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> Iterator[None]:
        """Send these reads at once (in a transaction's pipeline): each ``execute`` of the
        very same statement and parameters inside the block gets its answer without another
        round trip. Only a hint: anything else runs as usual. Use it only around reads,
        since a prefetched answer is as of the block's start."""
        if self._pipeline is not None:
            for sql, params in statements:
                key = (sql, tuple(params))
                if key not in self._prefetched:
                    cursor = self._conn.cursor()
                    cursor.execute(pyformat(sql).encode(), params)
                    self._prefetched[key] = cursor
        try:
            yield
        finally:
            self._prefetched.clear()

    def sync(self) -> None:
        """Wait for every statement sent so far (raising its error, if any)."""
        if self._pipeline is not None:
            self._pipeline.sync()

    def close(self) -> None:
        self._conn.close()


def notify_appended(db: Any, sid: str, last_seq: int) -> None:
    """Tell every store process the session's log grew to ``last_seq`` (on PostgreSQL;
    sent at commit, so a listener reads it committed). SQLite's writer needs no telling."""
    if is_postgres(db):
        db.raw.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, f"{last_seq}:{sid}"])


@contextmanager
def prefetched(db: Any, statements: Iterable[tuple[str, Sequence[Any]]]) -> Iterator[None]:
    """``PgDatabase.prefetched`` on PostgreSQL; nothing on SQLite (no round trips there)."""
    if is_postgres(db):
        with db.prefetched(statements):
            yield
    else:
        yield


def sync(db: Any) -> None:
    """``PgDatabase.sync`` on PostgreSQL; SQLite runs each statement as it is called."""
    if is_postgres(db):
        db.sync()


def parse_notification(payload: str) -> tuple[str, int] | None:
    """``(session id, last seq)`` from a ``notify_appended`` payload, or None if garbled."""
    seq, sep, sid = payload.partition(":")
    if not sep or not seq.isascii() or not seq.isdigit():
        return None
    return sid, int(seq)


def is_postgres(db: Any) -> bool:
    return getattr(db, "dialect", None) == DIALECT


def create_database(admin_url: str, name: str) -> None:
    """``CREATE DATABASE name`` through ``admin_url`` (tests, benchmarks)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
