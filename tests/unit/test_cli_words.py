"""The command line speaks Chinese: argparse's usage errors and our own lines."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from console import cli


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        cli.build_parser().parse_args(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (("serve",), "main.py serve：错误：缺少必需的参数：--db"),
        (("serve", "--db", "x.db", "--bogus"), "main.py：错误：无法识别的参数：--bogus"),
        (
            ("token", "create", "--db", "x.db", "--role", "admin"),
            "main.py token create：错误：参数 --role：无效的选择 'admin'（可选：'host',",
        ),
        (("serve", "--db", "x.db", "--port", "http"), "参数 --port：不是有效的 TCP 端口：'http'"),
        (("segment", "--db", "x.db", "--window-days", "x"), "'x' 不是有效的值"),
    ],
)
def test_usage_errors_read_in_chinese(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], line: str
) -> None:
    err = usage_error(capsys, *argv)
    assert err.startswith("用法：python main.py"), err
    assert line in err
    assert "error" not in err
    assert "usage" not in err


def test_argparse_is_left_as_it_was_for_everyone_else(capsys: pytest.CaptureFixture[str]) -> None:
    usage_error(capsys, "serve")
    other = argparse.ArgumentParser(prog="other")
    other.add_argument("--x", required=True)
    with pytest.raises(SystemExit):
        other.parse_args([])
    assert "the following arguments are required: --x" in capsys.readouterr().err


def test_reservations_import_passes_skip_bad_and_reports_the_skipped_rows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from console.store import reservations, schema

    seen: dict[str, Any] = {}
    applied = SimpleNamespace(
        applied=True, problems=["r.csv:3: 用户ID (member_id): 必填"], rows=3, rejected=1,
        inserted=2, unchanged=0, rejects_file="bad.csv",
    )  # fmt: skip
    refused = SimpleNamespace(
        applied=False, problems=["r.csv:3: 用户ID (member_id): 必填"], rows=3, rejected=1
    )
    answers = iter([applied, refused])

    def fake_import(db: Any, sid: str, path: Path, options: Any) -> Any:
        seen.update(sid=sid, options=options)
        return next(answers)

    monkeypatch.setattr(reservations, "import_reservations", fake_import)
    monkeypatch.setattr(schema, "open_store", lambda _db: SimpleNamespace(close=lambda: None))
    flags = ["--skip-bad", "--rejects", "bad.csv", "--map", "member_id=用户ID"]
    db = str(tmp_path / "s.db")
    args = cli.build_parser().parse_args(
        ["import", "reservations", "r.csv", "--db", db, "--session", "s1", *flags]
    )
    assert cli._import_reservations(args) == 0
    out = capsys.readouterr().out
    assert "r.csv：场次 s1：新增预约 2，已有 0" in out
    assert "跳过有问题的行 1 行，已写入 bad.csv" in out
    assert "不支持" not in out
    options = seen["options"]
    assert (seen["sid"], options.skip_bad, options.rejects_path) == ("s1", True, Path("bad.csv"))
    assert options.mapping == {"member_id": "用户ID"}
    # Without --skip-bad a bad row still stops the import (all or nothing), with no note.
    plain = cli.build_parser().parse_args(
        ["import", "reservations", "r.csv", "--db", db, "--session", "s1"]
    )
    with pytest.raises(cli.CliError) as stopped:
        cli._import_reservations(plain)
    assert str(stopped.value) == "r.csv：3 行中有 1 行有问题，全部未导入"
    assert "r.csv:3" in capsys.readouterr().err


def test_invitation_and_import_summaries_read_in_chinese() -> None:
    assert cli._counts({"already_invited": 2, "opted_out": 1}, cli.SKIP_NAMES) == (
        "已邀请过 2，已退订 1"
    )
    assert cli._counts({}, cli.CHANNEL_NAMES) == "无"
    report = SimpleNamespace(
        file="m.csv",
        rows=5,
        accepted=4,
        rejected=1,
        duplicates=0,
        merged=0,
        inserted=3,
        updated=1,
        unchanged=0,
        by_status=None,
        seconds=0.25,
    )
    assert cli._import_summary(report, "members") == (
        "m.csv：5 行，接受 4，拒绝 1；会员新增 3，更新 1，未变 0（0.2 秒）"
    )
