"""A fork server for the tests' store processes (``tests.helpers.StoreProcess``).

Starting ``python main.py serve`` costs about 1.5 s, nearly all of it importing FastAPI,
pandas, scipy and the store; the suite starts a store for some 200 tests. This process
imports all that once, then forks a store per request: the child is ``main.py serve`` with
the test's arguments, environment, working directory, stdout (a pipe the test reads the
ready line from) and stderr, as ``subprocess.Popen`` would have started it.

Protocol, on the ``SOCK_SEQPACKET`` socket whose descriptor is the only argument: one message
per store, ``{"argv", "env", "cwd"}`` as JSON with two descriptors (stdout, stderr); the
answer is the child's pid. An empty message (the test process gone) ends the server. Children
are reaped here (``SIGCHLD`` ignored), so a test waits for one by its pid disappearing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import sys
import traceback

from console.cli import main
from console.store import app, server

PRELOADED = (app, server)  # the slow imports, done once before forking
MAX_MESSAGE = 1 << 20


def serve(sock: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        message, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 2)
        if not message:
            return
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            sock.close()
            _child(request, fds)  # never returns
        for fd in fds:
            os.close(fd)
        sock.send(str(pid).encode())


def _child(request: dict[str, object], fds: list[int]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        stdin = os.open(os.devnull, os.O_RDONLY)
        for fd, target in ((stdin, 0), (fds[0], 1), (fds[1], 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])  # type: ignore[arg-type]
        os.chdir(str(request["cwd"]))
        argv = [str(arg) for arg in request["argv"]]  # type: ignore[attr-defined]
        sys.argv = ["main.py", *argv]
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a child must never return into the server's loop
        traceback.print_exc()
    finally:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
