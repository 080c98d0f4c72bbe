"""Order and chain statuses are spelled once, in the domain's enums: no rule elsewhere can
test a status string of its own (a typo there would be a silent bug)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from console.domain.chains import ChainStatus
from console.domain.order_status import ImportedStatus
from console.domain.orders import OrderStatus

CONSOLE = Path(__file__).resolve().parents[2] / "console"
# events.py: a platform order's wire statuses (PlatformOrderStatus) share the words.
ENUM_HOMES = {
    CONSOLE / "domain" / "chains.py",
    CONSOLE / "domain" / "orders.py",
    CONSOLE / "domain" / "events.py",
    CONSOLE / "domain" / "order_status.py",  # also the words exports use (closed, paid)
}
STATUSES = {s.value for s in (*ChainStatus, *OrderStatus, *ImportedStatus)}
# A status as a whole string, or quoted inside SQL text ('placed').
QUOTED = re.compile("'(" + "|".join(sorted(STATUSES)) + ")'")


def literals(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and (text in STATUSES or QUOTED.search(text)):
            found.append((node.lineno, text))
    return found


def test_no_status_string_outside_the_domains_enums() -> None:
    offenders = {
        f"{path.relative_to(CONSOLE.parent)}:{line}": text[:60]
        for path in sorted(CONSOLE.rglob("*.py"))
        if path not in ENUM_HOMES
        for line, text in literals(path)
    }
    assert offenders == {}


def test_the_check_finds_a_status_literal(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("SQL = \"SELECT 1 FROM chains WHERE status = 'formed'\"\nX = 'placed'\n")
    assert [line for line, _ in literals(sample)] == [1, 2]
