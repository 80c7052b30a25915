"""Where jobs run: in this process, in a local process pool, or on a Dask cluster.

Every executor runs :func:`execute` on ``(key, job_fn, config)`` tasks and yields
``(key, outcome)`` pairs as they finish; the runner alone writes files, so all
executors share the same output directory layout and the same resume.

The job function is named by a ``"module:function"`` string, not passed as an
object, so that spawned or remote workers import it themselves.
"""

from __future__ import annotations

import contextlib
import importlib
import numbers
import os
import time
import traceback

from jdyn._threads import one_blas_thread
from jdyn.scenarios.pool import WorkerPool
from jdyn.scenarios.timeout import JobTimeout, time_limit, timeout_outcome

__all__ = ["resolve", "execute", "make_executor", "ExecutorError",
           "InlineExecutor", "LocalExecutor"]

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


def execute(spec, config, timeout=None) -> dict:
    """Run one job and describe what happened; never raises for a job's own error.

    Parameters
    ----------
    spec : str
        ``"module:function"`` of the job function ``fn(config) -> dict``.
    config : dict
        The job's config.
    timeout : float, optional
        Seconds after which the job is interrupted (see
        :func:`jdyn.scenarios.timeout.time_limit`) and recorded as ``"timeout"``.

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
        with time_limit(timeout):
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
    except JobTimeout:
        return timeout_outcome(timeout, time.perf_counter() - start)
    outcome["seconds"] = time.perf_counter() - start
    return outcome


class InlineExecutor:
    """Runs tasks one after another in this process (``--jobs 1``; handy with pdb).

    The time limit is a ``SIGALRM`` timer: it stops pure-Python and numpy-level loops,
    not a single long call into native code (the process pool kills such a job).
    """

    name = "inline"

    def __init__(self, timeout=None):
        self.timeout = timeout

    def check(self):
        """Nothing to reach before the run starts."""

    def map_unordered(self, tasks):
        # pinned as the pool's workers are: BLAS threads only oversubscribe these products
        with one_blas_thread():
            for key, spec, config in tasks:
                yield key, execute(spec, config, self.timeout)

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


class LocalExecutor:
    """Spawned worker processes (:class:`jdyn.scenarios.pool.WorkerPool`): a job over
    its time limit has its worker killed and replaced, and the job of a worker that
    died runs once more in a fresh worker."""

    name = "local"

    def __init__(self, jobs, timeout=None):
        self.jobs, self.timeout = int(jobs), timeout
        self._pool = None

    def check(self):
        """Nothing to reach before the run starts (the pool is made when jobs run)."""

    def map_unordered(self, tasks):
        with _one_blas_thread():
            self._pool = WorkerPool(self.jobs, self.timeout)
            yield from self._pool.map_unordered(tasks)

    def close(self, cancel=False):
        if self._pool is not None:
            self._pool.close(cancel=cancel)
        self._pool = None


def make_executor(name, jobs, scheduler=None, timeout=None):
    """The executor for ``--executor NAME`` (checked before anything is written).

    ``timeout`` is the per-job limit in seconds (``None``: unbounded).
    """
    if name == "local":
        if scheduler:
            raise ValueError("--scheduler is only used with --executor dask")
        return InlineExecutor(timeout) if jobs == 1 else LocalExecutor(jobs, timeout)
    if name == "dask":
        from jdyn.scenarios.daskpool import DaskExecutor
        return DaskExecutor(jobs, scheduler, timeout)
    raise ValueError(f"--executor must be 'local' or 'dask'; got {name!r}")
