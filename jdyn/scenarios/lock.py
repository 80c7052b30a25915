"""``DIR/run.lock``: one run writes a directory at a time."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from jdyn.scenarios import results as _files

__all__ = ["lock"]


class lock:
    """``DIR/run.lock`` held for the duration of a ``with`` block.

    Created with ``O_CREAT | O_EXCL``; a lock whose process (on this host) no
    longer exists is stale and taken over.
    """

    def __init__(self, out_dir):
        self.path = Path(out_dir) / _files.LOCK

    def _try_create(self):
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                       "started": datetime.now(timezone.utc).isoformat()}, f)

    def check(self):
        """Raise if another live run holds the lock; remove a stale lock."""
        holder = _files.read_json(self.path)
        if holder is None:
            if self.path.exists():  # being written this instant, or unreadable
                holder = {}
            else:
                return
        pid, host = holder.get("pid"), holder.get("host")
        if host == socket.gethostname() and isinstance(pid, int) and not _alive(pid):
            self.path.unlink(missing_ok=True)
            return
        raise ValueError(f"{self.path.parent} is being written by another jdyn run (pid "
                         f"{pid} on {host}); wait for it, or delete {self.path} if that "
                         "run is gone")

    def __enter__(self):
        for _ in range(2):
            try:
                self._try_create()
                return self
            except FileExistsError:
                self.check()
        raise ValueError(f"cannot take the lock {self.path}")

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
