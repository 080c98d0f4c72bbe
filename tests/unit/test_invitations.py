"""Reservations and invitations per circle, worked by hand (``console.domain``), and the
template file's refusals naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain import invitations as inv
from console.domain.decisions import Refused
from console.domain.identities import BindCode
from console.domain.reservations import (
    BIND_CODE_REFUSED,
    Reservation,
    Source,
    code_in,
    is_bind_code,
    reservation_figures,
    reserve_with_bind_code,
)
from console.domain.segments import Segment
from console.store.invitations import InvitationFileError, load_template_file

TEMPLATES = {
    Segment.S1: inv.Template(Segment.S1, "您好，尊享专席{code}", "{codes}", "尊享", "臻纯牧场"),
    Segment.S4: inv.Template(
        Segment.S4, "9.9元尝鲜{point}{code}", "{leader}:{codes}", "性价比", "臻纯牧场"
    ),
}


def _member(n: int, circle: Segment | None, **kw: object) -> inv.Recipient:
    return inv.Recipient(f"m{n:03d}", f"林*{n}", circle, bool(kw.pop("opted_out", False)), **kw)  # type: ignore[arg-type]


def test_reservation_figures_by_hand() -> None:
    # S1: a (joined), b; S4: c (joined); d without a circle. Reserved 4, arrived 2.
    rows = [
        Reservation("a", Segment.S1, Source.API, 1.0),
        Reservation("b", Segment.S1, Source.CODE, 2.0),
        Reservation("c", Segment.S4, Source.IMPORT, 3.0),
        Reservation("d", None, Source.API, 4.0),
        Reservation("a", Segment.S2, Source.IMPORT, 9.0),  # a again: counts once, first circle
    ]
    figures = reservation_figures(rows, {"a", "c", "guest-ish"})
    assert figures.caption() == "预约 4 · 已到 2"
    assert figures.conversion().fraction() == "2/4"
    assert figures.conversion("S1").fraction() == "1/2"
    assert figures.to_json()["by_segment"]["unsegmented"]["reserved"] == 1
    assert figures.to_json()["by_segment"]["S2"]["reservation_conversion"] is None


def test_codes_typed_in_a_group() -> None:
    assert code_in("预约 123456") == "123456"
    assert code_in("预约：k7f3q2a8") == "K7F3Q2A8"
    assert code_in("预约１２３４５６") == "123456"  # full-width digits
    assert code_in("今晚几点开播？") is None
    # "绑定 …" is a bind comment, never a reservation.
    assert code_in("绑定 123456") is None
    assert code_in("bind K7F3Q2A8") is None
    assert not is_bind_code("K7F3Q2A8")
    assert is_bind_code(code_in("预约１２３４５６") or "")


def test_a_bind_code_typed_in_a_group_reserves_once_and_only_while_valid() -> None:
    code = BindCode("123456", "m001", expires_at=1_000.0)
    assert reserve_with_bind_code(code, "123456", 999.0) == "m001"
    refusals = {
        "unknown": (None, "123456", 10.0),
        "another": (code, "654321", 10.0),
        "used": (BindCode("123456", "m001", 1_000.0, used=True), "123456", 10.0),
        "expired": (code, "123456", 1_000.0),  # the expiry second itself is too late
    }
    reasons = {}
    for name, (found, typed, now) in refusals.items():
        with pytest.raises(Refused) as refused:
            reserve_with_bind_code(found, typed, now)
        assert refused.value.refusal.field == "code"
        reasons[name] = refused.value.refusal.reason
    # One answer for all: trying numbers in a group tells nothing about which codes exist.
    assert set(reasons.values()) == {BIND_CODE_REFUSED}
    assert "已过期" in BIND_CODE_REFUSED


def test_selection_by_hand() -> None:
    # m001 S1 WeCom; m002 S1 opted out; m003 S1 at the cap (2 of 2); m004 S4 phone; m005 S4
    # only a point (group); m006 S4 unreachable; m007 S2 (no template); m008 S1 invited before.
    people = [
        _member(1, Segment.S1, wecom_id="wm1", phone="138"),
        _member(2, Segment.S1, opted_out=True, phone="139"),
        _member(3, Segment.S1, phone="137"),
        _member(4, Segment.S4, phone="136", point_id="pt1", point_name="云栖"),
        _member(5, Segment.S4, point_id="pt1", leader="彭团长", point_name="云栖"),
        _member(6, Segment.S4),
        _member(7, Segment.S2, phone="135"),
        _member(8, Segment.S1, phone="134"),
    ]
    codes = iter(["C1AAAAAA", "C2AAAAAA", "C3AAAAAA"])
    chosen = inv.select(people, TEMPLATES, {"m003": 2}, {"m008"}, 2, codes, "夏日冰饮季")
    assert [(i.member_id, i.channel.value) for i in chosen.invitations] == [
        ("m001", "wecom"),
        ("m004", "sms"),
        ("m005", "group"),
    ]
    assert chosen.invitations[0].text == "您好，尊享专席C1AAAAAA"  # WeCom: no signature
    assert chosen.invitations[1].text == "【臻纯牧场】9.9元尝鲜云栖C2AAAAAA拒收请回复R"
    assert chosen.skipped == {
        "opted_out": 1,
        "monthly_cap": 1,
        "unreachable": 1,
        "already_invited": 1,
    }
    by_id = {p.member_id: p for p in people}
    groups = inv.group_messages(chosen.invitations, by_id, TEMPLATES, "夏日冰饮季")
    assert [(g.point_id, g.text) for g in groups] == [("pt1", "彭团长:@林*5 预约码 C3AAAAAA")]


def test_funnel_by_hand() -> None:
    # 4 invited (S1: a, b under pt1; S4: c, d under pt2). a reserved with its code, joined,
    # ordered; b reserved without the code (not through the invitation); c reserved with
    # its code and joined; d nothing. Total 4 -> 2 -> 2 -> 1.
    sent = [
        inv.Sent("A", "a", Segment.S1, "pt1", "彭团长"),
        inv.Sent("B", "b", Segment.S1, "pt1", "彭团长"),
        inv.Sent("C", "c", Segment.S4, "pt2", "邹团长"),
        inv.Sent("D", "d", Segment.S4, "pt2", "邹团长"),
    ]
    funnel = inv.funnel(sent, {"a": "A", "c": "C"}, {"a", "b", "c"}, {"a", "b"}).to_json()
    assert funnel["total"]["invited"] == 4
    assert (funnel["total"]["reserved"], funnel["total"]["watched"]) == (2, 2)
    assert funnel["total"]["ordered"] == 1
    assert funnel["total"]["invite_to_order"] == 0.25
    assert funnel["by_segment"]["S1"]["reservation_rate"] == 0.5
    assert [(r["leader"], r["ordered"]) for r in funnel["by_leader"]] == [
        ("彭团长", 1),
        ("邹团长", 0),
    ]


def test_sms_parts_and_codes() -> None:
    assert inv.sms_parts("字" * 70) == 1
    assert inv.sms_parts("字" * 71) == 2
    assert inv.sms_parts("字" * 135) == 3
    assert len(inv.code_from(2**63)) == inv.CODE_LENGTH
    assert not inv.code_from(0).isdigit()
    assert inv.month_of(1_764_518_400.0) == "2025-12"  # 2025-11-30 16:00 UTC = 12-01 00:00 +8


@given(
    st.lists(
        st.tuples(
            st.sampled_from([Segment.S1, Segment.S4, Segment.S2]),
            st.booleans(),  # opted out
            st.integers(min_value=0, max_value=5),  # already sent this month
        ),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=3),
)
def test_cap_never_exceeded_and_opted_out_never_selected(
    people: list[tuple[Segment, bool, int]], cap: int, exports: int
) -> None:
    recipients = [
        _member(n, circle, opted_out=out, phone=f"1{n:010d}")
        for n, (circle, out, _) in enumerate(people)
    ]
    sent = {f"m{n:03d}": already for n, (_, _, already) in enumerate(people)}
    counter = iter(range(10**6))
    for export in range(exports):  # several sessions' exports in one month
        chosen = inv.select(
            recipients,
            TEMPLATES,
            sent,
            set(),
            cap,
            (f"K{next(counter):07d}" for _ in iter(int, 1)),
            f"场次{export}",
        )
        for invitation in chosen.invitations:
            sent[invitation.member_id] = sent.get(invitation.member_id, 0) + 1
            person = next(r for r in recipients if r.member_id == invitation.member_id)
            assert not person.opted_out
            assert person.circle in TEMPLATES
        for n, (_, _, already) in enumerate(people):
            assert sent[f"m{n:03d}"] <= max(cap, already)  # never pushed past the cap


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_circle_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'title = "夏日冰饮季"\nsignature = "臻纯牧场"\n\n[[circles]]\ncircle = "S1"\n'
        'tag = "尊享"\ntext = "{code}"\n'
        'group_text = "{codes}"\n\n[[circles]]\ntag = "x"\ncircle = "S9"\ntext = "{code}"\n'
        'group_text = "{codes}"\n',
    )
    with pytest.raises(InvitationFileError) as refused:
        load_template_file(path)
    assert str(refused.value) == f"{path}:12: circles[1].circle: 未知的圈层 'S9'（可选 S1..S6）"


def test_unknown_placeholder_and_bad_cap_name_their_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'title = "t"\nmonthly_cap = 0\nsignature = "鲜直达"\n[[circles]]\ncircle = "S4"\n'
        'tag = "x"\ntext = "{price}"\ngroup_text = "{codes}"\n',
    )
    with pytest.raises(InvitationFileError) as refused:
        load_template_file(path)
    lines = str(refused.value).splitlines()
    assert lines[0].startswith(f"{path}:2: monthly_cap: ")
    assert lines[1].startswith(f"{path}:7: circles[0].text: ")
    assert "price" in lines[1]


def test_the_shipped_templates_load() -> None:
    from console.resources import resource_path

    spec = load_template_file(resource_path("invitations/zhenchun-summer-ice.toml"))
    assert {t.circle for t in spec.circles} == set(Segment)


def test_report_rows_come_from_the_same_json() -> None:
    from console.domain.reservations import reservation_rows

    rows = [
        Reservation("a", Segment.S1, Source.API, 1.0),
        Reservation("b", Segment.S1, Source.API, 2.0),
    ]
    figures = reservation_figures(rows, {"a"}).to_json()
    assert reservation_rows(figures)[0] == ["合计", 2, 1, "50.0%"]
    funnel = inv.funnel([inv.Sent("A", "a", Segment.S1, "pt1", "彭团长")], {"a": "A"}, {"a"}, set())
    assert inv.funnel_rows(funnel.to_json())[-1] == ["彭团长", 1, 1, 1, 0, "0.0%"]


def test_a_text_a_spreadsheet_would_run_is_refused_at_load(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'title = "t"\nsignature = "鲜直达"\n[[circles]]\ncircle = "S4"\ntag = "x"\n'
        'text = "@会员 来预约 {code}"\ngroup_text = "+{codes}"\n',
    )
    with pytest.raises(InvitationFileError) as refused:
        load_template_file(path)
    lines = str(refused.value).splitlines()
    assert lines[0].startswith(f"{path}:6: circles[0].text: ")
    assert lines[1].startswith(f"{path}:7: circles[0].group_text: ")
    assert all("不能以 = + - @ 开头" in line for line in lines)


def test_sms_phones_are_written_as_digits_unquoted(tmp_path: Path) -> None:
    import csv

    from console.store.invitations import SMS_FILE
    from console.store.invitations import _write as write_files

    assert inv.sms_phone("+86 138-0000-0000") == "8613800000000"
    member = _member(1, Segment.S4, phone="+8613800000000")
    sent = inv.Invitation("K7F3Q2A8", member.member_id, Segment.S4, inv.Channel.SMS, "", "", "到店")
    write_files(tmp_path, [sent], {member.member_id: member}, TEMPLATES, [])
    with (tmp_path / SMS_FILE).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"phone": "8613800000000", "content": "到店", "chars": "2", "parts": "1"}]


def test_two_points_never_share_a_group_file() -> None:
    from console.store.invitations import _safe

    names = {_safe(p) for p in ("pt/1", "pt_1", "pt 1", "pt:1", "自提点1", "自提点2")}
    assert len(names) == 6
    assert all(n.isascii() and "/" not in n for n in names)
    assert _safe("pt-xihu").startswith("pt-xihu-")


def test_members_outside_the_sessions_audience_are_never_invited() -> None:
    # m001 S1 in the audience; m004 S4 and m009 S1 outside it: neither is invited, whatever
    # their circle's template says; without an audience (None) the circles alone decide.
    people = [
        _member(1, Segment.S1, phone="138"),
        _member(4, Segment.S4, phone="136"),
        _member(9, Segment.S1, phone="131"),
    ]
    chosen = inv.select(people, TEMPLATES, {}, set(), 4, iter(["C1AAAAAA"]), "t", audience={"m001"})
    assert [i.member_id for i in chosen.invitations] == ["m001"]
    assert chosen.skipped == {"not_in_audience": 2}
    codes = iter(["C1AAAAAA", "C2AAAAAA", "C3AAAAAA"])
    everyone = inv.select(people, TEMPLATES, {}, set(), 4, codes, "t", audience=None)
    assert len(everyone.invitations) == 3
    assert inv.audience_of({}, []) is None
    assert inv.audience_of({"segments": ["S1"], "reached": 0}, []) == frozenset()
    assert inv.audience_of({"segments": ["S1"]}, ["m001"]) == {"m001"}


def test_an_sms_greets_without_a_masked_name_signed_and_with_its_opt_out(
    tmp_path: Path,
) -> None:
    # The user's SMS read "林*您好，…": a masked nick greets nobody, and the full name may not
    # leave the store (only the masked nick is in an export), and members hold no gender for
    # "林女士". The shipped texts greet with "您好，"; an SMS is signed 【鲜直达】 first and ends
    # with 拒收请回复R, both counted in its characters and parts.
    from console.resources import resource_path

    for name, signature in (
        ("xianzhida-summer-light", "鲜直达"),
        ("zhenchun-summer-ice", "臻纯牧场"),
    ):
        spec = load_template_file(resource_path(f"invitations/{name}.toml"))
        assert spec.signature == signature
        people = [_member(n, circle, phone="138") for n, circle in enumerate(Segment, 1)]
        codes = (f"C{n}AAAAAA" for n in range(1, 10))
        chosen = inv.select(people, spec.templates(), {}, set(), 4, codes, spec.title)
        assert len(chosen.invitations) == len(Segment)
        for invitation in chosen.invitations:
            assert invitation.text.startswith(f"【{signature}】")
            assert invitation.text.endswith("拒收请回复R")
            assert "*" not in invitation.text
    text = inv.sms_text("鲜直达", "您好，" + "冰" * 57)  # 5 + 3 + 57 + 6 = 71 characters
    assert len(text) == 71
    assert inv.sms_parts(text) == 2
    assert inv.sms_parts(inv.sms_text("鲜直达", "您好，" + "冰" * 56)) == 1

    nick = _write(
        tmp_path,
        'title = "t"\nsignature = "鲜直达"\n[[circles]]\ncircle = "S4"\ntag = "x"\n'
        'text = "{nick}您好 {code}"\ngroup_text = "{codes}"\n',
    )
    with pytest.raises(InvitationFileError) as refused:
        load_template_file(nick)
    assert str(refused.value) == f"{nick}:6: circles[0].text: 取值无效：{inv.NICK_REFUSED}"
    unsigned = _write(
        tmp_path,
        'title = "t"\n[[circles]]\ncircle = "S4"\ntag = "x"\n'
        'text = "您好 {code}"\ngroup_text = "{codes}"\n',
    )
    with pytest.raises(InvitationFileError) as missing:
        load_template_file(unsigned)
    assert "signature" in str(missing.value)
