"""One log file for every entry point: where it is, that it rotates, that ``--help`` names it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.logs import QUIET, log_file, reset_logging, setup_logging
from tests.helpers import MAIN_PY, ROOT


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """The root logger as it was before the test (pytest's own handlers stay)."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    yield root
    reset_logging()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    """``python main.py`` with this test's private XDG directories (set by conftest)."""
    return subprocess.run(
        [sys.executable, str(MAIN_PY), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env={**os.environ, "COLUMNS": "80"},
        cwd=ROOT,
        check=False,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_STATE_HOME is the Linux rule")
def test_the_log_lives_in_the_redirected_state_directory() -> None:
    state = Path(os.environ["XDG_STATE_HOME"])
    assert log_file() == state / "zhibo-console" / "log" / "console.log"


def test_setup_creates_the_file_writes_utf8_and_is_idempotent(
    root_logging: logging.Logger,
) -> None:
    path = setup_logging()
    assert path == log_file()
    assert setup_logging() == path
    ours = [h for h in root_logging.handlers if getattr(h, "baseFilename", "") == str(path)]
    assert len(ours) == 1
    logging.getLogger("console.test").info("直播间 %s 已开播", "夏日冰饮季")
    logging.getLogger("httpx").info("HTTP Request: GET /api/v1/health 200")  # too chatty
    text = path.read_text(encoding="utf-8")
    assert "INFO console.test: 直播间 夏日冰饮季 已开播" in text
    assert "HTTP Request" not in text


def test_the_file_rotates_and_keeps_a_few_backups(
    root_logging: logging.Logger, tmp_path: Path
) -> None:
    path = setup_logging(tmp_path / "console.log", max_bytes=2_000, backups=2)
    log = logging.getLogger("console.test")
    for n in range(200):
        log.info("line %03d %s", n, "x" * 80)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["console.log", "console.log.1", "console.log.2"]
    assert all(p.stat().st_size <= 2_000 for p in tmp_path.iterdir())
    assert "line 199" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args", [("--help",), ("serve", "--help"), ("console", "--help"), ("token", "create", "-h")]
)
def test_help_names_the_log_file(args: tuple[str, ...]) -> None:
    result = run_main(*args)
    assert result.returncode == 0, result.stderr
    assert f"log file: {log_file()}\n" in result.stdout
    assert not log_file().exists()  # asking for help writes nothing


def test_an_unexpected_failure_of_a_command_is_logged_with_its_traceback(tmp_path: Path) -> None:
    not_a_db = tmp_path / "store.db"
    not_a_db.write_text("not a database\n" * 100, encoding="utf-8")
    result = run_main("token", "create", "--db", str(not_a_db), "--role", "host")
    assert result.returncode == 1
    logged = log_file().read_text(encoding="utf-8")
    assert "ERROR console.cli: python main.py token failed" in logged
    assert "Traceback (most recent call last)" in logged
    assert "DatabaseError" in logged
    assert "DatabaseError" in result.stderr  # and the user sees it at once
