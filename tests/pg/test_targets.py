"""The CLI's ``--db`` never turns a URL into a file: runs in both passes (no server needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import MAIN_PY


def run_main(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MAIN_PY), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("serve", "--port", "0", "--db"),
        ("token", "create", "--role", "operator", "--db"),
        ("segment", "--db"),
        ("seed-demo", "--db"),
    ],
)
@pytest.mark.parametrize("url", ["mysql://root@127.0.0.1/brand", "sqlite:///store.db"])
def test_a_url_of_another_database_is_refused_and_no_file_appears(
    tmp_path: Path, args: tuple[str, ...], url: str
) -> None:
    done = run_main(tmp_path, *args, url)
    assert done.returncode == 2
    assert "不支持的数据库地址" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_postgres_is_said_in_one_line_and_no_file_appears(tmp_path: Path) -> None:
    done = run_main(
        tmp_path, "token", "create", "--role", "operator", "--db", "postgresql://x@127.0.0.1:1/d"
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("main.py：错误：无法打开数据库：")
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
