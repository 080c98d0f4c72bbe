"""Local stand-in servers speaking a platform's documented protocol (the only test double)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import uvicorn


class StandIn:
    """An ASGI app on 127.0.0.1 in a thread; ``restart`` keeps its port."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error")
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        self._thread.start()
        while not server.started:
            threading.Event().wait(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = None

    def restart(self) -> None:
        self.stop()
        self.start()
