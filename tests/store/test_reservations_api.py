"""Reservations (预约) and the invitation funnel over real HTTP (SQLite, and PostgreSQL in the
second pass): the figures of ``console.domain.reservations`` and ``invitations``, worked by
hand, the same in ``GET /reservations``, ``/stats`` and the export's records."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from console.resources import resource_path
from console.store import invitations as invitations_store
from console.store.invitations import ExportFolderInUse, export_invitations
from console.store.schema import connect, open_store, transaction
from tests.helpers import StoreProcess, event, open_db, post
from tests.store.test_orders import members_by_segment, open_shop, order

TEMPLATES = "invitations/zhenchun-summer-ice.toml"


def _count(store: StoreProcess, sid: str) -> int:
    with open_db(store.db_path) as db:
        return int(
            db.execute("SELECT count(*) FROM reservations WHERE session_id = ?", [sid]).fetchone()[
                0
            ]
        )


def test_reservations_by_api_code_and_import(store: StoreProcess, tmp_path: Path) -> None:
    # Worked by hand: S1 a (API) and b (their bind code typed in the group), S4 c
    # (the platform's export); the show starts, a and c join. Reserved 3 (S1 2, S4 1), arrived 2
    # (S1 1, S4 1): "预约 3 · 已到 2", conversion 2/3 in total, 1/2 in S1.
    circles = members_by_segment(store)
    a, b = circles["S1"][:2]
    c = circles["S4"][0]
    sid = store.new_session("预热场", live=False)
    with store.client("ingest") as client:
        made = client.post(f"/sessions/{sid}/reservations", json={"member_id": a, "id": "r1"})
        assert made.status_code == 201, made.text
        again = client.post(f"/sessions/{sid}/reservations", json={"member_id": a, "id": "r1"})
        assert again.status_code == 200
        assert again.json()["created"] is False
        unknown = client.post(f"/sessions/{sid}/reservations", json={"member_id": "nobody"})
        assert unknown.status_code == 404
        assert unknown.json()["problems"][0]["field"] == "member_id"
    with store.client("assistant") as client:
        code = client.get(f"/members/{b}/bind-code").json()["code"]
    # b types their bind code in the group: b reserves, and the code is spent (everyone in
    # the group saw it): typed again, or used to bind a handle, it is refused. "绑定 …" is
    # never a reservation; an unknown code is refused naming the field.
    with store.client("ingest") as client:
        made = client.post(f"/sessions/{sid}/reservations/code", json={"text": f"预约 {code}"})
        assert made.status_code == 201, made.text
        assert made.json()["member_id"] == b
        for text, reason in (
            (f"预约 {code}", "绑定码无效或已失效"),
            (f"绑定 {code}", "消息里没有预约码"),
            ("预约 765432", "绑定码无效或已失效"),
        ):
            typed = client.post(f"/sessions/{sid}/reservations/code", json={"text": text})
            assert typed.status_code in (404, 409, 422), typed.text
            assert typed.json()["problems"][0]["field"] == "code"
            assert typed.json()["problems"][0]["reason"].startswith(reason)
        assert _count(store, sid) == 2
    db = open_store(store.db_path)
    try:
        assert db.execute("SELECT used_at FROM bind_codes WHERE code = ?", [code]).fetchone()[0]
    finally:
        db.close()

    # A bad export: the problems name the file, the line and the column; nothing applied.
    bad = f"用户ID,预约时间\n{c},2026-11-28 20:00\nnobody,2026-11-28 20:01\n{c},昨天晚上\n"
    with store.client("operator") as client:
        refused = client.post(
            f"/sessions/{sid}/reservations/import",
            params={"map": "member_id=用户ID,reserved_at=预约时间", "filename": "douyin.csv"},
            content=bad.encode(),
        )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["applied"] is False
    assert body["rejected"] == 2
    problems = [(p["line"], p["column"]) for p in body["problems"]]
    assert problems == [(3, "用户ID (member_id)"), (4, "预约时间 (reserved_at)")]
    assert "douyin.csv" in body["error"] or body["file"] == "douyin.csv"
    assert _count(store, sid) == 2  # a and b only: nothing of the file went in
    good = f"用户ID,预约时间\n{c},2026-11-28 20:00\n{a},2026-11-28 20:05\n"
    with store.client("operator") as client:
        imported = client.post(
            f"/sessions/{sid}/reservations/import",
            params={"map": "member_id=用户ID,reserved_at=预约时间"},
            content=good.encode(),
        )
    assert imported.status_code == 200, imported.text
    assert imported.json()["inserted"] == 1
    assert imported.json()["unchanged"] == 1

    with store.client("operator") as client:
        client.patch(f"/sessions/{sid}", json={"status": "live"}).raise_for_status()
    post(store, sid, [event("viewer_joined", a), event("viewer_joined", c)])
    with store.client("host") as client:
        figures = client.get(f"/sessions/{sid}/reservations").json()
        stats = client.get(f"/sessions/{sid}/stats").json()
    assert figures["total"] == {"reserved": 3, "arrived": 2, "reservation_conversion": 0.6667}
    assert figures["by_segment"]["S1"] == {
        "reserved": 2,
        "arrived": 1,
        "reservation_conversion": 0.5,
    }
    assert figures["by_segment"]["S4"]["reservation_conversion"] == 1.0
    assert figures["by_segment"]["S2"]["reservation_conversion"] is None
    assert figures["caption"] == "预约 3 · 已到 2"
    assert stats["reservations"]["total"] == figures["total"]
    assert stats["reservations"]["by_segment"] == figures["by_segment"]

    with store.client("operator") as client:
        client.patch(f"/sessions/{sid}", json={"status": "ended"}).raise_for_status()
    with store.client("ingest") as client:
        late = client.post(f"/sessions/{sid}/reservations", json={"member_id": c})
    assert late.status_code == 409
    assert late.json()["problems"][0]["field"] == "sid"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_invitations_export_cap_opt_out_and_funnel(store: StoreProcess, tmp_path: Path) -> None:
    sid = open_shop(store, "冰爽私享会")
    with open_db(store.db_path) as db:
        s1 = [
            r[0]
            for r in db.execute(
                "SELECT id FROM members WHERE segment = 'S1' ORDER BY id LIMIT 4"
            ).fetchall()
        ]
        # One opts out, one gets a WeCom contact, one loses their phone (SMS), the last has
        # neither (the 团长's group), and every other circle is out of this test's way.
        db.execute("UPDATE members SET segment = 'S2' WHERE segment = 'S1'")
        for member in s1:
            db.execute("UPDATE members SET segment = 'S1', opted_out = 0 WHERE id = ?", [member])
        db.execute("UPDATE members SET opted_out = 1 WHERE id = ?", [s1[0]])
        db.execute(
            "INSERT INTO identities (platform, handle, member_id, source, bound_at) "
            "VALUES ('wecom', 'wmEXT001', ?, 'import', 0)",
            [s1[1]],
        )
        db.execute("UPDATE members SET phone = '13800000000' WHERE id = ?", [s1[2]])
        db.execute("UPDATE members SET phone = '' WHERE id = ?", [s1[3]])
    template = tmp_path / "s1.toml"
    # The shipped file's header and its S1 table only, with a cap of 1.
    shipped = resource_path(TEMPLATES).read_text(encoding="utf-8")
    text = shipped.split('circle = "S2"')[0].rsplit("[[circles]]", 1)[0]
    template.write_text(text.replace("monthly_cap = 4", "monthly_cap = 1"), encoding="utf-8")
    db = connect(store.db_path)
    try:
        out = tmp_path / "out"
        summary = export_invitations(db, sid, template, out, time.time)
        # A second export for another session in the same month: the cap (1) stops it.
        other = store.new_session("另一场")
        second = export_invitations(db, other, template, tmp_path / "out2", time.time)
    finally:
        db.close()
    assert summary["invited"] == 3
    assert summary["by_channel"] == {"wecom": 1, "sms": 1, "group": 1}
    assert summary["skipped"] == {"opted_out": 1}
    assert second["invited"] == 0
    assert second["skipped"] == {"opted_out": 1, "monthly_cap": 3}
    wecom = _rows(out / "wecom_mass_send.csv")
    assert [r["external_userid"] for r in wecom] == ["wmEXT001"]
    assert wecom[0]["tag"] == "夏日冰饮季-冰爽私享会"
    assert wecom[0]["invite_code"] in wecom[0]["content"]
    sms = _rows(out / "sms.csv")
    assert [r["phone"] for r in sms] == ["13800000000"]
    # Signed 【臻纯牧场】, greeted without a name, ending with the opt-out line; all counted.
    content = sms[0]["content"]
    assert content.startswith("【臻纯牧场】您好，")
    assert content.endswith("拒收请回复R")
    assert sms[0]["chars"] == str(len(content))
    assert sms[0]["parts"] == "1"  # 69 characters: one SMS up to 70
    assert wecom[0]["content"].startswith("您好，")  # WeCom: no SMS signature
    groups = list(out.glob("group_*.txt"))
    assert len(groups) == 1
    assert "预约码" in groups[0].read_text(encoding="utf-8")
    with open_db(store.db_path) as conn:
        codes = dict(
            conn.execute(
                "SELECT member_id, code FROM invitations WHERE session_id = ?", [sid]
            ).fetchall()
        )
    assert s1[0] not in codes

    # The funnel, by hand: 3 invited; s1[1] reserves with their code, joins and orders;
    # s1[2] reserves with their code typed in the group and joins; s1[3] does nothing.
    # invited 3, reserved 2, watched 2, ordered 1; all under the one 团长 of the group.
    with store.client("ingest") as client:
        client.post(
            f"/sessions/{sid}/reservations",
            json={"member_id": s1[1], "invite_code": codes[s1[1]]},
        ).raise_for_status()
        typed = client.post(
            f"/sessions/{sid}/reservations/code", json={"text": f"预约：{codes[s1[2]].lower()}"}
        )
        assert typed.status_code == 201, typed.text
        wrong = client.post(
            f"/sessions/{sid}/reservations",
            json={"member_id": s1[3], "invite_code": codes[s1[1]]},
        )
        assert wrong.status_code == 404
        assert wrong.json()["problems"][0]["field"] == "invite_code"
    post(store, sid, [event("viewer_joined", s1[1]), event("viewer_joined", s1[2])])
    with store.client("operator") as client:
        placed = client.post(f"/sessions/{sid}/orders", json=order(s1[1]))
        assert placed.status_code == 201, placed.text
    with store.client("host") as client:
        funnel: dict[str, Any] = client.get(f"/sessions/{sid}/invitations/funnel").json()
        stats = client.get(f"/sessions/{sid}/stats").json()
    assert funnel["total"] == {
        "invited": 3,
        "reserved": 2,
        "watched": 2,
        "ordered": 1,
        "reservation_rate": 0.6667,
        "watch_rate": 1.0,
        "order_rate": 0.5,
        "invite_to_order": 0.3333,
    }
    assert funnel["by_segment"]["S1"] == funnel["total"]
    assert sum(row["invited"] for row in funnel["by_leader"]) == 3
    assert stats["invitation_funnel"]["total"] == funnel["total"]


def test_export_invites_only_the_sessions_audience(store: StoreProcess, tmp_path: Path) -> None:
    # An S1-only 私享会 (audience S1): the shipped file has a text for every circle, yet only
    # S1 members are invited; the rest of the base is counted as 不在本场受众, never sent to.
    sid = store.new_session("冰爽私享会", live=False)
    with store.client("operator") as client:
        put = client.put(f"/sessions/{sid}/audience", json={"segments": ["S1"]})
        assert put.status_code == 200, put.text
    with open_db(store.db_path) as db:
        circles = dict(
            db.execute("SELECT id, segment FROM members WHERE segment IS NOT NULL").fetchall()
        )
    outside = sum(1 for s in circles.values() if s != "S1")
    assert outside > 0
    db = connect(store.db_path)
    try:
        summary = export_invitations(db, sid, resource_path(TEMPLATES), tmp_path / "out", time.time)
        # A session without an audience keeps inviting the templates' circles.
        other = store.new_session("全员场", live=False)
        everyone = export_invitations(
            db, other, resource_path(TEMPLATES), tmp_path / "out2", time.time
        )
    finally:
        db.close()
    with open_db(store.db_path) as conn:
        invited = [
            r[0]
            for r in conn.execute(
                "SELECT member_id FROM invitations WHERE session_id = ?", [sid]
            ).fetchall()
        ]
        others = [
            r[0]
            for r in conn.execute(
                "SELECT member_id FROM invitations WHERE session_id = ?", [other]
            ).fetchall()
        ]
    assert invited
    assert {circles[m] for m in invited} == {"S1"}
    assert summary["skipped"]["not_in_audience"] == outside
    assert "not_in_audience" not in everyone["skipped"]
    assert {circles[m] for m in others} > {"S1"}


def test_a_second_export_into_the_same_folder_is_refused(
    store: StoreProcess, tmp_path: Path
) -> None:
    # The first export's sms.csv holds the codes already sent: a second export into the same
    # folder (another session, or the same one run again) is refused naming the file, before
    # anything is recorded, and leaves the files as they were.
    sid = store.new_session("冰爽私享会", live=False)
    other = store.new_session("另一场", live=False)
    out = tmp_path / "invites"
    db = connect(store.db_path)
    try:
        export_invitations(db, sid, resource_path(TEMPLATES), out, time.time)
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        assert _rows(out / "sms.csv")
        for again in (sid, other):
            with pytest.raises(ExportFolderInUse) as refused:
                export_invitations(db, again, resource_path(TEMPLATES), out, time.time)
            assert str(refused.value) == (
                f"{out / 'wecom_mass_send.csv'} 已存在：请换一个文件夹，已发出的邀请不会被覆盖"
            )
        (out / "wecom_mass_send.csv").unlink()  # sms.csv alone still refuses
        del before["wecom_mass_send.csv"]
        with pytest.raises(ExportFolderInUse, match=r"sms\.csv 已存在：请换一个文件夹"):
            export_invitations(db, other, resource_path(TEMPLATES), out, time.time)
    finally:
        db.close()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    with open_db(store.db_path) as conn:
        recorded = conn.execute(
            "SELECT count(*) FROM invitations WHERE session_id = ?", [other]
        ).fetchone()[0]
    assert recorded == 0


@pytest.mark.parametrize("failing", ["insert", "commit"])
def test_an_export_whose_recording_fails_leaves_no_file(
    store: StoreProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    # The files hold the codes: if recording them fails (the insert, after the files are
    # written, or the COMMIT), no file is left in the folder (nor any staging folder
    # beside it) and nothing is recorded.
    sid = store.new_session("冰爽私享会", live=False)
    out = tmp_path / "invites"

    def insert_fails(*_args: Any) -> None:
        raise RuntimeError("insert failed")

    @contextmanager
    def commit_fails(db: Any) -> Iterator[Any]:
        with transaction(db) as conn:
            yield conn
            raise RuntimeError("COMMIT failed")

    if failing == "insert":
        monkeypatch.setattr(invitations_store, "_record", insert_fails)
    else:
        monkeypatch.setattr(invitations_store, "transaction", commit_fails)
    db = connect(store.db_path)
    try:
        with pytest.raises(RuntimeError, match="failed"):
            export_invitations(db, sid, resource_path(TEMPLATES), out, time.time)
    finally:
        db.close()
    assert not out.exists() or list(out.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".invites")] == []
    with open_db(store.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM invitations").fetchone()[0] == 0
    monkeypatch.undo()  # then the same export goes through, into the same folder
    db = connect(store.db_path)
    try:
        summary = export_invitations(db, sid, resource_path(TEMPLATES), out, time.time)
    finally:
        db.close()
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(f).name for f in summary["files"])
    assert all(Path(f).parent == out for f in summary["files"])
    assert (
        len(_rows(out / "sms.csv")) + len(_rows(out / "wecom_mass_send.csv")) == summary["invited"]
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".invites")] == []


def test_a_reservation_import_with_skip_bad_applies_the_good_rows(
    store: StoreProcess, tmp_path: Path
) -> None:
    # --skip-bad, as the other imports: the good rows go in, the refused ones (an unknown
    # member, a bad time) are written with line, column and reason to the rejects file.
    from console.store.imports.mapping import ImportOptions
    from console.store.reservations import import_reservations

    circles = members_by_segment(store)
    a, c = circles["S1"][0], circles["S4"][0]
    sid = store.new_session("预热场", live=False)
    export = tmp_path / "douyin.csv"
    export.write_text(
        f"用户ID,预约时间\n{c},2026-11-28 20:00\nnobody,2026-11-28 20:01\n"
        f"{a},昨天晚上\n{a},2026-11-28 20:05\n",
        encoding="utf-8",
    )
    mapping = {"member_id": "用户ID", "reserved_at": "预约时间"}
    db = connect(store.db_path)
    try:
        strict = import_reservations(db, sid, export, ImportOptions(mapping=mapping))
        assert not strict.applied
        assert _count(store, sid) == 0
        rejects = tmp_path / "bad.csv"
        options = ImportOptions(mapping=mapping, skip_bad=True, rejects_path=rejects)
        report = import_reservations(db, sid, export, options)
    finally:
        db.close()
    assert report.applied
    assert (report.rows, report.accepted, report.rejected) == (4, 2, 2)
    assert (report.inserted, report.unchanged) == (2, 0)
    assert report.rejects_file == str(rejects)
    assert _count(store, sid) == 2
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["line", "column", "reason", "用户ID", "预约时间"]
    assert [(r[0], r[1], r[3], r[4]) for r in rows[1:]] == [
        ("3", "用户ID (member_id)", "nobody", "2026-11-28 20:01"),
        ("4", "预约时间 (reserved_at)", a, "昨天晚上"),
    ]


def test_a_bind_code_seen_in_a_group_is_spent_even_when_the_reservation_is_refused(
    store: StoreProcess,
) -> None:
    member = members_by_segment(store)["S1"][0]
    sid = store.new_session("已结束的场", live=False)
    with store.client("operator") as client:
        client.patch(f"/sessions/{sid}", json={"status": "ended"}).raise_for_status()
    with store.client("assistant") as client:
        code = client.get(f"/members/{member}/bind-code").json()["code"]
    with store.client("ingest") as client:
        typed = client.post(f"/sessions/{sid}/reservations/code", json={"text": f"预约 {code}"})
    assert typed.status_code == 409, typed.text  # the show is over: no reservation
    db = open_store(store.db_path)
    try:
        used = db.execute("SELECT used_at FROM bind_codes WHERE code = ?", [code]).fetchone()
    finally:
        db.close()
    assert used[0] is not None  # ...but the code the group saw can never bind anyone now
