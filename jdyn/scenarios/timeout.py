"""Per-job time limits.

A job over its limit is recorded with ``status = "timeout"`` and the limit in its
reason. In a worker pool the runner enforces the limit by killing the worker (which
stops native code too, see ``jdyn.scenarios.pool``); in this process (``--jobs 1``)
a ``SIGALRM`` timer interrupts the job between Python bytecodes.
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["DEFAULT_JOB_TIMEOUT", "JobTimeout", "time_limit", "timeout_outcome",
           "check_timeout"]

#: Seconds a job (or the reference computation) may take unless told otherwise. The
#: quickstart's jobs take seconds and the full studies' minutes: an hour is far beyond
#: any healthy job yet bounds a hung one.
DEFAULT_JOB_TIMEOUT = 3600.0


class JobTimeout(BaseException):
    """Raised inside a job that exceeded its limit. A ``BaseException``, so that a
    job's own ``except Exception`` cannot swallow it."""


def check_timeout(value, name="--job-timeout"):
    """``value`` as a positive finite float of seconds (``None`` stays ``None``).

    Raises
    ------
    ValueError
        Naming ``name``, for anything but a positive finite number.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds; got {value!r}")
    return float(value)


def timeout_outcome(limit, seconds) -> dict:
    """The job record of a job stopped at ``limit`` seconds after ``seconds``."""
    return {"status": "timeout", "result": {}, "seconds": float(seconds),
            "reason": f"stopped after exceeding the job time limit of {limit:g} s "
                      "(raise it with --job-timeout or limits.job_timeout)"}


@contextlib.contextmanager
def time_limit(seconds):
    """Raise :class:`JobTimeout` in the block once ``seconds`` have passed.

    Active only in the main thread of a process with ``SIGALRM`` (elsewhere the block
    runs unbounded) and only when no other ``SIGALRM`` handler is installed.
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None))
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise JobTimeout(seconds)

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
