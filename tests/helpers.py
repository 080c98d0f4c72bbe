"""Real parts for tests: a store process on 127.0.0.1 with a real SQLite file, and waiting
for a condition with a deadline (never a fixed sleep; in Qt tests, ``qtbot.waitUntil``)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from httpx_sse import EventSource, connect_sse

from console.demo import seed_demo
from console.domain.sessions import SessionStatus
from console.store import auth, repository, sessions
from console.store.schema import connect, open_store
from console.store.server import READY_PREFIX
from console.store.target import parse_target
from tests.backends import postgres_admin_url, store_target

ROOT = Path(__file__).resolve().parent.parent
MAIN_PY = ROOT / "main.py"
_ids = itertools.count(1)
T = TypeVar("T")
WAIT_TIMEOUT_S = 30.0  # generous: a deadline is there to fail a stuck test, not to time it
POLL_S = 0.02
Message = str | Callable[[], str]


def _timed_out(timeout: float, message: Message) -> AssertionError:
    text = message() if callable(message) else message
    return AssertionError(f"not reached within {timeout:g} s: {text}")


def wait_for(
    condition: Callable[[], object], timeout: float = WAIT_TIMEOUT_S, message: Message = ""
) -> None:
    """Poll ``condition`` until it is true; fail with ``message`` (a string, or a callable
    that says how far things got) once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise _timed_out(timeout, message)
        time.sleep(POLL_S)


async def wait_for_async(
    condition: Callable[[], object], timeout: float = WAIT_TIMEOUT_S, message: Message = ""
) -> None:
    """``wait_for`` inside an event loop: polls without blocking it."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise _timed_out(timeout, message)
        await asyncio.sleep(POLL_S)


_SEEDED: list[str] = []


def copy_seeded_demo(db_path: Path | str) -> str:
    """A store with the demo data, as ``seed_demo`` makes it, at ``db_path`` (a SQLite
    file); returns where it is. Seeded once per test process (import and segmentation take
    a second), then copied: with SQLite's backup API, or on PostgreSQL (the tests' second
    pass, ``tests.backends``) as a new database made from the seeded one as template."""
    admin = postgres_admin_url()
    if admin is not None:
        return _copy_seeded_postgres(admin)
    if not _SEEDED:
        folder = tempfile.mkdtemp(prefix="seeded-demo-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = Path(folder) / "demo.db"
        seed_demo(template)
        _SEEDED.append(str(template))
    with sqlite3.connect(_SEEDED[0]) as source, sqlite3.connect(db_path) as target:
        source.backup(target)
    source.close()
    target.close()
    return str(db_path)


def _copy_seeded_postgres(admin: str) -> str:
    import psycopg
    from psycopg import sql

    if not _SEEDED:
        template = store_target(Path("unused"))
        seed_demo(parse_target(template))
        _SEEDED.append(template)
    template_name = urlsplit(_SEEDED[0]).path.lstrip("/")
    copy = "t_" + uuid.uuid4().hex
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(copy), sql.Identifier(template_name)
            )
        )
    return urlunsplit(urlsplit(admin)._replace(path="/" + copy))


@contextlib.contextmanager
def open_db(target: Path | str) -> Iterator[Any]:
    """A connection to a test's store (a SQLite file or a PostgreSQL URL), closed after;
    the store's SQL (``?`` placeholders) runs on either. Each statement commits."""
    db = connect(target)
    try:
        yield db.conn  # sqlite3's own connection (executemany too), or the PgDatabase
    finally:
        db.close()


# Stores are forked from a process that has imported them (tests/store_forker.py): 0.1 s a
# start instead of 1.5 s. TEST_STORE_FORK=0 starts each with ``python main.py serve``.
FORK_STORES = os.environ.get("TEST_STORE_FORK", "1") != "0"


class ForkedStore:
    """A store forked by the fork server: what ``StoreProcess`` uses of ``Popen``. Its exit
    status is not known here (the server reaps it); ``wait`` waits for it to be gone."""

    def __init__(self, pid: int, stdout: Any) -> None:
        self.pid = pid
        self.stdout = stdout

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        return None

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"store {self.pid}", timeout or 0)
            time.sleep(0.005)
        return 0


class _Forker:
    """The fork server (tests/store_forker.py), one per test process, started on first use;
    it ends when this process does (its socket closes)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.store_forker", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
        )
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()

    def start(self, args: list[str]) -> ForkedStore:
        request = {"argv": args, "env": dict(os.environ), "cwd": str(ROOT)}
        read_end, write_end = os.pipe()
        try:
            with self.lock:
                socket.send_fds(self.sock, [json.dumps(request).encode()], [write_end, 2])
                answer = self.sock.recv(64)
        finally:
            os.close(write_end)
        if not answer:
            os.close(read_end)
            raise RuntimeError("the store fork server is gone")
        return ForkedStore(int(answer), open(read_end, encoding="utf-8"))


_FORKER: list[_Forker] = []
_FORKER_LOCK = threading.Lock()


def _forker() -> _Forker:
    with _FORKER_LOCK:
        if not _FORKER or _FORKER[0].process.poll() is not None:
            _FORKER[:] = [_Forker()]
        return _FORKER[0]


class StoreProcess:
    """``python main.py serve`` in a child process; restartable on the same port."""

    def __init__(self, db_path: Path | str, seed: bool = True) -> None:
        """A store over a copy of the seeded demo made at ``db_path`` (on PostgreSQL: in a
        new database), or with ``seed=False`` over ``db_path`` itself, as it is: a second
        process on the same database, say."""
        self.db_path = copy_seeded_demo(db_path) if seed else str(db_path)
        """Where its data is: a SQLite file, or a PostgreSQL URL (``tests.backends``)."""
        db = open_store(self.db_path)
        try:
            self.tokens = {
                role: auth.create_token(db, role, "tests")
                for role in auth.Role
                if role is not auth.Role.LEADER
            }
            # A 团长's token carries a pickup point: the first one, when the store has points.
            first = db.execute("SELECT min(id) FROM pickup_points").fetchone()
            if first is not None and first[0] is not None:
                self.leader_point = str(first[0])
                self.tokens[auth.Role.LEADER] = auth.create_token(
                    db, auth.Role.LEADER, "tests", point=self.leader_point
                )
        finally:
            db.close()
        self.port = 0
        self.process: subprocess.Popen[str] | ForkedStore | None = None
        self.url = ""

    def start(self) -> None:
        args = ["serve", "--db", str(self.db_path), "--port", str(self.port)]
        if FORK_STORES:
            self.process = _forker().start(args)
        else:
            self.process = subprocess.Popen(
                [sys.executable, str(MAIN_PY), *args],
                stdout=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith(READY_PREFIX):
            self.process.kill()
            raise RuntimeError(f"store did not start: {line!r}")
        self.url = line[len(READY_PREFIX) :].strip()
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def token(self, role: str) -> str:
        return self.tokens[auth.Role(role)]

    def leader_token(self, point: str, label: str = "tests") -> str:
        """A 团长's token for ``point`` (a pickup point of the store)."""
        db = open_store(self.db_path)
        try:
            return auth.create_token(db, auth.Role.LEADER, label, point=point)
        finally:
            db.close()

    def client(self, role: str = "operator") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(role)}"}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=10)

    def new_session(self, title: str = "测试直播", live: bool = True) -> str:
        """A session, started by the operator's call (开播) unless ``live`` is False: only a
        live session takes platform events."""
        with self.client() as client:
            response = client.post("/sessions", json={"title": title})
            response.raise_for_status()
            sid = str(response.json()["id"])
            if live:
                client.patch(f"/sessions/{sid}", json={"status": "live"}).raise_for_status()
            return sid


def live_session(db: Any, title: str = "测试直播") -> str:
    """A session in ``db`` started by the operator's call (开播), without a store process."""
    sid = str(repository.create_session(db, title)["id"])
    sessions.set_status(db, sid, SessionStatus.LIVE, time.time)
    return sid


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh event loop in a worker thread.

    Not ``asyncio.run`` here: once the Qt tests have started their qasync loop it counts as
    running for the whole session, and ``asyncio.run`` would refuse. The loop is a plain
    selector loop whatever the policy: a qasync loop in a worker thread would start Qt
    timers off the GUI thread (Qt warns, and the warning fails the test).
    """

    def run_plain(job: Coroutine[Any, Any, T]) -> T:
        with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
            return runner.run(job)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run_plain, coro).result()


def event(kind: str, member: str | None = "m00001", **data: Any) -> dict[str, Any]:
    """A valid incoming event with a fresh id."""
    raw: dict[str, Any] = {"id": f"t-{next(_ids)}", "type": kind, "ts": time.time()}
    if member is not None:
        raw["member_id"] = member
    if data:
        raw["data"] = data
    return raw


def post(store: StoreProcess, sid: str, events: list[dict[str, Any]], role: str = "ingest") -> Any:
    with store.client(role) as client:
        response = client.post(f"/sessions/{sid}/events", json={"events": events})
        response.raise_for_status()
        return response.json()


XIANZHIDA_CATALOG = "catalogs/xianzhida-summer-light.toml"


def live_show(store: StoreProcess, title: str = "鲜直达《夏日轻食计划》") -> str:
    """A live session with the 鲜直达 lineup, offers and audience (seed 003's catalog)."""
    from console.resources import resource_path

    spec = tomllib.loads(resource_path(XIANZHIDA_CATALOG).read_text(encoding="utf-8"))
    sid = store.new_session(title)
    with store.client("operator") as client:
        assert client.put(f"/sessions/{sid}/catalog", json=spec).status_code == 200
        client.patch(f"/sessions/{sid}", json={"status": "live"})
    return sid


@contextlib.contextmanager
def open_stream(
    store: StoreProcess,
    sid: str,
    role: str = "host",
    last_event_id: int | None = None,
    timeout: float = 10,
) -> Iterator[EventSource]:
    """The session's ``/stream`` as ``role`` reads it (server-sent events), closed after."""
    headers = {"Authorization": f"Bearer {store.token(role)}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    with (
        httpx.Client(timeout=timeout) as client,
        connect_sse(
            client, "GET", f"{store.url}/api/v1/sessions/{sid}/stream", headers=headers
        ) as source,
    ):
        yield source
