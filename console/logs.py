"""One logging set-up for every entry point of ``python main.py`` (no Qt).

The store, the simulator and the windows (several processes in the embedded default) all
append to one rotating file in the user's log directory (``platformdirs.user_log_dir``:
``$XDG_STATE_HOME/zhibo-console/log`` on Linux); warnings and errors also go to stderr.
Each line names its process id, since the processes share the file.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

import platformdirs

APP_NAME = "zhibo-console"
LOG_NAME = "console.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Chatty libraries: httpx logs every request at INFO (the simulator sends thousands).
QUIET = ("httpx", "httpcore", "asyncio", "qasync")

_OURS = "_zhibo_console_handler"  # marks the handlers this module added to the root logger


def log_file() -> Path:
    """Where the log goes; it follows the platform's rules (and ``XDG_STATE_HOME``)."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)) / LOG_NAME


def setup_logging(
    path: Path | None = None, max_bytes: int = MAX_BYTES, backups: int = BACKUPS
) -> Path:
    """Log INFO and up to the rotating file at ``path`` (default ``log_file()``), WARNING
    and up to stderr. Calling it again for the same file changes nothing; for another file
    it replaces the handlers it added before. Returns the file's path."""
    path = path or log_file()
    root = logging.getLogger()
    current = [h for h in root.handlers if getattr(h, _OURS, False)]
    if any(getattr(h, "baseFilename", None) == str(path.absolute()) for h in current):
        return path
    reset_logging()
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    to_file.setLevel(logging.INFO)
    to_file.setFormatter(logging.Formatter(FILE_FORMAT))
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.WARNING)
    to_stderr.setFormatter(logging.Formatter(STDERR_FORMAT))
    for handler in (to_file, to_stderr):
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return path


def reset_logging() -> None:
    """Remove and close the handlers ``setup_logging`` added."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
