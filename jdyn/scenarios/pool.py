"""A process pool whose workers can be killed one at a time.

:class:`concurrent.futures.ProcessPoolExecutor` cannot stop one running task, breaks
for good when one worker dies, and keeps every future to the end. Here each worker is
a spawned process fed one task at a time over its own pipe, so the runner can

- kill the worker of a job over its time limit and start a fresh one (the job is
  recorded as ``status = "timeout"``, the sweep goes on);
- run the job of a worker that died (out-of-memory kill, crash in native code) once
  more in a fresh worker before recording it as an error;
- forget each task as soon as its outcome is handed on, so its memory stays flat
  with the number of jobs.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import wait

__all__ = ["WorkerPool", "ATTEMPTS"]

#: Times a job is started before the death of its worker is recorded as its error.
ATTEMPTS = 2


def _watch_parent(parent_pid):
    """Exit once the runner is gone: after a kill -9 of the runner nothing else would
    tell an idle worker to stop."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, name="jdyn-parent-watch", daemon=True).start()


def _worker_main(conn, parent_pid):
    """Run ``(key, spec, config)`` tasks from ``conn`` until it sends ``None``."""
    from jdyn.scenarios.executors import execute
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides what Ctrl-C stops
    _watch_parent(parent_pid)
    while True:
        task = conn.recv()
        if task is None:
            return
        key, spec, config = task
        conn.send(("started", key))      # the clock starts here, not at the spawn
        conn.send(("done", key, execute(spec, config)))


class _Worker:
    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, os.getpid()),
                                       daemon=True, name="jdyn-worker")
        self.process.start()
        child.close()
        self.task = None
        self.started = None       # monotonic time the running task began, once known

    def give(self, task):
        self.task, self.started = task, None
        self.conn.send(task[:3])

    def kill(self):
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """Up to ``size`` spawned worker processes running :func:`execute` tasks.

    Parameters
    ----------
    size : int
        Number of worker processes.
    timeout : float or None
        Seconds a task may run before its worker is killed.
    """

    def __init__(self, size, timeout=None):
        self.size, self.timeout = int(size), timeout
        self._context = multiprocessing.get_context("spawn")
        self._workers = []

    def map_unordered(self, tasks):
        """Yield ``(key, outcome)`` for each ``(key, spec, config)`` task as it ends.

        Tasks are read from the iterable only as workers become free.
        """
        pending = collections.deque((*t, 1) for t in tasks)
        while pending or any(w.task for w in self._workers):
            self._dispatch(pending)
            busy = [w for w in self._workers if w.task]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                         timeout=self._next_deadline(busy))
            for worker in busy:
                if worker.conn in ready or worker.process.sentinel in ready:
                    yield from self._collect(worker, pending)
                elif self._expired(worker):
                    yield self._time_out(worker)

    def _dispatch(self, pending):
        while pending:
            idle = next((w for w in self._workers if w.task is None), None)
            if idle is None and len(self._workers) < self.size:
                idle = _Worker(self._context)
                self._workers.append(idle)
            if idle is None:
                return
            idle.give(pending.popleft())

    def _next_deadline(self, busy):
        started = [w.started for w in busy if w.started is not None]
        if self.timeout is None or not started:
            return None
        return max(0.0, min(started) + self.timeout - time.monotonic()) + 0.01

    def _expired(self, worker):
        return self.timeout is not None and worker.started is not None \
            and time.monotonic() - worker.started > self.timeout

    def _collect(self, worker, pending):
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            yield from self._died(worker, pending)
            return
        if message[0] == "started":
            worker.started = time.monotonic()
            return
        worker.task = None
        yield message[1], message[2]

    def _died(self, worker, pending):
        key, spec, config, attempt = worker.task
        worker.process.join(5)
        code = worker.process.exitcode
        self._replace(worker)
        if attempt < ATTEMPTS:
            pending.appendleft((key, spec, config, attempt + 1))
            return
        yield key, {"status": "error", "result": {}, "seconds": float("nan"),
                    "reason": f"its worker process died {ATTEMPTS} times (exit code {code}: "
                              "out of memory, a crash in native code, or os._exit)"}

    def _time_out(self, worker):
        from jdyn.scenarios.timeout import timeout_outcome
        key = worker.task[0]
        outcome = timeout_outcome(self.timeout, time.monotonic() - worker.started)
        self._replace(worker)
        return key, outcome

    def _replace(self, worker):
        worker.kill()
        self._workers.remove(worker)

    def worker_pids(self):
        """Process ids of the live workers (for tests and diagnostics)."""
        return [w.process.pid for w in self._workers if w.process.is_alive()]

    def close(self, cancel=False):
        """Stop every worker: politely when idle, by kill when ``cancel``."""
        for worker in self._workers:
            if cancel or worker.task:
                worker.kill()
                continue
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.process.join(5)
            worker.kill()
        self._workers = []
