"""Follow-up tasks after a show (余温沉淀 SOP): rules over a session's buyers -> tasks.

A *rule* names a condition over one buyer of the session, an owner and a due time:

    [[rules]]
    id = "s6-call"
    title = "唤醒的沉睡新客：团长 24 小时内电话回访"
    when = ["woke_up == true"]
    owner = "leader"          # the 团长 of the buyer's pickup point; or "operator"
    within_hours = 24

``when`` is a list of clauses, all of which must hold (AND); a clause is
``FIELD OP VALUE`` with OP one of ``== != >= <= > < in``. The fields (``FIELDS``):

- ``circle``: the circle stamped on the buyer's first standing order of the session
  (S1..S6, ``none`` without one); ``in`` takes a comma-separated list (``circle in S1,S2``);
  ``==`` and ``!=`` take one value: a comma there is refused (use ``in``);
- ``spent``: yuan spent in the session (standing orders only), compared in whole fen: the
  clause's amount is read exactly (``spent >= 298`` is 29800 fen; more than two decimals
  is refused);
- ``orders``: standing orders in the session;
- ``new_customer``: the session holds the buyer's first order ever (新邻居);
- ``woke_up``: an S6 member who had bought before and ordered again (唤醒): never a
  ``new_customer`` (a first order ever is a 新邻居, as the shout-out ``comeback`` holds);
- ``koc``: the member carries the KOC flag;
- ``pickup_point``: the point of the buyer's first standing order (``in`` takes a list).

A *buyer* is a member with at least one standing (not cancelled) order in the session.
Tasks are decided here from facts, the rules and the clock: one per (rule, buyer) whose
condition holds, its id derived from (session, rule, member), so that planning twice yields
the same ids (the store inserts what is missing: idempotent). A task owned by ``leader`` goes
to the 团长 of the buyer's pickup point; it is due ``within_hours`` after the session ended.

Completion at a time ``now``: *done on time* (done_at <= due_at), *late* (done after due),
*open* (not done, not yet due), *overdue* (not done, due passed). What finished tasks led to:
among the members with a task of the rule, those with a done task against those without,
each with the 30-day repurchase of ``console.domain.repurchase`` (its buyers' set).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from console.domain.decisions import RefusalKind, Refused
from console.domain.metrics import Rate
from console.domain.segments import ALL_SEGMENTS, Segment
from console.domain.session_clock import SessionClock, hands_out_work

REHEARSAL_REFUSED = "本场是彩排，不生成回访任务"


def check_plannable(clock: SessionClock) -> None:
    """Tasks are made for a show only: a rehearsal (彩排) hands nobody work."""
    if not hands_out_work(clock):
        raise Refused(RefusalKind.CONFLICT, "session", REHEARSAL_REFUSED)


HOUR_S = 3600.0
MAX_WITHIN_HOURS = 24 * 30
NO_CIRCLE = "none"


class Owner(StrEnum):
    OPERATOR = "operator"  # 运营
    LEADER = "leader"  # the 团长 of the buyer's pickup point


class FieldKind(StrEnum):
    CIRCLE = "circle"
    NUMBER = "number"
    MONEY = "money"  # written in yuan, compared in whole fen
    BOOL = "bool"
    TEXT = "text"


FIELDS: dict[str, FieldKind] = {
    "circle": FieldKind.CIRCLE,
    "spent": FieldKind.MONEY,
    "orders": FieldKind.NUMBER,
    "new_customer": FieldKind.BOOL,
    "woke_up": FieldKind.BOOL,
    "koc": FieldKind.BOOL,
    "pickup_point": FieldKind.TEXT,
}
"""The named fields a clause may test, and what kind of value each holds."""

_OPS_BY_KIND: dict[FieldKind, tuple[str, ...]] = {
    FieldKind.CIRCLE: ("==", "!=", "in"),
    FieldKind.NUMBER: ("==", "!=", ">=", "<=", ">", "<"),
    FieldKind.MONEY: ("==", "!=", ">=", "<=", ">", "<"),
    FieldKind.BOOL: ("==", "!="),
    FieldKind.TEXT: ("==", "!=", "in"),
}
_CLAUSE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|>=|<=|>|<|\bin\b)\s*(.+?)\s*$")
CIRCLE_VALUES = frozenset({*(s.value for s in ALL_SEGMENTS), NO_CIRCLE})


class RuleError(ValueError):
    """A rule refused; ``field`` names the clause's field (or the rule's key) at fault."""

    def __init__(self, field_name: str, message: str, clause: str = "") -> None:
        super().__init__(message)
        self.field = field_name
        self.clause = clause  # the clause's text as written, to find its line in the file


@dataclass(frozen=True, slots=True)
class Clause:
    field: str
    op: str
    value: Any  # str, float, int fen (``spent``), bool, or a tuple of str for ``in``

    def holds(self, facts: BuyerFacts) -> bool:
        actual = facts.spent if self.field == "spent" else facts.value(self.field)
        if self.op == "in":
            return bool(actual in self.value)
        if self.op == "==":
            return bool(actual == self.value)
        if self.op == "!=":
            return bool(actual != self.value)
        number, limit = float(actual), float(self.value)  # spent: whole fen, exact in a float
        return {
            ">=": number >= limit,
            "<=": number <= limit,
            ">": number > limit,
            "<": number < limit,
        }[self.op]


def parse_clause(text: str) -> Clause:
    """One ``FIELD OP VALUE`` clause, or RuleError naming the field and the reason (and
    carrying the clause, so the file's refusal can name the clause's own line)."""
    try:
        return _parse_clause(text)
    except RuleError as error:
        raise RuleError(error.field, str(error), text) from None


def _parse_clause(text: str) -> Clause:
    match = _CLAUSE.match(text)
    if match is None:
        raise RuleError(
            "when", f"看不懂的条件 {text[:60]!r}（写法：字段 运算符 值，如 spent >= 298）"
        )
    name, op, raw = match.group(1), match.group(2), match.group(3).strip().strip("\"'")
    kind = FIELDS.get(name)
    if kind is None:
        raise RuleError(name, f"未知的字段 {name!r}（可用：{', '.join(FIELDS)}）")
    if op not in _OPS_BY_KIND[kind]:
        allowed = " ".join(_OPS_BY_KIND[kind])
        raise RuleError(name, f"字段 {name} 不能用运算符 {op}（可用：{allowed}）")
    if op in ("==", "!=") and "," in raw:
        raise RuleError(
            name, f"{op} 只能比较一个值，收到 {raw[:40]!r}；多个值请用 in（如 {name} in a, b）"
        )
    if kind is FieldKind.CIRCLE:
        values = tuple(v.strip() for v in raw.split(",")) if op == "in" else (raw,)
        for value in values:
            if value not in CIRCLE_VALUES:
                raise RuleError(name, f"未知的圈层 {value!r}（可选 S1..S6、none）")
        return Clause(name, op, values if op == "in" else values[0])
    if kind is FieldKind.NUMBER:
        return Clause(name, op, _number(name, raw))
    if kind is FieldKind.MONEY:
        return Clause(name, op, _fen(name, raw))
    if kind is FieldKind.BOOL:
        if raw not in ("true", "false"):
            raise RuleError(name, f"字段 {name} 要 true 或 false，收到 {raw[:30]!r}")
        return Clause(name, op, raw == "true")
    values = tuple(v.strip() for v in raw.split(",") if v.strip())
    if not values:
        raise RuleError(name, f"字段 {name} 缺少值")
    return Clause(name, op, values if op == "in" else values[0])


def _number(name: str, raw: str) -> float:
    try:
        number = float(raw)
    except ValueError:
        raise RuleError(name, f"字段 {name} 要一个数字，收到 {raw[:30]!r}") from None
    if not math.isfinite(number):
        raise RuleError(name, f"字段 {name} 要一个有限的数字")
    return number


def _fen(name: str, raw: str) -> int:
    """An amount in yuan ("298", "9.9") as whole fen, read exactly (Decimal, not float)."""
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise RuleError(name, f"字段 {name} 要一个金额（元），收到 {raw[:30]!r}") from None
    if not amount.is_finite():
        raise RuleError(name, f"字段 {name} 要一个有限的金额")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise RuleError(name, f"字段 {name} 的金额最多两位小数（到分），收到 {raw[:30]!r}")
    return int(fen)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    clauses: tuple[Clause, ...]
    owner: Owner
    within_hours: float

    def applies(self, facts: BuyerFacts) -> bool:
        return all(clause.holds(facts) for clause in self.clauses)


@dataclass(frozen=True, slots=True)
class BuyerFacts:
    """One buyer of the session, as the rules see them (money in fen)."""

    member_id: str
    circle: Segment | None
    spent: int  # fen, standing orders of the session
    orders: int
    new_customer: bool
    koc: bool
    pickup_point: str

    @property
    def woke_up(self) -> bool:
        """唤醒: a dormant (S6) member who had bought before came back; a first order ever
        is a 新邻居 (``new_customer``), never woken up (as the shout-out ``comeback``)."""
        return self.circle is Segment.S6 and self.orders > 0 and not self.new_customer

    def value(self, name: str) -> Any:
        if name == "circle":
            return self.circle.value if self.circle is not None else NO_CIRCLE
        if name == "spent":
            return self.spent / 100
        if name == "woke_up":
            return self.woke_up
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    session_id: str
    rule_id: str
    title: str
    member_id: str
    owner: Owner
    point_id: str  # the buyer's pickup point (the owner when ``owner`` is leader)
    due_at: float
    created_at: float
    done_at: float | None = None
    done_by: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "rule_id": self.rule_id,
            "title": self.title,
            "member_id": self.member_id,
            "owner": self.owner.value,
            "point_id": self.point_id,
            "due_at": self.due_at,
            "created_at": self.created_at,
            "done_at": self.done_at,
            "done_by": self.done_by,
        }


def task_id(session_id: str, rule_id: str, member_id: str) -> str:
    digest = hashlib.sha256(f"{session_id}\x1f{rule_id}\x1f{member_id}".encode()).hexdigest()
    return "t-" + digest[:20]


def plan_tasks(
    session_id: str,
    ended_at: float,
    buyers: Iterable[BuyerFacts],
    rules: Sequence[Rule],
    now: float,
) -> list[Task]:
    """Every task the rules make of the buyers (same ids each time: the caller keeps those
    it lacks). Due ``within_hours`` after the session's end; created ``now``."""
    tasks: list[Task] = []
    for buyer in sorted(buyers, key=lambda b: b.member_id):
        for rule in rules:
            if not rule.applies(buyer):
                continue
            if rule.owner is Owner.LEADER and not buyer.pickup_point:
                continue  # no 团长 to give it to
            tasks.append(
                Task(
                    id=task_id(session_id, rule.id, buyer.member_id),
                    session_id=session_id,
                    rule_id=rule.id,
                    title=rule.title,
                    member_id=buyer.member_id,
                    owner=rule.owner,
                    point_id=buyer.pickup_point,
                    due_at=ended_at + rule.within_hours * HOUR_S,
                    created_at=now,
                )
            )
    return tasks


class TaskState(StrEnum):
    ON_TIME = "on_time"  # 按时完成
    LATE = "late"  # 逾期完成
    PENDING = "pending"  # 待办 (not "open": that word is a 接龙's status)
    OVERDUE = "overdue"  # 已逾期


STATE_LABELS: dict[TaskState, str] = {
    TaskState.ON_TIME: "按时完成",
    TaskState.LATE: "逾期完成",
    TaskState.PENDING: "待办",
    TaskState.OVERDUE: "已逾期",
}


def task_state(task: Task, now: float) -> TaskState:
    if task.done_at is not None:
        return TaskState.ON_TIME if task.done_at <= task.due_at else TaskState.LATE
    return TaskState.PENDING if now <= task.due_at else TaskState.OVERDUE


@dataclass(frozen=True, slots=True)
class CompleteRequest:
    """Who asks to complete a task: the operator, or a 团长 (their point)."""

    by: str
    leader_point: str | None = None  # None: an operator


def may_complete(task: Task, request: CompleteRequest) -> bool:
    """The operator completes any task; a 团长 only their own (their point's leader tasks)."""
    if request.leader_point is None:
        return True
    return task.owner is Owner.LEADER and task.point_id == request.leader_point


def completed(task: Task, request: CompleteRequest, now: float) -> Task | None:
    """The task done at ``now`` by the requester; None when it is already done (idempotent:
    the first completion stands)."""
    if task.done_at is not None:
        return None
    return Task(**{**_fields(task), "done_at": now, "done_by": request.by})


def _fields(task: Task) -> dict[str, Any]:
    return {name: getattr(task, name) for name in Task.__slots__}


@dataclass
class Tally:
    on_time: int = 0
    late: int = 0
    pending: int = 0
    overdue: int = 0

    def add(self, state: TaskState) -> None:
        setattr(self, state.value, getattr(self, state.value) + 1)

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.pending + self.overdue

    @property
    def done(self) -> int:
        return self.on_time + self.late

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "on_time": self.on_time,
            "late": self.late,
            "pending": self.pending,
            "overdue": self.overdue,
            "done": self.done,
            "done_rate": Rate(self.done, self.total).rounded(),
        }


@dataclass
class Outcome:
    """Members of a rule's tasks, split by whether a task of theirs was done, with how many
    of each repurchased within 30 days (console.domain.repurchase)."""

    done_members: int = 0
    done_repurchased: int = 0
    undone_members: int = 0
    undone_repurchased: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "done_members": self.done_members,
            "done_repurchased": self.done_repurchased,
            "done_repurchase_rate": Rate(self.done_repurchased, self.done_members).rounded(),
            "undone_members": self.undone_members,
            "undone_repurchased": self.undone_repurchased,
            "undone_repurchase_rate": Rate(self.undone_repurchased, self.undone_members).rounded(),
        }


@dataclass
class FollowupReport:
    by_rule: dict[str, Tally] = field(default_factory=dict)
    by_owner: dict[str, Tally] = field(default_factory=dict)
    outcome_by_rule: dict[str, Outcome] = field(default_factory=dict)
    outcome: Outcome = field(default_factory=Outcome)
    titles: dict[str, str] = field(default_factory=dict)
    total: Tally = field(default_factory=Tally)

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total.to_json(),
            "by_rule": [
                {
                    "rule_id": rule,
                    "title": self.titles.get(rule, rule),
                    **tally.to_json(),
                    "outcome": self.outcome_by_rule[rule].to_json(),
                }
                for rule, tally in self.by_rule.items()
            ],
            "by_owner": [
                {"owner": owner, **tally.to_json()} for owner, tally in self.by_owner.items()
            ],
            "outcome": self.outcome.to_json(),
        }


def owner_key(task: Task) -> str:
    """``operator``, or ``leader:POINT`` (each 团长 apart)."""
    return Owner.OPERATOR.value if task.owner is Owner.OPERATOR else f"leader:{task.point_id}"


def followup_report(
    tasks: Iterable[Task], repurchasers: frozenset[str], now: float
) -> FollowupReport:
    """Completion per rule and per owner at ``now``, and what finished tasks led to:
    ``repurchasers`` are the session's buyers who repurchased within 30 days
    (``Repurchase.repurchasers``). A member counts as *done* for a rule when one of their
    tasks of that rule is done (overall: any of their tasks)."""
    report = FollowupReport()
    done_by_rule: dict[str, dict[str, bool]] = {}
    done_any: dict[str, bool] = {}
    for task in sorted(tasks, key=lambda t: (t.rule_id, owner_key(t), t.member_id)):
        state = task_state(task, now)
        report.titles.setdefault(task.rule_id, task.title)
        for tally in (
            report.by_rule.setdefault(task.rule_id, Tally()),
            report.by_owner.setdefault(owner_key(task), Tally()),
            report.total,
        ):
            tally.add(state)
        done = task.done_at is not None
        members = done_by_rule.setdefault(task.rule_id, {})
        members[task.member_id] = members.get(task.member_id, False) or done
        done_any[task.member_id] = done_any.get(task.member_id, False) or done
    for rule, members in done_by_rule.items():
        report.outcome_by_rule[rule] = _outcome(members, repurchasers)
    report.outcome = _outcome(done_any, repurchasers)
    return report


def _outcome(members: Mapping[str, bool], repurchasers: frozenset[str]) -> Outcome:
    outcome = Outcome()
    for member, done in members.items():
        again = member in repurchasers
        if done:
            outcome.done_members += 1
            outcome.done_repurchased += again
        else:
            outcome.undone_members += 1
            outcome.undone_repurchased += again
    return outcome


def state_rows(payload: Mapping[str, Any], leaders: Mapping[str, str]) -> list[list[str]]:
    """The report's completion table: one row per rule, then per owner (owner names:
    运营, or the 团长 of a point from ``leaders``)."""
    rows: list[list[str]] = []
    for row in payload.get("by_rule", []):
        rows.append([f"规则 {row['title']}", *_counts(row)])
    for row in payload.get("by_owner", []):
        owner = str(row["owner"])
        if owner == Owner.OPERATOR.value:
            name = "运营"
        else:
            point = owner.partition(":")[2]
            name = f"{leaders.get(point) or '团长'}（{point}）"
        rows.append([f"负责人 {name}", *_counts(row)])
    return rows


def _counts(row: Mapping[str, Any]) -> list[str]:
    return [str(row[k]) for k in ("total", "on_time", "late", "pending", "overdue")]


def outcome_rows(payload: Mapping[str, Any]) -> list[list[str]]:
    """What finished tasks led to, per rule and in total: done vs not done, 30-day repurchase."""
    rows = [[str(r["title"]), *_outcome_cells(r["outcome"])] for r in payload.get("by_rule", [])]
    if "outcome" in payload:
        rows.append(["合计（按会员）", *_outcome_cells(payload["outcome"])])
    return rows


def _outcome_cells(outcome: Mapping[str, Any]) -> list[str]:
    return [
        _rate_text(outcome["done_repurchased"], outcome["done_members"]),
        _rate_text(outcome["undone_repurchased"], outcome["undone_members"]),
    ]


def _rate_text(numerator: int, denominator: int) -> str:
    rate = Rate(numerator, denominator)
    return f"{rate.percent()}（{numerator}/{denominator}）"
