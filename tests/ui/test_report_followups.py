"""The report prints follow-up completion per rule and per owner and what finished tasks led
to, as the store's ``/followups`` gives them (figures from console.domain.followups)."""

from __future__ import annotations

from pathlib import Path

from console.domain.followups import (
    CompleteRequest,
    completed,
    followup_report,
    plan_tasks,
)
from console.domain.stats import session_stats
from console.ui.report import write_html
from tests.unit.test_followups import BUYERS, END, RULES


def test_the_report_prints_completion_and_outcome(tmp_path: Path) -> None:
    tasks = {t.rule_id: t for t in plan_tasks("s1", END, BUYERS, RULES, END)}
    call = completed(tasks["s6-call"], CompleteRequest("团长2", "pt-2"), END + 3600)
    assert call is not None
    payload = followup_report([call, tasks["welcome"], tasks["vip-invite"]], frozenset({"c"}), END)
    followups = {
        **payload.to_json(),
        "repurchase_label": "未满30天（已观察0天）",
        "leaders": {"pt-2": "韦团长"},
    }
    stats = session_stats([], {}, {})
    page = write_html(
        tmp_path, {"id": "s1", "title": "回访"}, stats, [], followups=followups
    ).read_text(encoding="utf-8")
    assert "回访任务 · 按规则与负责人" in page
    assert "负责人 韦团长（pt-2）" in page
    assert "负责人 运营" in page
    assert "回访带来的复购（未满30天（已观察0天））" in page
    assert "100.0%（1/1）" in page  # c: call done, repurchased
    # Without tasks, no section.
    empty = write_html(tmp_path, {"id": "s1", "title": "回访"}, stats, []).read_text("utf-8")
    assert "回访任务" not in empty
