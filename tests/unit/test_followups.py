"""Follow-up rules worked by hand: clauses and their refusals, tasks from buyers (same ids
twice, owners, due times), completion states at a given clock, who may complete, and what
finished tasks led to (30-day repurchase of done vs not done)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.domain.decisions import Refused
from console.domain.followups import (
    HOUR_S,
    BuyerFacts,
    CompleteRequest,
    Owner,
    Rule,
    RuleError,
    TaskState,
    completed,
    followup_report,
    may_complete,
    outcome_rows,
    parse_clause,
    plan_tasks,
    state_rows,
    task_state,
)
from console.domain.leader import (
    DAY_S,
    ORDER_DAYS,
    PickupState,
    check_pickable,
    day_start,
    listed,
    mask_phone,
    pickup_state,
    pickup_summary,
    still_needed,
)
from console.domain.segments import Segment

END = 1_780_000_000.0


def rule(rule_id: str, owner: Owner, *clauses: str, hours: float = 24) -> Rule:
    return Rule(rule_id, rule_id, tuple(parse_clause(c) for c in clauses), owner, hours)


RULES = [
    rule("vip-invite", Owner.OPERATOR, "circle == S3", "spent >= 298", hours=48),
    rule("s6-call", Owner.LEADER, "woke_up == true"),
    rule("welcome", Owner.LEADER, "new_customer == true"),
]


def buyer(member: str, circle: Segment | None, spent_yuan: float, **kw: object) -> BuyerFacts:
    facts = {
        "member_id": member,
        "circle": circle,
        "spent": round(spent_yuan * 100),
        "orders": 1,
        "new_customer": False,
        "koc": False,
        "pickup_point": "pt-1",
    }
    facts.update(kw)
    return BuyerFacts(**facts)  # type: ignore[arg-type]


BUYERS = [
    buyer("a", Segment.S3, 298.0),  # exactly 298: invited
    buyer("b", Segment.S3, 297.99),  # a fen short: not
    buyer("c", Segment.S6, 9.9, pickup_point="pt-2"),  # bought before, back: woke up, a call
    buyer("e", Segment.S6, 19.9, new_customer=True, pickup_point="pt-2"),  # first ever: welcome
    buyer("d", None, 50.0, new_customer=True, pickup_point=""),  # no point: no 团长 task
]


def test_clauses_parse_and_refuse_naming_the_field() -> None:
    assert parse_clause("circle in S1, S2").value == ("S1", "S2")
    assert parse_clause("spent >= 298").value == 29800  # whole fen, read exactly
    assert parse_clause("spent >= 297.99").value == 29799
    assert parse_clause("spent < 0.07").value == 7
    assert parse_clause("koc == true").value is True
    for text, field in (
        ("spend >= 298", "spend"),
        ("circle == S7", "circle"),
        ("spent >= lots", "spent"),
        ("woke_up >= true", "woke_up"),
        ("new_customer == yes", "new_customer"),
        ("spent", "when"),
        ("spent >= 298.005", "spent"),  # below a fen
        ("spent >= NaN", "spent"),
        ("pickup_point == p1,p2", "pickup_point"),  # one value: a list wants ``in``
        ("circle != S1, S2", "circle"),
    ):
        with pytest.raises(RuleError) as refused:
            parse_clause(text)
        assert refused.value.field == field
        assert refused.value.clause == text
    with pytest.raises(RuleError) as listed:
        parse_clause("pickup_point == p1,p2")
    assert "in" in str(listed.value)


def test_money_clauses_compare_whole_fen() -> None:
    exact = parse_clause("spent == 298")
    assert exact.holds(buyer("a", None, 298.0))
    assert not exact.holds(buyer("b", None, 297.99))
    assert parse_clause("spent >= 297.99").holds(buyer("b", None, 297.99))
    assert not parse_clause("spent > 297.99").holds(buyer("b", None, 297.99))


def test_a_refused_clause_names_its_own_line(tmp_path: Path) -> None:
    from console.store.followups import FollowupFileError, load_rule_file

    path = tmp_path / "rules.toml"
    path.write_text(
        'title = "t"\n\n[[rules]]\nid = "r1"\ntitle = "回访"\nowner = "operator"\n'
        'within_hours = 24\nwhen = [\n  "circle == S3",\n  "pickup_point == p1,p2",\n]\n',
        encoding="utf-8",
    )
    with pytest.raises(FollowupFileError) as refused:
        load_rule_file(path)
    assert str(refused.value).startswith(f"{path}:10: rules[0].when 字段 pickup_point: ")


def test_tasks_from_buyers_same_ids_twice() -> None:
    tasks = plan_tasks("s1", END, BUYERS, RULES, now=END + 60)
    made = {(t.rule_id, t.member_id, t.owner, t.point_id) for t in tasks}
    assert made == {
        ("vip-invite", "a", Owner.OPERATOR, "pt-1"),
        ("s6-call", "c", Owner.LEADER, "pt-2"),
        ("welcome", "e", Owner.LEADER, "pt-2"),
    }
    due = {t.rule_id: t.due_at - END for t in tasks}
    assert due == {"vip-invite": 48 * HOUR_S, "s6-call": 24 * HOUR_S, "welcome": 24 * HOUR_S}
    again = plan_tasks("s1", END, BUYERS, RULES, now=END + 9_999)
    assert [t.id for t in again] == [t.id for t in tasks]
    assert not {t.id for t in plan_tasks("s2", END, BUYERS, RULES, END)} & {t.id for t in tasks}


def test_a_first_order_ever_is_a_new_neighbour_never_woken_up() -> None:
    """唤醒 is a dormant member who had bought before coming back (as the shout-out
    ``comeback``): a first-time S6 buyer gets the welcome only, not the wake-up call."""
    first = buyer("e", Segment.S6, 19.9, new_customer=True)
    back = buyer("c", Segment.S6, 9.9)
    assert (first.woke_up, back.woke_up) == (False, True)
    assert parse_clause("woke_up == true").holds(back)
    assert not parse_clause("woke_up == true").holds(first)
    assert not buyer("s5", Segment.S5, 9.9).woke_up  # only S6 sleeps
    rules = {t.rule_id for t in plan_tasks("s1", END, [first], RULES, END)}
    assert rules == {"welcome"}


def test_states_at_the_clock_and_who_may_complete() -> None:
    call = next(t for t in plan_tasks("s1", END, BUYERS, RULES, END) if t.rule_id == "s6-call")
    due = call.due_at
    assert task_state(call, due) is TaskState.PENDING  # the due second itself is still on time
    assert task_state(call, due + 1) is TaskState.OVERDUE
    leader_2 = CompleteRequest("团长2", leader_point="pt-2")
    assert may_complete(call, leader_2)
    assert not may_complete(call, CompleteRequest("团长1", leader_point="pt-1"))
    assert may_complete(call, CompleteRequest("运营"))
    on_time = completed(call, leader_2, due)
    assert on_time is not None
    assert task_state(on_time, due + 10 * HOUR_S) is TaskState.ON_TIME
    assert completed(on_time, leader_2, due + 5) is None  # done once: idempotent
    late = completed(call, leader_2, due + 1)
    assert late is not None
    assert task_state(late, due + 1) is TaskState.LATE
    vip = next(t for t in plan_tasks("s1", END, BUYERS, RULES, END) if t.owner is Owner.OPERATOR)
    assert not may_complete(vip, CompleteRequest("团长1", leader_point="pt-1"))  # operator's


def test_report_by_rule_owner_and_outcome_worked_by_hand() -> None:
    tasks = plan_tasks("s1", END, BUYERS, RULES, END)
    by_rule = {t.rule_id: t for t in tasks}
    done_call = completed(by_rule["s6-call"], CompleteRequest("团长2", "pt-2"), END + HOUR_S)
    late_vip = completed(by_rule["vip-invite"], CompleteRequest("运营"), END + 49 * HOUR_S)
    assert done_call is not None
    assert late_vip is not None
    now = END + 30 * HOUR_S  # welcome (due +24 h) overdue; vip not yet done at +30 h...
    report = followup_report([done_call, by_rule["welcome"], late_vip], frozenset({"c", "e"}), now)
    payload = report.to_json()
    rules = {r["rule_id"]: r for r in payload["by_rule"]}
    assert (rules["s6-call"]["on_time"], rules["welcome"]["overdue"]) == (1, 1)
    assert rules["vip-invite"]["late"] == 1  # ...but its done_at is what counts once done
    owners = {r["owner"]: r for r in payload["by_owner"]}
    assert owners["leader:pt-2"] == {
        "owner": "leader:pt-2",
        "total": 2,
        "on_time": 1,
        "late": 0,
        "pending": 0,
        "overdue": 1,
        "done": 1,
        "done_rate": 0.5,
    }
    # c: the call done -> done member, repurchased; a: vip done late, no repurchase;
    # e: the welcome not done -> undone member, repurchased.
    assert payload["outcome"] == {
        "done_members": 2,
        "done_repurchased": 1,
        "done_repurchase_rate": 0.5,
        "undone_members": 1,
        "undone_repurchased": 1,
        "undone_repurchase_rate": 1.0,
    }
    # Per rule: welcome's member e did not get the welcome, and repurchased.
    assert rules["welcome"]["outcome"]["undone_repurchased"] == 1
    rows = state_rows(payload, {"pt-2": "韦团长"})
    assert ["负责人 韦团长（pt-2）", "2", "1", "0", "0", "1"] in rows
    assert outcome_rows(payload)[-1] == ["合计（按会员）", "50.0%（1/2）", "100.0%（1/1）"]


def test_the_leader_page_figures() -> None:
    assert mask_phone("13553355246") == "135****5246"
    assert mask_phone("") == ""
    assert still_needed(3, 1) == 2
    assert still_needed(3, 5) == 0
    # 2026-11-30 01:00 China time is 2026-11-29 17:00 UTC: the day starts at 16:00 UTC.
    assert day_start(1_795_971_600.0) == 1_795_968_000.0
    orders = [
        {"quantity": 2, "picked_up_at": 5.0, "state": "picked_up"},
        {"quantity": 1, "picked_up_at": None, "state": "to_hand_out"},
        {"quantity": 4, "picked_up_at": None, "state": "awaiting_chain"},
    ]
    assert pickup_summary(orders) == {
        "orders": 3,
        "picked_up": 1,
        "to_hand_out": 1,
        "awaiting_chain": 1,
        "items": 7,
    }


def test_the_leader_page_lists_last_nights_orders_next_morning() -> None:
    # 2026-11-29 20:30 China time (the show) and 2026-11-30 09:00 (the next morning).
    show = 1_795_968_000.0 - 3.5 * 3600
    morning = 1_795_968_000.0 + 9 * 3600
    assert listed(show, None, morning)  # not picked up: still to hand out
    assert not listed(show, show + 3600, morning)  # picked up last night: off the page
    assert listed(show, morning - 60, morning)  # picked up this morning: still listed
    # ORDER_DAYS days after the show's day it drops off, picked up or not.
    assert listed(show, None, morning + (ORDER_DAYS - 2) * DAY_S)
    assert not listed(show, None, morning + (ORDER_DAYS - 1) * DAY_S)


def test_an_order_of_an_open_chain_waits_for_it_to_form() -> None:
    assert pickup_state(None, "open") is PickupState.AWAITING_CHAIN
    assert pickup_state(None, "formed") is PickupState.TO_HAND_OUT
    assert pickup_state(None, None) is PickupState.TO_HAND_OUT
    assert pickup_state(3.0, "closed") is PickupState.PICKED_UP
    check_pickable("o-1", "formed")
    with pytest.raises(Refused) as waiting:
        check_pickable("o-1", "open")
    assert waiting.value.refusal.field == "order_id"
    assert "o-1" in waiting.value.refusal.reason
    assert "待成团" in waiting.value.refusal.reason
