"""Running the store under uvicorn (``python main.py serve``)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time

import uvicorn
from fastapi import FastAPI

from console.store.app import create_app
from console.store.stream import QuietAbandonedStreams
from console.store.target import StoreTarget

READY_PREFIX = "store listening on "
SEND_BUFFER_BYTES = 256 * 1024
log = logging.getLogger(__name__)


def watch_parent(poll_s: float = 0.5) -> None:
    """Stop this process (SIGTERM, so it shuts down cleanly) when its parent goes away."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class StoreServer(uvicorn.Server):
    """uvicorn's server, ending the open SSE streams as shutdown begins: uvicorn waits for
    open responses, and a stream never finishes by itself (it would be cancelled after the
    graceful timeout, with a traceback each)."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        store = getattr(self.app.state, "store", None)
        if store is not None:
            store.broadcaster.end_all()
        await super().shutdown(sockets)


def serve(db_path: StoreTarget, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until SIGINT/SIGTERM. Prints ``store listening on URL`` once ready.

    ``port=0`` picks a free port; the line tells which.
    """
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every response waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: a console that stops reading its stream may hold this
    # much in the kernel (autotuned, it would be megabytes each) before the stream's own
    # bounded queue fills and cuts it off (console.store.stream).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
    sock.bind((host, port))
    sock.listen(2048)  # listen before announcing, so no early client is refused
    bound_host, bound_port = sock.getsockname()[:2]
    url_host = f"[{bound_host}]" if ":" in bound_host else bound_host

    def announce() -> None:
        print(f"{READY_PREFIX}http://{url_host}:{bound_port}", flush=True)
        log.info("store %s listening on http://%s:%s", db_path, url_host, bound_port)

    app = create_app(db_path, on_ready=announce)
    config = uvicorn.Config(
        app,
        # No handlers of uvicorn's own: its records reach the root logger's (console.logs).
        log_config=None,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=2,
        lifespan="on",
    )
    logging.getLogger("uvicorn.error").addFilter(QuietAbandonedStreams())
    server = StoreServer(config, app)
    server.run(sockets=[sock])
    sys.stdout.flush()
