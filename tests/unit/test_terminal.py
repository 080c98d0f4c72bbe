"""Progress lines for long imports."""

from __future__ import annotations

import io

from console.terminal import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_rewrites_one_line() -> None:
    screen = Terminal()
    progress = Progress("import orders.csv", screen, every_s=0.0)
    progress.started -= 2.0  # two seconds in
    progress(40_000, 0.4)
    progress(100_000, 1.0)
    text = screen.getvalue()
    assert text.startswith("\rimport orders.csv： 40% · 40,000 行 · ")
    assert "行/秒" in text
    assert text.endswith("100% · 100,000 行 · " + text.rsplit("行 · ", 1)[1])
    assert text.endswith("\n")


def test_quick_jobs_print_nothing_and_pipes_get_whole_lines() -> None:
    log = io.StringIO()
    quick = Progress("import members.csv", log)
    quick(10, 1.0)
    assert log.getvalue() == ""
    slow = Progress("import big.csv", log, every_s=0.0)
    slow.started -= 10.0
    slow(1_000_000, 0.5)
    assert log.getvalue().endswith(" 50% · 1,000,000 行 · 100,000 行/秒\n")
