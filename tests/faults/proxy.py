"""A small loopback TCP proxy that does network damage on demand, for the fault tests.

    proxy = FaultyProxy(upstream_port).start()    # proxy.url: http://127.0.0.1:PORT
    proxy.delay(0.2)   # every chunk, both ways, 200 ms late
    proxy.cut()        # reset every open connection now
    proxy.refuse()     # cut, and reset new connections at once (the store "gone")
    proxy.drop()       # accept, swallow every byte, answer nothing (a black hole)
    proxy.heal()       # pass everything through again

It runs its own event loop on a thread, so it keeps working while the test thread waits on
Qt. Counts of connections and resets are kept for the test to check the damage happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Literal

Mode = Literal["pass", "refuse", "drop"]
CHUNK = 65_536


class FaultyProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode: Mode = "pass"
        self.latency_s = 0.0
        self.connections = 0
        self.resets = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultyProxy:
        self._thread.start()
        ready = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = ready.result(5)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()  # its self-pipe too: no socket left for the GC to complain about

    async def _shutdown(self) -> None:
        self._close_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- damage ------------------------------------------------------------------------

    def delay(self, seconds: float) -> None:
        self.latency_s = seconds

    def cut(self) -> None:
        self._call(self._close_all)

    def refuse(self) -> None:
        self.mode = "refuse"
        self.cut()

    def drop(self) -> None:
        self.mode = "drop"

    def heal(self) -> None:
        self.mode = "pass"
        self.latency_s = 0.0

    # -- plumbing ----------------------------------------------------------------------

    def _call(self, fn: object) -> None:
        done = threading.Event()

        def run() -> None:
            fn()  # type: ignore[operator]
            done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)

    def _close_all(self) -> None:
        for writer in list(self._open):
            self._reset(writer)
        self._open.clear()

    def _reset(self, writer: asyncio.StreamWriter) -> None:
        """Close with RST (SO_LINGER 0), as a dead host or a cut cable would look."""
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
        writer.transport.abort()
        self.resets += 1

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "refuse":
            self._reset(writer)
            return
        self._open.add(writer)
        if self.mode == "drop":
            try:
                with contextlib.suppress(Exception):
                    while await reader.read(CHUNK):
                        pass  # swallowed
            finally:  # the client gave up: close our end too, or its socket leaks
                self._open.discard(writer)
                writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self._reset(writer)
            return
        self._open.add(up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        for end in (writer, up_writer):
            self._open.discard(end)
            end.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                if self.mode == "drop":
                    continue  # the link went dark mid-connection
                if self.latency_s:
                    await asyncio.sleep(self.latency_s)
                writer.write(data)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()
