"""Follow-up tasks in the store: the rule file, the buyers' facts, the tasks table.

The rules and the decisions are ``console.domain.followups``; here the file is read and
checked (pydantic; a refusal names the file, the line and the field), a session's buyers are
loaded from its orders, the planned tasks are inserted (those already there are left as they
are: running the command twice creates nothing new), tasks are listed and completed.

Tasks are made by the operator's command (``main.py followups create --session SID --file
F.toml --db DB``) once the session has ended, not automatically at its end: the rule file is
the operator's choice for that show, and a rehearsal ending must not hand 团长 work. Their due
times count from the session's end, so making them later does not move them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from console.domain import followups as rules
from console.domain.decisions import RefusalKind, Refused
from console.domain.followups import BuyerFacts, CompleteRequest, Owner, Task
from console.domain.orders import OrderStatus
from console.domain.segments import parse_segment
from console.domain.session_clock import parse_clock
from console.domain.sessions import SessionStatus
from console.store import repository
from console.store.dialect import json_is_true
from console.store.messages import reason_of
from console.store.repurchase import repurchase_for
from console.store.schema import transaction
from console.tomlfile import Problem, read_toml, refusal_text

RULE_ID = r"^[a-z0-9][a-z0-9_\-]{0,39}$"


class FollowupFileError(ValueError):
    """The rule file cannot be used; the message names file, line and field."""


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=RULE_ID)
    title: str = Field(min_length=1, max_length=80)
    when: list[str] = Field(min_length=1, max_length=10)
    owner: Owner = Field(description="operator or leader (the buyer's 团长)")
    within_hours: Annotated[float, Field(gt=0, le=rules.MAX_WITHIN_HOURS)]

    @field_validator("when")
    @classmethod
    def _clauses(cls, value: list[str]) -> list[str]:
        for clause in value:
            rules.parse_clause(clause)  # RuleError (a ValueError) names the field
        return value

    def rule(self) -> rules.Rule:
        return rules.Rule(
            id=self.id,
            title=self.title.strip(),
            clauses=tuple(rules.parse_clause(c) for c in self.when),
            owner=self.owner,
            within_hours=self.within_hours,
        )


class RuleFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    rules: list[RuleIn] = Field(min_length=1, max_length=50)

    @field_validator("rules")
    @classmethod
    def _unique(cls, value: list[RuleIn]) -> list[RuleIn]:
        seen: set[str] = set()
        for rule in value:
            if rule.id in seen:
                raise ValueError(f"规则 id {rule.id!r} 出现了两次")
            seen.add(rule.id)
        return value


def _clause_of(error: Any) -> str:
    """The refused clause's text, when a clause was refused."""
    cause = (error.get("ctx") or {}).get("error")
    return cause.clause if isinstance(cause, rules.RuleError) else ""


def _reason(error: Any) -> tuple[str, str | None]:
    """The reason, and the clause's field when a clause was refused."""
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, rules.RuleError):
        return str(cause), cause.field
    if error["type"] == "enum":
        return "未知的负责人（可选 operator、leader）", None
    if error["type"] == "extra_forbidden":
        return "未知字段（拼写错误？）", None
    return reason_of(error), None


def load_rule_file(path: Path) -> list[rules.Rule]:
    """The file's rules, checked; ``FollowupFileError`` naming ``path:LINE: where: reason``
    (for a clause: the clause's own line, the ``when`` line if not found, and its field)."""
    raw = read_toml(path, FollowupFileError)
    try:
        parsed = RuleFileIn.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            reason, clause_field = _reason(error)
            note = f" 字段 {clause_field}" if clause_field else ""
            problems.append(Problem(tuple(error["loc"])[:3], reason, note, _clause_of(error)))
        raise FollowupFileError(refusal_text(path, problems)) from exc
    return [r.rule() for r in parsed.rules]


# -- facts -------------------------------------------------------------------------------

_BUYER_ORDERS = """
SELECT o.member_id, o.amount, o.pickup_point, o.created_at, e.segment,
       CASE WHEN {new} THEN 1 ELSE 0 END, coalesce(m.koc, 0)
FROM live_orders AS o
JOIN events AS e ON e.session_id = o.session_id AND e.seq = o.seq
LEFT JOIN members AS m ON m.id = o.member_id
WHERE o.session_id = ? AND o.status != ?
ORDER BY o.created_at, o.id
"""


def buyer_facts(db: Any, sid: str) -> list[BuyerFacts]:
    """Each buyer of the session (a standing order), with what the rules may test."""
    rows = db.execute(
        _BUYER_ORDERS.format(new=json_is_true(db, "e.data", "new_customer")),
        [sid, OrderStatus.CANCELLED.value],
    ).fetchall()
    facts: dict[str, dict[str, Any]] = {}
    for member, amount, point, _ts, segment, new, koc in rows:
        buyer = facts.get(member)
        if buyer is None:  # the first standing order: its circle and pickup point
            facts[member] = {
                "member_id": member,
                "circle": parse_segment(segment),
                "spent": int(amount),
                "orders": 1,
                "new_customer": bool(new),
                "koc": bool(koc),
                "pickup_point": str(point or ""),
            }
        else:
            buyer["spent"] += int(amount)
            buyer["orders"] += 1
            buyer["new_customer"] = buyer["new_customer"] or bool(new)
    return [BuyerFacts(**f) for f in facts.values()]


def create_tasks(db: Any, sid: str, path: Path, now: float) -> dict[str, Any]:
    """Tasks for the ended session ``sid`` from the rule file at ``path``; those already
    made are kept as they are (with their completion)."""
    loaded = load_rule_file(path)
    session = repository.get_session(db, sid)  # NotFound
    if session["status"] != SessionStatus.ENDED.value or session.get("ended_at") is None:
        raise Refused(RefusalKind.CONFLICT, "session", f"直播 {sid} 尚未结束：下播后再生成回访任务")
    rules.check_plannable(parse_clock(session.get("clock")))  # a rehearsal: no tasks
    ended_at = float(session["ended_at"])
    with transaction(db) as conn:
        planned = rules.plan_tasks(sid, ended_at, buyer_facts(conn, sid), loaded, now)
        existing = {
            r[0]
            for r in conn.execute(
                "SELECT id FROM followup_tasks WHERE session_id = ?", [sid]
            ).fetchall()
        }
        fresh = [t for t in planned if t.id not in existing]
        conn.executemany(
            "INSERT INTO followup_tasks (id, session_id, rule_id, title, member_id, owner, "
            "point_id, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO NOTHING",
            [
                (
                    t.id,
                    t.session_id,
                    t.rule_id,
                    t.title,
                    t.member_id,
                    t.owner.value,
                    t.point_id,
                    t.due_at,
                    t.created_at,
                )
                for t in fresh
            ],
        )
    by_rule: dict[str, int] = {}
    for task in fresh:
        by_rule[task.rule_id] = by_rule.get(task.rule_id, 0) + 1
    return {"created": len(fresh), "existing": len(planned) - len(fresh), "by_rule": by_rule}


# -- tasks -------------------------------------------------------------------------------

_TASK_COLUMNS = (
    "id, session_id, rule_id, title, member_id, owner, point_id, due_at, created_at, "
    "done_at, done_by"
)


def _task(row: tuple[Any, ...]) -> Task:
    ident, sid, rule, title, member, owner, point, due, created, done_at, done_by = row
    return Task(
        id=ident,
        session_id=sid,
        rule_id=rule,
        title=title,
        member_id=member,
        owner=Owner(owner),
        point_id=point,
        due_at=float(due),
        created_at=float(created),
        done_at=None if done_at is None else float(done_at),
        done_by=done_by or "",
    )


def session_tasks(db: Any, sid: str) -> list[Task]:
    rows = db.execute(
        f"SELECT {_TASK_COLUMNS} FROM followup_tasks WHERE session_id = ? ORDER BY due_at, id",
        [sid],
    ).fetchall()
    return [_task(r) for r in rows]


def leader_tasks(db: Any, point: str) -> list[Task]:
    """A 团长's tasks: the leader-owned tasks of their point, every session."""
    rows = db.execute(
        f"SELECT {_TASK_COLUMNS} FROM followup_tasks WHERE point_id = ? AND owner = ? "
        "ORDER BY due_at, id",
        [point, Owner.LEADER.value],
    ).fetchall()
    return [_task(r) for r in rows]


def list_tasks(db: Any, sid: str | None, point: str | None, now: float) -> list[dict[str, Any]]:
    """Tasks as JSON with their state at ``now``: a session's (operator), or a 团长's own."""
    if point is not None:
        tasks = [t for t in leader_tasks(db, point) if sid is None or t.session_id == sid]
    elif sid is not None:
        try:
            repository.get_session(db, sid)
        except repository.NotFound as exc:  # the query's ``session`` names it
            raise repository.NotFound(str(exc), field="session") from exc
        tasks = session_tasks(db, sid)
    else:
        rows = db.execute(
            f"SELECT {_TASK_COLUMNS} FROM followup_tasks ORDER BY due_at, id"
        ).fetchall()
        tasks = [_task(r) for r in rows]
    return [_task_json(db, t, now) for t in tasks]


def _task_json(db: Any, task: Task, now: float) -> dict[str, Any]:
    state = rules.task_state(task, now)
    nick = db.execute("SELECT nick FROM members WHERE id = ?", [task.member_id]).fetchone()
    return {
        **task.to_json(),
        "nick": (nick[0] if nick else "") or "",
        "state": state.value,
        "state_label": rules.STATE_LABELS[state],
    }


def complete_task(db: Any, task_id: str, request: CompleteRequest, now: float) -> dict[str, Any]:
    """Mark a task done (idempotent: a done task stays as it was). A 团长 completes only
    their own: another's is NOT_FOUND to them (they learn nothing of it)."""
    with transaction(db) as conn:
        row = conn.execute(
            f"SELECT {_TASK_COLUMNS} FROM followup_tasks WHERE id = ?", [task_id]
        ).fetchone()
        if row is None or not rules.may_complete(_task(row), request):
            raise Refused(RefusalKind.NOT_FOUND, "task_id", f"没有这个任务：{task_id[:40]!r}")
        task = _task(row)
        done = rules.completed(task, request, now)
        if done is not None:
            conn.execute(
                "UPDATE followup_tasks SET done_at = ?, done_by = ? "
                "WHERE id = ? AND done_at IS NULL",
                [done.done_at, done.done_by, task_id],
            )
            task = done
        result = _task_json(conn, task, now)
    return {**result, "already_done": done is None}


def followup_report_json(db: Any, sid: str, now: float) -> dict[str, Any]:
    """Completion per rule and owner at ``now``, and the 30-day repurchase of members whose
    task was done against those whose task was not (``console.domain.repurchase``)."""
    tasks = session_tasks(db, sid)
    repurchase = repurchase_for(db, sid, now)
    report = rules.followup_report(tasks, repurchase.repurchasers, now).to_json()
    leaders = {
        str(p): str(leader or "")
        for p, leader in db.execute("SELECT id, leader FROM pickup_points").fetchall()
    }
    for row in report["by_owner"]:
        owner = str(row["owner"])
        point = owner.partition(":")[2]
        row["name"] = "运营" if owner == Owner.OPERATOR.value else leaders.get(point, "") or point
    return {
        **report,
        "session_id": sid,
        "now": now,
        "repurchase_label": repurchase.label(),
        "repurchase_complete": repurchase.complete,
        "leaders": leaders,
    }
