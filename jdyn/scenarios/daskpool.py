"""Jobs on a Dask cluster (``--executor dask``).

At most as many tasks are in flight as the cluster has worker threads, so a task's
submission is its start: the per-job time limit is measured from there, and a task
over it is recorded as ``status = "timeout"`` and its worker restarted (Dask cannot
stop one running task otherwise).

A local cluster (no ``--scheduler``) listens on 127.0.0.1 only. Dask's scheduler always
runs an HTTP server; here it is bound to 127.0.0.1 on a free port with no routes, so
no dashboard and no data are served unless ``dashboard=True``. Its TCP scheduler port
accepts any local user's connection for the run's duration (Dask's TLS needs the
``cryptography`` package and certificates; see the Dask guide in the docs).
"""

from __future__ import annotations

import time
import uuid

from jdyn.scenarios.executors import execute
from jdyn.scenarios.timeout import timeout_outcome

__all__ = ["DaskExecutor"]


class DaskExecutor:
    """Tasks on a Dask cluster: at ``scheduler`` if given, else a new
    ``LocalCluster`` with ``jobs`` single-threaded worker processes.

    Workers must be able to import jdyn and the job function's module.
    """

    name = "dask"
    #: How long to keep trying to reach a given scheduler.
    connect_timeout = "20s"

    def __init__(self, jobs, scheduler=None, timeout=None, dashboard=False):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("--executor dask needs dask.distributed, an optional extra: "
                             "pip install 'jdyn[dask]'") from None
        self.jobs, self.scheduler, self.timeout = int(jobs), scheduler, timeout
        self.dashboard = dashboard
        self._Client, self._LocalCluster = Client, LocalCluster
        self._client = self._cluster = None

    def check(self):
        """Reach the given scheduler once, so that a wrong address is reported before
        the run writes anything (a LocalCluster needs no check)."""
        if self.scheduler:
            self._connect().close()

    def _connect(self):
        if self.scheduler:
            try:
                return self._Client(self.scheduler, timeout=self.connect_timeout)
            except OSError as exc:
                raise ValueError(f"cannot reach the Dask scheduler at {self.scheduler}: "
                                 f"{exc}") from None
        import dask
        routes = {} if self.dashboard else {"distributed.scheduler.http.routes": [],
                                            "distributed.worker.http.routes": []}
        with dask.config.set(routes):
            self._cluster = self._LocalCluster(
                n_workers=self.jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:8787" if self.dashboard else "127.0.0.1:0",
                scheduler_kwargs={"dashboard": self.dashboard}, worker_dashboard_address=None)
        return self._Client(self._cluster)

    def _slots(self):
        info = self._client.scheduler_info().get("workers", {})
        return max(1, sum(w.get("nthreads", 1) for w in info.values()))

    def map_unordered(self, tasks):
        from dask.distributed import wait
        tasks = iter(tasks)
        self._client = self._connect()
        token, slots = uuid.uuid4().hex[:8], self._slots()
        running = {}
        while True:
            while len(running) < slots:
                task = next(tasks, None)
                if task is None:
                    break
                key, spec, config = task
                future = self._client.submit(execute, spec, config, key=f"jdyn-{key}-{token}",
                                             pure=False)
                running[future] = (key, time.monotonic())
            if not running:
                return
            try:
                done, _ = wait(list(running), timeout=self._wait_time(running),
                               return_when="FIRST_COMPLETED")
            except TimeoutError:      # Dask's wait raises where concurrent.futures returns
                done = ()
            for future in done:
                yield running.pop(future)[0], _outcome(future)
            yield from self._expire(running)

    def _wait_time(self, running):
        if self.timeout is None:
            return None
        first = min(start for _, start in running.values())
        return max(0.0, first + self.timeout - time.monotonic()) + 0.01

    def _expire(self, running):
        if self.timeout is None:
            return
        now = time.monotonic()
        late = [f for f, (_, start) in running.items() if now - start > self.timeout]
        if not late:
            return
        processing = self._client.processing()
        workers = [w for w, keys in processing.items() if any(f.key in keys for f in late)]
        for future in late:
            key, start = running.pop(future)
            future.cancel()
            yield key, timeout_outcome(self.timeout, now - start)
        if workers:
            self._client.restart_workers(workers)

    def close(self, cancel=False):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


def _outcome(future):
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: this job only
        return {"status": "error", "reason": f"dask: {type(exc).__name__}: {exc}",
                "result": {}, "seconds": float("nan")}
