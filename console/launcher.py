"""The embedded default (``python main.py``): store + simulated broadcast + console.

The store and the simulator run as child processes of this one (so the UI thread never
serves HTTP); they watch their parent and exit with it, and closing the window stops them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

import platformdirs

from console.demo import seed_demo
from console.store import auth
from console.store.schema import open_store
from console.store.server import READY_PREFIX
from console.store.target import StoreTarget, target_text

APP_NAME = "zhibo-console"
MAIN_PY = Path(__file__).resolve().parent.parent / "main.py"
START_TIMEOUT_S = 30.0


class LaunchError(RuntimeError):
    pass


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "store.db"


class Child:
    """A child process of ours whose stdout we read line by line (and keep draining)."""

    def __init__(self, name: str, args: list[str]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, str(MAIN_PY), *args, "--exit-with-parent"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._lines: list[str] = []
        self._got_line = threading.Condition()
        threading.Thread(target=self._drain, name=f"{name}-stdout", daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._got_line:
                self._lines.append(line.rstrip("\n"))
                self._got_line.notify_all()
        with self._got_line:
            self._got_line.notify_all()

    def wait_for_line(self, prefix: str, timeout: float = START_TIMEOUT_S) -> str:
        """The rest of the first stdout line starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        with self._got_line:
            while True:
                for line in self._lines:
                    if line.startswith(prefix):
                        return line[len(prefix) :].strip()
                if self.process.poll() is not None:
                    raise LaunchError(f"{self.name} exited with status {self.process.returncode}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LaunchError(f"{self.name} did not start within {timeout:.0f} s")
                self._got_line.wait(min(remaining, 0.2))

    def stop(self, grace_s: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def prepare_store(db_path: StoreTarget, role: str = "assistant") -> tuple[str, str]:
    """Seed the demo brand if the store has no members; the run's operator and console tokens."""
    seed_demo(db_path)
    db = open_store(db_path)
    try:
        operator = auth.create_token(db, auth.Role.OPERATOR, "embedded demo: simulator")
        console = auth.create_token(db, auth.Role(role), "embedded demo: console")
    finally:
        db.close()
    return operator, console


def revoke(db_path: StoreTarget, *tokens: str) -> None:
    db = open_store(db_path)
    try:
        for token in tokens:
            auth.revoke_token(db, token)
    finally:
        db.close()


def run_embedded(args: argparse.Namespace) -> int:
    from console.ui.app import run_console

    db_path: StoreTarget = args.db or default_db_path()
    operator, host = prepare_store(db_path, getattr(args, "role", "assistant"))
    children: list[Child] = []
    try:
        store = Child("store", ["serve", "--db", target_text(db_path), "--port", "0"])
        children.append(store)
        url = store.wait_for_line(READY_PREFIX)
        simulator = Child(
            "simulator",
            [
                "simulate",
                "--store",
                url,
                "--token",
                operator,
                "--scenario",
                args.scenario,
                "--speed",
                str(args.speed),
                *(["--until", str(args.until)] if args.until is not None else []),
            ],
        )
        children.append(simulator)
        session = simulator.wait_for_line("session ")
        print(f"store {url} · session {session} · db {db_path}", file=sys.stderr, flush=True)
        return run_console(
            store_url=url,
            token=host,
            session=session,
            cache_path=args.cache,
            outbox_path=args.outbox,
            screenshot=args.screenshot,
            exit_after=args.exit_after,
        )
    except LaunchError as exc:
        print(f"python main.py: error: {exc}", file=sys.stderr)
        return 1
    finally:
        for child in reversed(children):
            child.stop()
        revoke(db_path, operator, host)
