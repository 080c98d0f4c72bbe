"""The store's HTTP API fuzzed from its own OpenAPI document (schemathesis), on a real store.

Every operation gets generated requests, valid and invalid, with the operator's token (the
role that may call everything) and the real session and member ids most of the time, so the
requests reach the handlers instead of stopping at "unknown session". What must hold: never
a 5xx; every 4xx is our JSON error naming a field and a reason; and afterwards the store
file is intact: every session's log gapless, no stock below zero, no dangling reference, the
database's own integrity check clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from console.store.app import create_app
from console.store.postgres import is_postgres
from tests.helpers import StoreProcess, open_db

schema = schemathesis.openapi.from_dict(create_app(Path("unused.db")).openapi())
# The SSE stream never ends by design (tests/store/test_stream.py covers it).
schema = schema.exclude(path_regex=r"/stream$")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    store = StoreProcess(tmp_path_factory.mktemp("fuzz") / "store.db")
    store.start()
    sid = store.new_session("模糊测试")
    with open_db(store.db_path) as conn:
        member = conn.execute("SELECT id FROM members LIMIT 1").fetchone()[0]
        products = [r[0] for r in conn.execute("SELECT id FROM products LIMIT 3")]
    with store.client() as http:
        offers = [{"product_id": p, "price": 9.9} for p in products]
        answer = http.put(f"/sessions/{sid}/catalog", json={"lineup": products, "offers": offers})
        answer.raise_for_status()
    yield {"store": store, "sid": sid, "member": member}
    store.stop()
    check_store_is_consistent(store.db_path)


def check_store_is_consistent(path: Path | str) -> None:
    with open_db(path) as conn:
        if not is_postgres(conn):
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for sid, last, count, top in conn.execute(
            "SELECT s.id, s.last_seq, count(e.seq), coalesce(max(e.seq), 0) FROM sessions s "
            "LEFT JOIN events e ON e.session_id = s.id GROUP BY s.id"
        ):
            assert last == count == top, f"session {sid}: log not gapless"
        if not is_postgres(conn):  # PostgreSQL enforces foreign keys itself, always
            assert not conn.execute("PRAGMA foreign_key_check").fetchall()
        assert not conn.execute("SELECT id FROM products WHERE stock < 0").fetchall()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same requests on every run: a CI failure reproduces locally
)
def test_no_request_breaks_the_store(case: schemathesis.Case, fuzzed: dict[str, Any]) -> None:
    store: StoreProcess = fuzzed["store"]
    params = case.path_parameters or {}
    if "sid" in params:
        params["sid"] = fuzzed["sid"]
    if "member_id" in params:
        params["member_id"] = fuzzed["member"]
    response = case.call(
        base_url=store.url,
        headers={"Authorization": f"Bearer {store.token('operator')}"},
        timeout=30,
    )
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    if 400 <= response.status_code < 500:
        body = response.json()
        assert body["error"], body
        assert all(p["field"] and p["reason"] for p in body["problems"]), body


@pytest.mark.parametrize("sent", [64, 5_000])
def test_a_body_over_the_limit_is_refused_before_it_is_read(
    fuzzed: dict[str, Any], sent: int
) -> None:
    """8 MB is the limit: a body declaring 64 MB is refused from its header, after only a
    few bytes of it arrived (the rest never needs to)."""
    store: StoreProcess = fuzzed["store"]
    url = urlsplit(store.url)
    conn = HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        conn.putrequest("POST", f"/api/v1/sessions/{fuzzed['sid']}/events")
        conn.putheader("Authorization", f"Bearer {store.token('ingest')}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(64 * 1024 * 1024))
        conn.endheaders()
        conn.send(b"[" * sent)
        response = conn.getresponse()
        body = orjson.loads(response.read())
    finally:
        conn.close()
    assert response.status == 413
    assert body["problems"][0]["field"] == "body"


def test_a_batch_over_the_limit_is_refused_whole(fuzzed: dict[str, Any]) -> None:
    store: StoreProcess = fuzzed["store"]
    events = [
        {"id": f"big-{n}", "type": "like", "ts": 1.0, "member_id": fuzzed["member"]}
        for n in range(5_001)
    ]
    with store.client("ingest") as ingest, store.client("operator") as reader:
        before = reader.get(f"/sessions/{fuzzed['sid']}").json()["last_seq"]
        response = ingest.post(f"/sessions/{fuzzed['sid']}/events", json={"events": events})
        after = reader.get(f"/sessions/{fuzzed['sid']}").json()["last_seq"]
    assert response.status_code in (413, 422)
    assert "5000" in response.text.replace(",", "") or "5 000" in response.text
    assert before == after


def test_sequences_of_calls_never_break_the_store(fuzzed: dict[str, Any]) -> None:
    """Stateful: schemathesis chains calls by the links it infers from the document (a
    product put, then ordered; a chain opened, then closed; a member listed, then moved),
    so later requests carry ids earlier answers gave. Same checks as above, per step."""
    store: StoreProcess = fuzzed["store"]
    headers = {"Authorization": f"Bearer {store.token('operator')}"}

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            params = case.path_parameters or {}
            if "sid" in params:
                params["sid"] = fuzzed["sid"]
            return {"base_url": store.url, "headers": headers, "timeout": 30}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
            if 400 <= response.status_code < 500:
                body = response.json()
                assert all(p["field"] and p["reason"] for p in body["problems"]), body

    Sequences.run(
        settings=settings(
            max_examples=8,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
