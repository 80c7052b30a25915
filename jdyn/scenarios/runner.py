"""Running a scenario: validate, expand, run the jobs, keep every finished one.

Order of work in :func:`run`: the scenario, its size limits, the job function, the
executor and the output path are all checked before the output directory is touched;
then the directory is created (or, with ``resume``, checked to belong to the same
scenario), locked, given a copy of the scenario and a manifest; the pending jobs run
in parallel, each under the per-job time limit, and each is written atomically, with
its checksum, to ``DIR/jobs/ID.json`` as it finishes and then forgotten; finally
``DIR/results.nc`` is assembled. A crash, Ctrl-C, SIGTERM or ``kill -9`` therefore
loses only unfinished jobs, and a job file edited or corrupted since is rerun.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from jdyn.scenarios import integrity
from jdyn.scenarios import results as _files
from jdyn.scenarios.executors import make_executor, resolve
from jdyn.scenarios.lock import lock
from jdyn.scenarios.progress import FAILED as _FAILED, Progress
from jdyn.scenarios.limits import check_limits, estimate_seconds, format_seconds
from jdyn.scenarios.load import Scenario, ScenarioError, load_scenario
from jdyn.scenarios.signals import terminate_as_interrupt
from jdyn.scenarios.sweep import (check_same_run, expand, format_job_table, job_id,
                                  manifest_of)
from jdyn.scenarios.timeout import DEFAULT_JOB_TIMEOUT, check_timeout

__all__ = ["run", "RunSummary", "DEFAULT_JOB_FN", "lock", "Progress"]

#: The job function used unless ``job_fn`` or the ``JDYN_JOB_FN`` variable says otherwise.
DEFAULT_JOB_FN = "jdyn.scenarios.jobs:run_job"
_REFERENCE_KEY = "reference"


@dataclass
class RunSummary:
    """What :func:`run` did.

    Attributes
    ----------
    out_dir : pathlib.Path
    n_jobs, n_skipped, n_run, n_errors, n_timeouts : int
        All jobs; finished before this run; run now; of those, ``status == "error"``
        and ``status == "timeout"``.
    results : pathlib.Path or None
        ``DIR/results.nc`` (``None`` for a dry run).
    seconds : float
        Wall time of the whole call.
    """

    out_dir: Path
    n_jobs: int
    n_skipped: int = 0
    n_run: int = 0
    n_errors: int = 0
    n_timeouts: int = 0
    results: Path | None = None
    seconds: float = 0.0


def _job_fn_spec(job_fn, imported=True):
    """The job function's ``"module:function"``, imported to check it unless a dry run
    (whose answer must not wait for the estimators to import)."""
    spec = job_fn or os.environ.get("JDYN_JOB_FN") or DEFAULT_JOB_FN
    if callable(spec):
        spec = f"{spec.__module__}:{spec.__qualname__}"
    if imported or spec != DEFAULT_JOB_FN:
        resolve(spec)
    return spec


def _reference_spec(reference_fn, job_spec):
    """An explicit function, else ``JDYN_REFERENCE_FN``, else ``reference`` beside the
    job function when its module defines one; ``False`` turns it off."""
    if reference_fn is False:
        return None
    spec = reference_fn or os.environ.get("JDYN_REFERENCE_FN")
    if callable(spec):
        spec = f"{spec.__module__}:{spec.__qualname__}"
    if spec:
        resolve(spec)
        return spec
    candidate = job_spec.split(":")[0] + ":reference"
    try:
        resolve(candidate)
    except ValueError:
        return None
    return candidate


def run(scenario, out_dir=None, jobs=None, resume=False, dry_run=False, executor="local",
        scheduler=None, job_fn=None, reference_fn=None, progress=True, retry_errors=False,
        stdout=None, job_timeout=None, max_jobs=None, max_job_memory=None) -> RunSummary:
    """Run every job of a scenario into an output directory.

    Parameters
    ----------
    scenario : str, os.PathLike or Scenario
        A scenario file or an already loaded :class:`Scenario`.
    out_dir : str or os.PathLike, optional
        Default: the scenario's ``output.dir`` (which must be relative and inside the
        working directory), else ``runs/NAME``. Given here it may point anywhere.
    jobs : int, optional
        Parallel workers (default ``os.cpu_count()``); 1 runs jobs in this process.
    resume : bool
        Continue an existing directory of the same scenario, skipping finished jobs;
        jobs whose files fail their checksum are run again.
    dry_run : bool
        Print the job table and a run-time estimate, and stop; nothing is written.
    executor : {"local", "dask"}
    scheduler : str, optional
        Dask scheduler address; without it ``executor="dask"`` starts a LocalCluster.
    job_fn : str or callable, optional
        ``"module:function"`` (or a top-level function) called as ``fn(config) -> dict``;
        default ``JDYN_JOB_FN`` or :data:`DEFAULT_JOB_FN`.
    reference_fn : str, callable or False, optional
        Called once with the base config for job-independent truth; default
        ``JDYN_REFERENCE_FN`` or ``reference`` in the job function's module if any.
    progress : bool or "plain"
        Show a progress bar on stderr.
    retry_errors : bool
        With ``resume``, run jobs that ended in ``status`` "error" or "timeout" again.
    stdout : file, optional
        Where the dry-run table goes (default ``sys.stdout``).
    job_timeout : float, optional
        Seconds per job (and for the reference); default ``limits.job_timeout``.
    max_jobs : int, optional
        Overrides ``limits.max_jobs``.
    max_job_memory : float, optional
        Overrides ``limits.max_job_memory`` (MB).

    Returns
    -------
    RunSummary

    Raises
    ------
    jdyn.scenarios.ScenarioError
        For an invalid scenario or ``output.dir`` (nothing is created).
    ValueError
        For a sweep over its limits, an unusable output directory, a lock held by
        another run, a changed scenario on resume, or bad options.
    OSError
        When a file cannot be written (a full disk); finished jobs are kept.
    KeyboardInterrupt
        On Ctrl-C, or :class:`jdyn.scenarios.signals.Terminated` on SIGTERM: workers
        are stopped, finished jobs kept and the lock removed.
    """
    t0 = time.monotonic()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    jobs_n = _positive_int(jobs, "--jobs", os.cpu_count() or 1)
    timeout = check_timeout(job_timeout) or _limits(scenario).get("job_timeout",
                                                                    DEFAULT_JOB_TIMEOUT)
    check_limits(scenario, _positive_int(max_jobs, "--max-jobs", None),
                 check_timeout(max_job_memory, "--max-job-memory"))
    out = _output_dir(scenario, out_dir)
    table = expand(scenario)
    job_spec = _job_fn_spec(job_fn, imported=not dry_run)
    ref_spec = None if dry_run else _reference_spec(reference_fn, job_spec)
    pool = make_executor(executor, jobs_n, scheduler, timeout)
    manifest = manifest_of(scenario, table, job_spec, ref_spec)
    summary = RunSummary(out_dir=out, n_jobs=len(table))
    if dry_run:
        _dry_run(scenario, table, out, manifest, jobs_n, stdout)
        return summary
    pool.check()     # e.g. reach a Dask scheduler before anything is written
    with terminate_as_interrupt():
        _prepare(out, resume, manifest, "--out" if out_dir is not None else "output.dir")
        with lock(out):
            pending = _pending(out, scenario, table, manifest, retry_errors)
            summary.n_skipped = len(table) - len(pending)
            tasks = _tasks(out, pending, job_spec, ref_spec, scenario, retry_errors)
            if progress:
                print(f"jdyn: {scenario.name}: running {len(pending)} of {len(table)} jobs "
                      f"on {jobs_n} worker(s) into {out}", file=sys.stderr, flush=True)
            _run_tasks(pool, tasks, table, out, summary, progress)
            summary.results = _assemble(out)
    summary.seconds = time.monotonic() - t0
    return summary


def _limits(scenario):
    return scenario.data.get("limits") or {}


def _positive_int(value, name, default):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return value


def _output_dir(scenario, out_dir):
    """``out_dir`` as given, else the scenario's ``output.dir`` checked to be relative
    and inside the working directory (a third-party file must not choose where the
    user's files go), else ``runs/NAME``."""
    if out_dir is not None:
        return Path(out_dir)
    given = scenario.data["output"]["dir"]
    if given:
        cwd = Path.cwd().resolve()
        target = (cwd / given).resolve()
        if Path(given).is_absolute() or target != cwd and cwd not in target.parents:
            raise ScenarioError(scenario.source, [
                f"output.dir: got {json.dumps(given)}; expected a relative path inside the "
                "working directory (pass --out to write somewhere else)"])
    return Path(scenario.output_dir)


def _dry_run(scenario, table, out, manifest, workers, stdout):
    old = _files.read_json(out / _files.MANIFEST)
    done = {}
    if old and old.get("scenario_hash") == manifest["scenario_hash"]:
        done, _ = integrity.scan(sorted((out / _files.JOBS_DIR).glob("*.json")), keep=False)
    todo = [j for j in table if j.id not in done]
    estimate = format_seconds(estimate_seconds(todo, workers))
    print(format_job_table(scenario, table, done, out), file=stdout or sys.stdout)
    print(f"estimated run time: about {estimate} for {len(todo)} pending job"
          f"{'s' * (len(todo) != 1)} on {workers} worker{'s' * (workers != 1)} (from the "
          "job sizes; a rough figure, good to a factor of a few)", file=stdout or sys.stdout)


def _prepare(out, resume, manifest, label):
    """Check, then create ``out``; raise ``ValueError`` naming ``label`` if unusable."""
    if out.is_symlink() and not out.exists():
        raise ValueError(f"{label} {out} is a symbolic link to {os.readlink(out)}, which "
                         "does not exist")
    if out.exists() and not out.is_dir():
        raise ValueError(f"{label} {out} exists and is not a directory")
    if out.is_dir():
        lock(out).check()
    old = _files.read_json(out / _files.MANIFEST)
    if out.is_dir() and any(p.name != _files.LOCK for p in out.iterdir()):
        if not resume:
            raise ValueError(f"{out} already exists; pass --resume to continue that run, "
                             "or choose another --out directory")
        if old is None:
            raise ValueError(f"{out} is not empty and holds no jdyn run ({_files.MANIFEST} "
                             "is missing); refusing to write into it")
        check_same_run(out, old, manifest)
    try:
        (out / _files.JOBS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{label} {out}: cannot create the directory "
                         f"({exc.strerror})") from None


def _pending(out, scenario, table, manifest, retry_errors):
    """The jobs still to run; writes the scenario copy and manifest of a new directory.
    A job whose file fails its checksum is named on stderr and run again."""
    old = _files.read_json(out / _files.MANIFEST)  # again, now that the lock is ours
    if old is None:
        with _saving(out, "no job has run: free some space, delete the directory and run "
                     "again"):
            _files.write_atomic(out / _files.SCENARIO_COPY, scenario.text.encode("utf-8"))
            _files.write_json(out / _files.MANIFEST, manifest)
    else:
        check_same_run(out, old, manifest)
    for stale in (out / _files.JOBS_DIR).glob(".*.tmp"):
        stale.unlink(missing_ok=True)
    done, bad = integrity.scan(sorted((out / _files.JOBS_DIR).glob("*.json")), job_id,
                               keep=False)
    for path, why in sorted(bad.items()):
        print(f"jdyn: {path} {why}; running that job again", file=sys.stderr)
    if retry_errors:
        done = {k: v for k, v in done.items() if v not in _FAILED}
    return [j for j in table if j.id not in done]


def _tasks(out, pending, job_spec, ref_spec, scenario, retry_errors):
    """``(key, spec, config)`` of the reference (when due) then each pending job."""
    path = out / _files.REFERENCE
    ref = _files.read_json(path)
    if ref_spec and path.exists() and integrity.problem(path, ref):
        print(f"jdyn: {path} {integrity.problem(path, ref)}; computing it again",
              file=sys.stderr)
        ref = None
    if ref_spec and (ref is None or retry_errors and ref.get("status") in _FAILED):
        yield _REFERENCE_KEY, ref_spec, scenario.base_config()
    for job in pending:
        yield job.id, job_spec, job.config


_RESUME = "every job finished before it is kept: free some space and rerun with --resume"


@contextlib.contextmanager
def _saving(path, advice=_RESUME):
    """A failed write (a full disk) becomes one message naming the file and what to do."""
    try:
        yield
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}; {advice}") from None


def _write(path, record):
    """Write a sealed record."""
    with _saving(path):
        _files.write_json(path, integrity.seal(record))


def _assemble(out):
    with _saving(out / _files.RESULTS, f"every job is kept in {out / _files.JOBS_DIR}: free "
                 "some space and rerun with --resume"):
        return _files.assemble(out)


def _run_tasks(pool, tasks, table, out, summary, progress):
    by_id = {j.id: j for j in table}
    bar = Progress(len(table), summary.n_skipped, progress) if progress else None
    interrupted = True
    try:
        for key, outcome in pool.map_unordered(tasks):
            stamp = datetime.now(timezone.utc).isoformat()
            if key == _REFERENCE_KEY:
                _write(out / _files.REFERENCE, {**outcome, "finished": stamp})
                continue
            job = by_id[key]
            _write(out / _files.JOBS_DIR / f"{key}.json",
                   {"job_id": key, "coords": job.coords, **outcome, "finished": stamp,
                    "host": socket.gethostname(), "config": job.config})
            summary.n_run += 1
            summary.n_errors += outcome["status"] == "error"
            summary.n_timeouts += outcome["status"] == "timeout"
            if bar is not None:
                bar.update(outcome["status"])
        interrupted = False
    finally:
        if bar is not None:
            bar.close()
        pool.close(cancel=interrupted)
