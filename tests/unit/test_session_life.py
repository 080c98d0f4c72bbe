"""A session's life, decided in the domain: who may move it, and what its log takes when."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.decisions import RefusalKind, Refused
from console.domain.sessions import (
    OffAir,
    SessionStatus,
    admit_platform_events,
    change_status,
    require_live,
)

statuses = st.sampled_from(list(SessionStatus))
maybe_status = st.one_of(st.none(), statuses)


@given(status=statuses, new=st.integers(min_value=1, max_value=10_000))
def test_new_platform_events_go_in_only_while_live(status: SessionStatus, new: int) -> None:
    admission = admit_platform_events(status, new)
    assert admission.accepted == (status is SessionStatus.LIVE)
    if admission.accepted:
        assert admission.refusal is None
    else:
        assert admission.refusal is not None
        assert admission.refusal.kind is RefusalKind.CONFLICT
        assert admission.refusal.field == "status"
        assert status.label in admission.refusal.reason  # names the session's status


@given(status=statuses, new=st.integers(min_value=1, max_value=10_000))
def test_refused_events_are_counted_as_early_before_the_show_and_late_after(
    status: SessionStatus, new: int
) -> None:
    expected = {
        SessionStatus.SCHEDULED: OffAir.EARLY,
        SessionStatus.LIVE: None,
        SessionStatus.ENDED: OffAir.LATE,
    }[status]
    assert admit_platform_events(status, new).off_air is expected


def test_the_reasons_say_what_happened() -> None:
    early = admit_platform_events(SessionStatus.SCHEDULED, 3).refusal
    late = admit_platform_events(SessionStatus.ENDED, 3).refusal
    assert early is not None
    assert "直播尚未开始" in early.reason
    assert late is not None
    assert "已结束" in late.reason
    assert "迟到" in late.reason


@given(status=statuses, new=st.integers(max_value=0))
def test_a_batch_of_repeats_only_is_acknowledged_whatever_the_status(
    status: SessionStatus, new: int
) -> None:
    assert admit_platform_events(status, new).accepted


@given(new=st.integers())
def test_events_for_a_missing_session_are_not_found(new: int) -> None:
    with pytest.raises(Refused) as refused:
        admit_platform_events(None, new)
    refusal = refused.value.refusal
    assert (refusal.kind, refusal.field) == (RefusalKind.NOT_FOUND, "sid")


@given(calls=st.lists(statuses, max_size=12))
def test_only_the_operators_calls_move_a_session_and_only_forward(
    calls: list[SessionStatus],
) -> None:
    """Any sequence of 开播/下播 calls: a session never goes back, and once ended stays ended;
    a repeated call changes nothing and is not refused."""
    order = list(SessionStatus)  # scheduled < live < ended
    status = SessionStatus.SCHEDULED
    for wanted in calls:
        if order.index(wanted) < order.index(status):
            with pytest.raises(Refused) as refused:
                change_status(status, wanted)
            assert refused.value.refusal.kind is RefusalKind.CONFLICT
            continue
        changed = change_status(status, wanted)
        assert changed == (wanted is not status)
        status = wanted


def test_an_ended_session_cannot_be_reopened() -> None:
    with pytest.raises(Refused) as refused:
        change_status(SessionStatus.ENDED, SessionStatus.LIVE)
    assert str(refused.value) == "status: 本场已结束，不能改为直播中"
    assert change_status(SessionStatus.SCHEDULED, SessionStatus.ENDED)  # a show called off


@given(status=maybe_status)
def test_require_live_agrees_with_the_ingest_decision(status: SessionStatus | None) -> None:
    """Orders and commands (require_live) and platform events take the same sessions."""
    try:
        require_live(status)
        live = True
    except Refused:
        live = False
    try:
        admitted = admit_platform_events(status, 1).accepted
    except Refused:
        admitted = False
    assert live == admitted
