"""Progress of long fits on stderr, labelled inside multi-fit procedures.

A fit shows nothing for its first ``DELAY`` seconds, so short fits stay quiet. After
that, on a terminal, one line rewritten in place says which fit it is, its iteration
and its loss, and a last line sums it up when it ends. ``progress="auto"`` (the default)
shows this only when stderr is a terminal; ``True`` on any stream (a log then gets one
line every ``LOG_INTERVAL`` s); ``False`` never.

A procedure of several fits (a strength search, the errors-in-variables bracketing and
the warm start before it) opens :func:`procedure` with the number of fits it will run
(or a bound on it) and names each with :func:`fit_step`: its lines then begin
"fit k of n: what", and the delay counts from the start of the procedure, so a long
search of short fits shows progress too. The procedure is held in a context variable
(like ``decimal``'s context), so the training loop needs no extra argument.
"""

from __future__ import annotations

import contextlib
import contextvars
import shutil
import sys
import time
from dataclasses import dataclass, field

__all__ = ["DELAY", "FitProgress", "check_progress", "fit_step", "procedure"]

#: Seconds a fit (or procedure) runs before its progress shows: short fits stay quiet.
DELAY = 2.0
#: Seconds between rewrites of the line on a terminal.
INTERVAL = 0.2
#: Seconds between lines on a stream that is not a terminal (``progress=True``).
LOG_INTERVAL = 2.0

_CURRENT = contextvars.ContextVar("jdyn_fit_procedure", default=None)


def check_progress(progress, name="progress"):
    """``progress`` if it is True, False or "auto"; else a ValueError naming ``name``."""
    if progress is True or progress is False or (isinstance(progress, str)
                                                  and progress == "auto"):
        return progress
    raise ValueError(f"{name} must be True, False or 'auto' (shown when stderr is a "
                     f"terminal); got {progress!r}")


@dataclass
class _Procedure:
    total: int
    at_most: bool
    start: float = field(default_factory=time.perf_counter)
    count: int = 0
    what: str = ""

    def heading(self):
        bound = "at most " if self.at_most else ""
        return f"fit {self.count} of {bound}{self.total}"

    def revise(self, total, at_most=False):
        """Correct the count once the procedure knows it."""
        self.total, self.at_most = int(total), bool(at_most)


@contextlib.contextmanager
def procedure(total, at_most=False):
    """Count and label the fits of a multi-fit procedure (see the module docstring).

    Yields the procedure; its ``revise(total, at_most=False)`` corrects the count once
    it is known (e.g. after choosing between a plain and a noise-aware fit).
    """
    proc = _Procedure(int(total), bool(at_most))
    token = _CURRENT.set(proc)
    try:
        yield proc
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def fit_step(what):
    """Name the next fit of the current :func:`procedure` (nothing outside one)."""
    proc = _CURRENT.get()
    if proc is None:
        yield
        return
    proc.count += 1
    proc.what = what
    try:
        yield
    finally:
        proc.what = ""


class FitProgress:
    """The progress line of one fit of at most ``total`` iterations.

    progress : True, False or "auto" (see the module docstring); the stream is the
    ``sys.stderr`` of the moment the fit starts.
    """

    def __init__(self, progress, total):
        progress = check_progress(progress)
        self.stream = sys.stderr
        self.tty = _isatty(self.stream)
        wanted = progress is True or (progress == "auto" and self.tty)
        self.enabled = wanted and self.stream is not None
        self.total = total
        proc = _CURRENT.get()
        self.start = time.perf_counter()
        self.since = self.start if proc is None else proc.start
        named = proc is not None and proc.what
        self.heading, self.what = (proc.heading(), proc.what) if named else ("train", "")
        self.shown, self.last, self.line = False, -float("inf"), ""

    def update(self, iteration, ev, val):
        """After each iteration: ``ev`` the objective's Evaluation, ``val`` the
        validation loss or None."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.since < DELAY or now - self.last < (INTERVAL if self.tty else LOG_INTERVAL):
            return
        parts = [f"iteration {iteration}/{self.total}", f"loss {ev.value:.4g}"]
        parts += [] if val is None else [f"validation {val:.4g}"]
        parts += [f"{k} {v:.3g}" for k, v in ev.terms.items()]
        self.line = ", ".join(parts)
        what = f" | {self.what}" if self.what else ""
        self._write(f"jdyn {self.heading}: {self.line} [{now - self.start:.0f} s]{what}")
        self.shown, self.last = True, now

    def close(self):
        """The summary line, whole, if progress was shown."""
        if self.shown:
            what = f" {self.what}:" if self.what else ""
            self._write(f"jdyn {self.heading}:{what} done, {self.line} "
                        f"[{time.perf_counter() - self.start:.1f} s]", final=True)
            self.shown = False

    def _write(self, text, final=False):
        """A line rewritten in place on a terminal (cut to its width, so that it does not
        wrap; the summary is whole), else a line of a log."""
        if not self.tty:
            self.stream.write(text + "\n")
        elif final:
            self.stream.write("\r\x1b[K" + text + "\n")
        else:
            width = shutil.get_terminal_size().columns - 1
            self.stream.write("\r\x1b[K" + (text if len(text) <= width else
                                             text[:width - 3] + "..."))
        self.stream.flush()


def _isatty(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:             # a closed stream
        return False
