"""The store's HTTP API over a real uvicorn on 127.0.0.1 and a real SQLite file."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from console.domain.events import Event
from console.domain.room import fold
from tests.helpers import StoreProcess, event, open_db, post


def stored_count(store: StoreProcess, sid: str) -> int:
    with open_db(store.db_path) as conn:
        return int(
            conn.execute("SELECT count(*) FROM events WHERE session_id = ?", [sid]).fetchone()[0]
        )


def test_health_needs_no_token(shared_store: StoreProcess) -> None:
    response = httpx.get(shared_store.url + "/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_sessions_are_created_listed_and_read(shared_store: StoreProcess) -> None:
    with shared_store.client("operator") as client:
        created = client.post("/sessions", json={"title": "夏日冰饮季 · S1 私享会"})
        assert created.status_code == 201
        sid = created.json()["id"]
        assert created.json()["status"] == "scheduled"
    with shared_store.client("host") as client:
        listed = client.get("/sessions").json()
        assert {
            "id": sid,
            "title": "夏日冰饮季 · S1 私享会",
            "status": "scheduled",
        }.items() <= next(s for s in listed if s["id"] == sid).items()
        assert client.get(f"/sessions/{sid}").json()["last_seq"] == 0


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("host", "POST", "/sessions", False),
        ("assistant", "POST", "/sessions", False),
        ("ingest", "POST", "/sessions", False),
        ("operator", "POST", "/sessions", True),
        ("host", "POST", "/sessions/{sid}/events", False),
        ("assistant", "POST", "/sessions/{sid}/events", False),
        ("ingest", "POST", "/sessions/{sid}/events", True),
        ("operator", "POST", "/sessions/{sid}/events", True),
        ("ingest", "GET", "/sessions", False),
        ("ingest", "GET", "/sessions/{sid}/state", False),
        ("ingest", "GET", "/sessions/{sid}/events", False),
        ("host", "GET", "/sessions/{sid}/state", True),
        ("assistant", "GET", "/sessions/{sid}/events", True),
        ("host", "PATCH", "/sessions/{sid}", False),
        ("operator", "PATCH", "/sessions/{sid}", True),
    ],
)
def test_roles(
    shared_store: StoreProcess, role: str, method: str, path: str, allowed: bool
) -> None:
    sid = shared_store.new_session()
    bodies: dict[str, Any] = {
        "/sessions": {"title": "x"},
        "/sessions/{sid}/events": {"events": [event("like")]},
        "/sessions/{sid}": {"status": "live"},
    }
    body = bodies.get(path) if method != "GET" else None
    with shared_store.client(role) as client:
        response = client.request(method, path.format(sid=sid), json=body)
    assert response.status_code != 403 if allowed else response.status_code == 403
    assert response.status_code < 400 if allowed else "无权" in response.json()["error"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "lc_x"])
def test_missing_or_wrong_token_is_401(shared_store: StoreProcess, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.get(shared_store.url + "/api/v1/sessions", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["problems"][0]["field"] == "authorization"


def test_a_revoked_token_is_refused(store: StoreProcess) -> None:
    from console.store import auth
    from console.store.schema import open_store

    with store.client("host") as client:
        assert client.get("/sessions").status_code == 200
        db = open_store(store.db_path)
        assert auth.revoke_token(db, store.token("host"))
        db.close()
        assert client.get("/sessions").status_code == 401


def test_ingest_is_idempotent_on_event_id(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    batch = [event("viewer_joined", "m00001"), event("comment", "m00001", text="好")]
    assert post(shared_store, sid, batch) == {"accepted": 2, "duplicates": 0, "last_seq": 2}
    assert post(shared_store, sid, batch) == {"accepted": 0, "duplicates": 2, "last_seq": 2}
    extra = event("like", "m00002")
    repeated = [batch[0], extra, extra]
    assert post(shared_store, sid, repeated) == {"accepted": 1, "duplicates": 2, "last_seq": 3}
    assert stored_count(shared_store, sid) == 3


def test_member_events_are_enriched_at_ingest(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    post(
        shared_store,
        sid,
        [
            event("viewer_joined", "m00001"),
            event("viewer_joined", "guest-1", nick="路人甲乙"),
        ],
    )
    with shared_store.client("host") as client:
        page = client.get(f"/sessions/{sid}/events", params={"after": 0}).json()
    member, guest = page["events"]
    with open_db(shared_store.db_path) as conn:
        name, segment, koc = conn.execute(
            "SELECT name, segment, koc FROM members WHERE id = 'm00001'"
        ).fetchone()
    assert segment in {"S1", "S2", "S3", "S4", "S5", "S6"}  # set by the demo's segmentation
    assert (member["seq"], member["segment"], member["koc"]) == (1, segment, bool(koc))
    assert member["nick"] == name[0] + "*" + (name[-1] if len(name) > 2 else "")
    assert "phone" not in member
    assert "name" not in member
    assert (guest["segment"], guest["nick"]) == (None, "路*乙")
    assert page["last_seq"] == 2


def test_log_pages_after_a_seq(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    post(shared_store, sid, [event("like", f"m{n:05d}") for n in range(1, 11)])
    with shared_store.client("host") as client:
        page = client.get(f"/sessions/{sid}/events", params={"after": 4, "limit": 3}).json()
    assert [e["seq"] for e in page["events"]] == [5, 6, 7]
    assert page["last_seq"] == 10


def test_state_is_the_reducer_over_the_log(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    post(shared_store, sid, [event("viewer_joined", f"m{n:05d}") for n in range(1, 30)])
    post(shared_store, sid, [event("viewer_left", f"m{n:05d}") for n in range(1, 10)])
    with shared_store.client("host") as client:
        state = client.get(f"/sessions/{sid}/state").json()
        events = [
            Event.from_dict(e)
            for e in client.get(f"/sessions/{sid}/events", params={"limit": 5000}).json()["events"]
        ]
    assert state == fold(events).to_dict()
    assert state["online"] == 20
    assert sum(state["online_by_segment"].values()) + state["online_guests"] == 20


BAD_BATCHES = [
    (b'{"events": [', 400, "body"),
    (b"[1, 2]", 422, "body"),
    (
        b'{"events": [{"id": "a", "type": "dance", "ts": 1, "member_id": "m00001"}]}',
        422,
        "events[0].type",
    ),
    (b'{"events": [{"id": "a", "type": "viewer_joined", "ts": 1}]}', 422, "events[0].member_id"),
    (
        b'{"events": [{"id": "a", "type": "comment", "ts": 1, "member_id": "m00001"}]}',
        422,
        "events[0].data",
    ),
    (
        b'{"events": [{"id": "ok", "type": "like", "ts": 1, "member_id": "m00001"}, 5]}',
        422,
        "events[1]",
    ),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_BATCHES)
def test_bad_batches_are_refused_whole_and_named(
    shared_store: StoreProcess, body: bytes, status: int, field: str
) -> None:
    sid = shared_store.new_session()
    with shared_store.client("ingest") as client:
        response = client.post(
            f"/sessions/{sid}/events", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == status
    assert response.json()["problems"][0]["field"] == field
    assert stored_count(shared_store, sid) == 0


def test_one_bad_event_stores_nothing_of_its_batch(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    batch = [event("like") for _ in range(50)] + [{"id": "bad", "type": "like", "ts": -1}]
    with shared_store.client("ingest") as client:
        response = client.post(f"/sessions/{sid}/events", json={"events": batch})
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["problems"]}
    assert fields == {"events[50].ts", "events[50].member_id"}
    assert stored_count(shared_store, sid) == 0


def test_unknown_session_is_404(shared_store: StoreProcess) -> None:
    with shared_store.client("ingest") as client:
        response = client.post("/sessions/s_nope/events", json={"events": [event("like")]})
    assert response.status_code == 404
    assert "s_nope" in response.json()["error"]


def test_oversize_batches_and_bodies_are_413(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    with shared_store.client("ingest") as client:
        too_many = client.post(
            f"/sessions/{sid}/events", json={"events": [event("like") for _ in range(5001)]}
        )
        assert too_many.status_code == 413
        assert too_many.json()["problems"][0]["field"] == "events"
        huge = b'{"events": [], "pad": "' + b"x" * (9 * 1024 * 1024) + b'"}'
        too_big = client.post(
            f"/sessions/{sid}/events", content=huge, headers={"Content-Type": "application/json"}
        )
        assert too_big.status_code == 413
        assert too_big.json()["problems"][0]["field"] == "body"
    assert stored_count(shared_store, sid) == 0


def test_query_errors_name_the_parameter(shared_store: StoreProcess) -> None:
    sid = shared_store.new_session()
    with shared_store.client("host") as client:
        response = client.get(f"/sessions/{sid}/events", params={"after": "soon"})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "query.after"


def test_the_openapi_document_describes_the_ingest_body(shared_store: StoreProcess) -> None:
    spec = httpx.get(shared_store.url + "/openapi.json").json()
    ingest = spec["paths"]["/api/v1/sessions/{sid}/events"]["post"]
    assert "events" in str(ingest["requestBody"])


def test_a_store_restart_between_batches_keeps_the_log_gapless(store: StoreProcess) -> None:
    sid = store.new_session()
    first = [event("viewer_joined", f"m{n:05d}") for n in range(1, 6)]
    post(store, sid, first)
    store.restart()
    assert post(store, sid, first) == {"accepted": 0, "duplicates": 5, "last_seq": 5}
    post(store, sid, [event("viewer_left", "m00001")])
    with store.client("host") as client:
        seqs = [e["seq"] for e in client.get(f"/sessions/{sid}/events").json()["events"]]
        assert client.get(f"/sessions/{sid}/state").json()["online"] == 4
    assert seqs == list(range(1, 7))


def test_an_unknown_thing_is_404_naming_the_field_that_named_it(
    shared_store: StoreProcess,
) -> None:
    with shared_store.client() as client:
        tasks = client.get("/tasks", params={"session": "nope"})
        followups = client.get("/sessions/nope/followups")
    assert tasks.status_code == 404, tasks.text
    assert tasks.json()["problems"] == [{"field": "session", "reason": "没有这场直播：'nope'"}]
    assert followups.status_code == 404, followups.text
    assert [p["field"] for p in followups.json()["problems"]] == ["sid"]
