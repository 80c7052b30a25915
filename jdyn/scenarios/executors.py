"""Where jobs run: in this process, in a local process pool, or on a Dask cluster.

Every executor runs :func:`execute` on ``(key, job_fn, config)`` tasks and yields
``(key, outcome)`` pairs as they finish; the runner alone writes files, so all
executors share the same output directory layout and the same resume.

The job function is named by a ``"module:function"`` string, not passed as an
object, so that spawned or remote workers import it themselves.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import importlib
import multiprocessing
import numbers
import os
import threading
import time
import traceback
import uuid

__all__ = ["resolve", "execute", "make_executor", "ExecutorError",
           "InlineExecutor", "LocalExecutor", "DaskExecutor"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class ExecutorError(RuntimeError):
    """The machinery failed (a worker process died, the cluster went away)."""


def resolve(spec):
    """The callable named by ``"package.module:function"``.

    Raises
    ------
    ValueError
        If the string is malformed, the module does not import or the attribute is
        not a callable defined at the top level of that module.
    """
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise ValueError(f"job function must be given as 'module:function'; got {spec!r}")
    module_name, name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"job function {spec}: cannot import {module_name} ({exc})") from None
    fn = getattr(module, name, None)
    if not callable(fn) or "." in name:
        raise ValueError(f"job function {spec}: {module_name} has no top-level callable {name!r}")
    return fn


def _clean(value, where):
    """A job's return value as JSON-ready Python (numpy scalars and arrays included)."""
    if hasattr(value, "dtype") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dict) and set(value) == {"dims", "data"}:
        import numpy as np
        dims = [str(d) for d in value["dims"]]
        data = np.asarray(value["data"], dtype=float)
        if data.ndim != len(dims):
            raise TypeError(f"{where}: data has {data.ndim} dimensions but dims names {len(dims)}")
        return {"dims": dims, "data": data.tolist()}
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        out = [float("nan") if v is None else _clean(v, where) for v in value]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in out):
            raise TypeError(f"{where}: lists must hold numbers only")
        return [float(v) for v in out]
    raise TypeError(f"{where}: unsupported value of type {type(value).__name__}")


def execute(spec, config) -> dict:
    """Run one job and describe what happened; never raises for a job's own error.

    Parameters
    ----------
    spec : str
        ``"module:function"`` of the job function ``fn(config) -> dict``.
    config : dict
        The job's config.

    Returns
    -------
    dict
        ``status`` (the job's own ``status`` entry, ``"ok"`` by default, or
        ``"error"`` if it raised or returned something unusable), ``reason``,
        ``seconds`` (wall time), ``result`` (the job's other entries, cleaned) and,
        after an error, ``traceback``.
    """
    start = time.perf_counter()
    try:
        raw = resolve(spec)(config)
        if not isinstance(raw, dict):
            raise TypeError(f"job function returned {type(raw).__name__}, expected a dict")
        result = {str(k): _clean(v, f"result[{k!r}]") for k, v in raw.items()}
        status = str(result.pop("status", None) or "ok")
        reason = str(result.pop("reason", None) or "")
        outcome = {"status": status, "reason": reason, "result": result}
    except Exception as exc:  # noqa: BLE001 - one failing job must not end the sweep
        outcome = {"status": "error", "reason": f"{type(exc).__name__}: {exc}",
                   "result": {}, "traceback": traceback.format_exc()}
    outcome["seconds"] = time.perf_counter() - start
    return outcome


class InlineExecutor:
    """Runs tasks one after another in this process (``--jobs 1``; handy with pdb)."""

    name = "inline"

    def check(self):
        """Nothing to reach before the run starts."""

    def map_unordered(self, tasks):
        for key, spec, config in tasks:
            yield key, execute(spec, config)

    def close(self, cancel=False):
        pass


@contextlib.contextmanager
def _one_blas_thread():
    """Workers inherit the environment when spawned: N workers each using N BLAS
    threads would oversubscribe the cores, so unset thread counts become 1."""
    missing = [v for v in _THREAD_VARS if v not in os.environ]
    os.environ.update({v: "1" for v in missing})
    try:
        yield
    finally:
        for v in missing:
            os.environ.pop(v, None)


def _watch_parent(parent_pid):
    """Pool initializer: exit once the runner is gone. After a kill -9 of the runner a
    worker would wait on its task queue forever (the siblings keep the queue open), so
    each worker polls for its parent."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, name="jdyn-parent-watch", daemon=True).start()


class LocalExecutor:
    """A :class:`concurrent.futures.ProcessPoolExecutor` with the spawn start method
    (the same on every platform, and safe with threads in the parent)."""

    name = "local"

    def __init__(self, jobs):
        self.jobs = int(jobs)
        self._pool = None

    def check(self):
        """Nothing to reach before the run starts (the pool is made when jobs run)."""

    def map_unordered(self, tasks):
        tasks = list(tasks)
        if not tasks:
            return
        with _one_blas_thread():
            self._pool = cf.ProcessPoolExecutor(
                max_workers=min(self.jobs, len(tasks)),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_watch_parent, initargs=(os.getpid(),))
            futures = {self._pool.submit(execute, spec, config): key
                       for key, spec, config in tasks}
        for future in cf.as_completed(futures):
            try:
                outcome = future.result()
            except cf.process.BrokenProcessPool:
                raise ExecutorError(
                    "a worker process died (out of memory, a crash in native code, or a "
                    "script calling run() without an `if __name__ == '__main__':` guard); "
                    "finished jobs are saved: rerun with --resume") from None
            yield futures[future], outcome

    def close(self, cancel=False):
        if self._pool is None:
            return
        if cancel:
            # 3.11 has no terminate_workers(): stop running jobs rather than wait on them.
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
        self._pool = None


class DaskExecutor:
    """Tasks on a Dask cluster: at ``scheduler`` if given, else a new
    ``LocalCluster`` with ``jobs`` single-threaded worker processes.

    Workers must be able to import jdyn and the job function's module.
    """

    name = "dask"
    #: How long to keep trying to reach a given scheduler.
    connect_timeout = "20s"

    def __init__(self, jobs, scheduler=None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("--executor dask needs dask.distributed, an optional extra: "
                             "pip install 'jdyn[dask]'") from None
        self.jobs, self.scheduler = int(jobs), scheduler
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
        self._cluster = self._LocalCluster(n_workers=self.jobs, threads_per_worker=1,
                                           processes=True, dashboard_address=None)
        return self._Client(self._cluster)

    def map_unordered(self, tasks):
        from dask.distributed import as_completed
        tasks = list(tasks)
        if not tasks:
            return
        self._client = self._connect()
        token = uuid.uuid4().hex[:8]
        futures = {self._client.submit(execute, spec, config, key=f"jdyn-{key}-{token}",
                                       pure=False): key
                   for key, spec, config in tasks}
        for future in as_completed(futures):
            key = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: this job only
                outcome = {"status": "error", "reason": f"dask: {type(exc).__name__}: {exc}",
                           "result": {}, "seconds": float("nan")}
            yield key, outcome

    def close(self, cancel=False):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


def make_executor(name, jobs, scheduler=None):
    """The executor for ``--executor NAME`` (checked before anything is written)."""
    if name == "local":
        if scheduler:
            raise ValueError("--scheduler is only used with --executor dask")
        return InlineExecutor() if jobs == 1 else LocalExecutor(jobs)
    if name == "dask":
        return DaskExecutor(jobs, scheduler)
    raise ValueError(f"--executor must be 'local' or 'dask'; got {name!r}")
