"""The store process logs to the user's log file, uvicorn's own records included; the
normal comings and goings of SSE clients are not worth a traceback."""

from __future__ import annotations

import socket
import struct
import threading
import time

from console.logs import log_file
from tests.helpers import StoreProcess, event, post

STORE_GRACEFUL_S = 2.0  # uvicorn's timeout_graceful_shutdown (console/store/server.py)


def test_the_store_and_uvicorn_log_to_the_users_log_file(store: StoreProcess) -> None:
    store.stop()  # uvicorn logs its shutdown too
    logged = log_file().read_text(encoding="utf-8")
    assert f"INFO console.store.server: store {store.db_path} listening on {store.url}" in logged
    assert "INFO uvicorn.error: Application startup complete." in logged
    assert "INFO uvicorn.error: Finished server process" in logged


def dropped_streams(store: StoreProcess, sid: str, count: int) -> None:
    """``count`` streams opened and dropped mid-send (half with a reset), events flowing."""
    request = (
        f"GET /api/v1/sessions/{sid}/stream?after=0 HTTP/1.1\r\nHost: t\r\n"
        f"Authorization: Bearer {store.token('host')}\r\n\r\n"
    ).encode()
    for n in range(count):
        with socket.create_connection(("127.0.0.1", store.port)) as client:
            client.sendall(request)
            assert client.recv(256).startswith(b"HTTP/1.1 200")
            client.recv(2048 + 37 * n)  # into the catch-up, at a different place each time
            if n % 2:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_clients_hanging_up_streams_log_no_traceback(store: StoreProcess) -> None:
    """A client disconnect is normal: no traceback, at most a line each (issue 14)."""
    sid = store.new_session("挂断")
    post(store, sid, [event("comment", text="来了" * 40) for _ in range(2_000)])
    stop = threading.Event()

    def keep_posting() -> None:
        while not stop.is_set():
            post(store, sid, [event("like") for _ in range(20)])

    poster = threading.Thread(target=keep_posting, daemon=True)
    poster.start()
    try:
        dropped_streams(store, sid, 50)
    finally:
        stop.set()
        poster.join(30)
    with store.client() as client:  # every stream has ended: its subscription too
        client.get("/health")
    store.stop()
    logged = log_file().read_text(encoding="utf-8")
    assert "Traceback" not in logged
    assert "Exception in ASGI application" not in logged
    between = logged.split("Application startup complete.")[1].split("Shutting down")[0]
    assert len(between.strip().splitlines()) <= 50


def test_stopping_with_streams_open_ends_them_without_a_traceback(store: StoreProcess) -> None:
    """Shutdown ends the open streams at once (uvicorn used to wait its graceful timeout,
    then cancel each with a traceback)."""
    sid = store.new_session("关店")
    post(store, sid, [event("like")])
    request = (
        f"GET /api/v1/sessions/{sid}/stream HTTP/1.1\r\nHost: t\r\n"
        f"Authorization: Bearer {store.token('host')}\r\n\r\n"
    ).encode()
    clients = [socket.create_connection(("127.0.0.1", store.port)) for _ in range(5)]
    try:
        for client in clients:
            client.sendall(request)
            assert b"id: 1\n" in read_until(client, b"id: 1\n")
        started = time.monotonic()
        store.stop()
        took = time.monotonic() - started
    finally:
        for client in clients:
            client.close()
    logged = log_file().read_text(encoding="utf-8")
    assert "Traceback" not in logged
    assert "ERROR" not in logged
    assert took < STORE_GRACEFUL_S  # the streams ended; nobody waited for the timeout


def read_until(client: socket.socket, marker: bytes) -> bytes:
    received = b""
    client.settimeout(10)
    while marker not in received:
        data = client.recv(65536)
        if not data:
            break
        received += data
    return received
