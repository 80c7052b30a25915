"""The runner's progress bar on stderr."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress", "FAILED"]

#: Statuses of jobs that did not finish: tallied as errors here, rerun by
#: ``run(..., retry_errors=True)``.
FAILED = ("error", "timeout")


class Progress:
    """Progress with an ETA on stderr: one line, rewritten in place on a terminal and
    printed every ~5% otherwise. (Not tqdm even where it is installed: the output must
    not depend on what else is in the environment.)"""

    def __init__(self, total, initial=0, mode=True, stream=None):
        self.total, self.done, self.started, self.errors = total, initial, 0, 0
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self._last = -1.0
        self.mode = "plain" if mode is True else mode

    def update(self, status):
        """Count one finished job (``status`` "error" is tallied and shown)."""
        self.done += 1
        self.started += 1
        self.errors += status in FAILED
        if self.mode:
            self._plain()

    def _plain(self):
        elapsed = time.monotonic() - self.t0
        remaining = (self.total - self.done) * elapsed / max(self.started, 1)
        tty = getattr(self.stream, "isatty", lambda: False)()
        if not tty and self.done < self.total and self.done - self._last < self.total / 20:
            return
        self._last = self.done
        line = (f"[{self.done}/{self.total}] {100 * self.done / max(self.total, 1):3.0f}% "
                f"elapsed {_clock(elapsed)} ETA {_clock(remaining)}"
                + (f" errors {self.errors}" if self.errors else ""))
        self.stream.write(("\r" + line if tty else line + "\n"))
        self.stream.flush()

    def close(self):
        if self.mode and getattr(self.stream, "isatty", lambda: False)():
            self.stream.write("\n")


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
