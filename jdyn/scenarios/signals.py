"""SIGTERM ends a run the way Ctrl-C does.

A batch scheduler, ``timeout`` or systemd stops a process with SIGTERM, whose default
action kills Python without running any ``finally``: the lock would stay and the
workers would be orphaned. Inside :func:`terminate_as_interrupt` SIGTERM raises
:class:`Terminated` instead, so the runner stops its workers, keeps every finished job
and removes its lock; the command line then exits with 143 (128 + 15).
"""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["Terminated", "terminate_as_interrupt", "EXIT_TERMINATED"]

#: Exit status of a run ended by SIGTERM, as a shell reports a process killed by it.
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; handled wherever Ctrl-C is."""


def _raise(signum, frame):
    raise Terminated("terminated by SIGTERM")


@contextlib.contextmanager
def terminate_as_interrupt():
    """Turn SIGTERM into :class:`Terminated` for the block.

    Only in the main thread, and only if SIGTERM still has its default action (a
    handler the caller installed is left alone).
    """
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
