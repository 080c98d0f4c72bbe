"""Roles (角色) against every endpoint: only the allowed combinations pass.

The table below is the access policy, written out by hand; a test checks that it names every
operation of the store's OpenAPI document, so a new endpoint cannot slip in unreviewed. Each
endpoint is then called with no token, a revoked token, a malformed one and each role's
token, on a real store: 401 without a valid token, 403 for a role without the permission,
and anything but 401/403 for a role with it (the request itself may still be refused on its
merits: that is what the other tests are for).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console.store import auth
from console.store.app import create_app
from console.store.schema import connect
from tests.backends import postgres_admin_url
from tests.helpers import MAIN_PY, StoreProcess, open_db

PUBLIC, ANYONE = "public", "anyone"  # no token needed; any valid token
SIGNED = "signed"  # no token either way: the body's HMAC signature is the credential
READ, COMMAND, INGEST, MANAGE, OVERLAY, LEADER = (p.value for p in auth.Permission)
TASKS = f"{MANAGE}|{LEADER}"  # the operator, or a 团长 (their own tasks only)

POLICY: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/me"): ANYONE,
    ("POST", "/sessions"): MANAGE,
    ("GET", "/sessions"): READ,
    ("GET", "/sessions/{sid}"): READ,
    ("PATCH", "/sessions/{sid}"): MANAGE,
    ("POST", "/sessions/{sid}/events"): INGEST,
    ("POST", "/sessions/{sid}/webhooks/{source}"): SIGNED,
    ("PUT", "/sessions/{sid}/platform-stats/{platform}"): INGEST,
    ("GET", "/sessions/{sid}/events"): READ,
    ("GET", "/sessions/{sid}/stream"): READ,
    ("GET", "/sessions/{sid}/stats"): READ,
    ("GET", "/sessions/{sid}/state"): READ,
    ("GET", "/sessions/{sid}/replay"): READ,
    ("GET", "/sessions/{sid}/replay/moment"): READ,
    ("GET", "/sessions/{sid}/repurchase"): READ,
    ("POST", "/sessions/{sid}/reservations"): INGEST,
    ("POST", "/sessions/{sid}/reservations/code"): INGEST,
    ("POST", "/sessions/{sid}/reservations/import"): MANAGE,
    ("GET", "/sessions/{sid}/reservations"): READ,
    ("GET", "/sessions/{sid}/invitations/funnel"): READ,
    ("GET", "/sessions/{sid}/cards"): READ,
    ("GET", "/pickup-points"): READ,
    ("POST", "/sessions/{sid}/commands"): COMMAND,
    ("POST", "/sessions/{sid}/chains"): COMMAND,
    ("POST", "/sessions/{sid}/chains/{chain_id}/close"): COMMAND,
    ("GET", "/sessions/{sid}/offers"): INGEST,
    ("GET", "/pickup-points/nearest"): INGEST,
    ("POST", "/pickup-points/assign"): INGEST,
    ("GET", "/sessions/{sid}/referral-codes/{member_id}"): INGEST,
    ("POST", "/sessions/{sid}/orders"): INGEST,
    ("GET", "/sessions/{sid}/new-neighbours"): MANAGE,
    ("PUT", "/products"): MANAGE,
    ("PUT", "/sessions/{sid}/catalog"): MANAGE,
    ("PUT", "/sessions/{sid}/audience"): MANAGE,
    ("PUT", "/pickup-points"): MANAGE,
    ("GET", "/members"): MANAGE,
    ("GET", "/members/{member_id}"): MANAGE,
    ("PUT", "/members/{member_id}/override"): MANAGE,
    ("DELETE", "/members/{member_id}/override"): MANAGE,
    ("PUT", "/members/{member_id}/identities"): MANAGE,
    ("GET", "/members/{member_id}/identities"): MANAGE,
    ("GET", "/members/{member_id}/bind-code"): COMMAND,
    ("GET", "/segmentation"): MANAGE,
    ("GET", "/ltv"): MANAGE,
    ("GET", "/segmentation/runs/{run_id}"): MANAGE,
    ("POST", "/segmentation/runs"): MANAGE,
    ("POST", "/imports/{kind}"): MANAGE,
    # The stream overlay: outside /api/v1, its token in the query (a browser source).
    ("GET", "/overlay/{sid}"): OVERLAY,
    ("GET", "/overlay/{sid}/state"): OVERLAY,
    ("GET", "/overlay/{sid}/stream"): OVERLAY,
    # Follow-up tasks: the operator's report; the tasks for the operator or their 团长.
    ("GET", "/sessions/{sid}/followups"): MANAGE,
    ("GET", "/tasks"): TASKS,
    ("POST", "/tasks/{task_id}/done"): TASKS,
    # The 团长's page: outside /api/v1, a leader token (it carries the point) in the query.
    ("GET", "/leader"): LEADER,
    ("GET", "/leader/today"): LEADER,
    ("POST", "/leader/orders/{order_id}/pickup"): LEADER,
    ("POST", "/leader/tasks/{task_id}/done"): LEADER,
    ("POST", "/leader/neighbours/{member_id}/reveal"): LEADER,
}


def allowed(permission: str, role: auth.Role | None) -> bool:
    if permission == SIGNED:
        return False  # a token is no credential here: unsigned is 401 for every caller
    if permission == PUBLIC:
        return True
    if role is None:
        return False
    return permission == ANYONE or any(
        auth.Permission(p) in auth.GRANTS[role] for p in permission.split("|")
    )


PAGES = {("GET", "/leader")}


def test_the_policy_names_every_operation_of_the_api(tmp_path: Path) -> None:
    document = create_app(tmp_path / "unused.db").openapi()
    operations = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, item in document["paths"].items()
        for method in item
    }
    # Pages (HTML for a browser, not API operations) are not in the API's schema; their
    # refusals are pages too, so the fuzzer leaves them to their own tests.
    assert operations == set(POLICY) - PAGES


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StoreProcess, dict]]:
    store = StoreProcess(tmp_path_factory.mktemp("roles") / "store.db")
    store.start()
    sid = store.new_session("权限")
    db = connect(store.db_path)
    try:
        member = db.execute("SELECT id FROM members LIMIT 1").fetchone()[0]
        revoked = auth.create_token(db, auth.Role.OPERATOR, "离职的运营")
    finally:
        db.close()
    assert call(store, "GET", "/sessions", revoked) == 200
    revoking = subprocess.run(
        [sys.executable, str(MAIN_PY), "token", "revoke", "--db", str(store.db_path), revoked],
        capture_output=True,
        text=True,
        check=False,
    )
    assert revoking.returncode == 0, revoking.stderr
    assert revoked not in revoking.stdout + revoking.stderr  # not even echoed back
    values = {
        "sid": sid,
        "member_id": member,
        "chain_id": "c-none",
        "run_id": "1",
        "kind": "members",
        "source": "miniapp",
        "platform": "wecom",
        "revoked": revoked,
        "task_id": "t-none",
        "order_id": "o-none",
    }
    yield store, values
    store.stop()


def call(store: StoreProcess, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    base, params = store.url + "/api/v1", {}
    if path.startswith(("/overlay/", "/leader")):  # a browser or a phone link: ?token=
        base, headers, params = store.url, {}, ({"token": token} if token is not None else {})
    # Streamed, and closed after the status line: /stream would otherwise never end.
    with (
        httpx.Client(base_url=base, timeout=10) as client,
        client.stream(method, path, headers=headers, params=params, json={}) as response,
    ):
        return response.status_code


@pytest.mark.parametrize(("method", "template"), sorted(POLICY))
def test_only_the_allowed_roles_pass(
    guarded: tuple[StoreProcess, dict[str, str]], method: str, template: str
) -> None:
    store, values = guarded
    permission = POLICY[(method, template)]
    path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
    outcomes: dict[str, int] = {}
    for role in [None, *auth.Role]:
        token = store.token(role.value) if role is not None else None
        status = call(store, method, path, token)
        outcomes[role.value if role else "no token"] = status
        if allowed(permission, role):
            assert status not in (401, 403), (role, status)
        elif role is None or permission == SIGNED:
            assert status == 401, (role, status)
        else:
            assert status == 403, (role, status)
    if permission != PUBLIC:
        assert call(store, method, path, values["revoked"]) == 401
        assert call(store, method, path, "lc_not-a-token") == 401
        # An unknown session is no business of a caller without a token.
        unknown = path.replace(values["sid"], "s_unknown")
        assert call(store, method, unknown, None) == 401


def stored_bytes(target: str) -> bytes:
    """Everything the store keeps: its SQLite file and log, or its PostgreSQL tables."""
    if postgres_admin_url() is None:
        wal = Path(f"{target}-wal")
        return Path(target).read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    with open_db(target) as db:
        tables = [
            r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return b"".join(
            str(db.execute(f"SELECT * FROM {table}").fetchall()).encode() for table in tables
        )


def test_tokens_are_stored_hashed_and_never_logged(tmp_path: Path) -> None:
    store = StoreProcess(tmp_path / "store.db")  # makes the database and its tokens
    db_path = store.db_path
    log = tmp_path / "store.log"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, str(MAIN_PY), "serve", "--db", db_path, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip().rsplit(" ", 1)[1]
            assert url.startswith("http://127.0.0.1:")  # no --host: loopback only
            tokens = [store.token(role.value) for role in auth.Role]
            with httpx.Client(base_url=url + "/api/v1", timeout=10) as client:
                for token in tokens:
                    headers = {"Authorization": f"Bearer {token}"}
                    client.get("/sessions", headers=headers)
                    client.post("/sessions", headers=headers, content=b"{not json")
                    client.get("/sessions/s_none/state", headers=headers)
                client.get("/sessions", headers={"Authorization": "Bearer lc_guess"})
        finally:
            process.terminate()
            process.communicate(timeout=10)
    raw = stored_bytes(db_path)
    written = log.read_text(encoding="utf-8", errors="replace")
    for token in tokens:
        assert token.encode() not in raw
        assert token not in written
        assert auth.hash_token(token).encode() in raw
