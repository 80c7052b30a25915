"""Running a scenario: validate, expand, run the jobs, keep every finished one.

Order of work in :func:`run`: the scenario, the job function and the executor are
all checked before the output directory is touched; then the directory is created
(or, with ``resume``, checked to belong to the same scenario), locked, given a copy
of the scenario and a manifest; the pending jobs run in parallel and each is written
atomically to ``DIR/jobs/ID.json`` as it finishes; finally ``DIR/results.nc`` is
assembled. A crash, Ctrl-C or ``kill -9`` therefore loses only unfinished jobs.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from jdyn.scenarios import results as _files
from jdyn.scenarios.executors import make_executor, resolve
from jdyn.scenarios.sweep import check_same_run, expand, format_job_table, manifest_of
from jdyn.scenarios.load import Scenario, load_scenario

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
    n_jobs, n_skipped, n_run, n_errors : int
        All jobs; finished before this run; run now; of those, ``status == "error"``.
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
    results: Path | None = None
    seconds: float = 0.0


def _job_fn_spec(job_fn):
    spec = job_fn or os.environ.get("JDYN_JOB_FN") or DEFAULT_JOB_FN
    if callable(spec):
        spec = f"{spec.__module__}:{spec.__qualname__}"
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


class Progress:
    """A progress bar with an ETA on stderr: tqdm when importable, else one plain
    line (rewritten in place on a terminal, printed every ~5% otherwise)."""

    def __init__(self, total, initial=0, mode=True, stream=None):
        self.total, self.done, self.started, self.errors = total, initial, 0, 0
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self._bar = None
        self._last = -1.0
        if mode is True:
            try:
                from tqdm import tqdm
                self._bar = tqdm(total=total, initial=initial, unit="job", file=self.stream,
                                 dynamic_ncols=True, smoothing=0.1)
            except ImportError:
                mode = "plain"
        self.mode = mode

    def update(self, status):
        """Count one finished job (``status`` "error" is tallied and shown)."""
        self.done += 1
        self.started += 1
        self.errors += status == "error"
        if self._bar is not None:
            if status == "error":
                self._bar.set_postfix(errors=self.errors, refresh=False)
            self._bar.update(1)
        elif self.mode:
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
        if self._bar is not None:
            self._bar.close()
        elif self.mode and getattr(self.stream, "isatty", lambda: False)():
            self.stream.write("\n")


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def run(scenario, out_dir=None, jobs=None, resume=False, dry_run=False, executor="local",
        scheduler=None, job_fn=None, reference_fn=None, progress=True, retry_errors=False,
        stdout=None) -> RunSummary:
    """Run every job of a scenario into an output directory.

    Parameters
    ----------
    scenario : str, os.PathLike or Scenario
        A scenario file or an already loaded :class:`Scenario`.
    out_dir : str or os.PathLike, optional
        Default: the scenario's ``output.dir``, else ``runs/NAME``.
    jobs : int, optional
        Parallel workers (default ``os.cpu_count()``); 1 runs jobs in this process.
        Workers are spawned, so a script calling ``run`` with ``jobs > 1`` needs the
        usual ``if __name__ == "__main__":`` guard.
    resume : bool
        Continue an existing directory of the same scenario, skipping finished jobs.
    dry_run : bool
        Print the job table and stop; nothing is written.
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
        With ``resume``, run jobs that ended in ``status == "error"`` again.
    stdout : file, optional
        Where the dry-run table goes (default ``sys.stdout``).

    Returns
    -------
    RunSummary

    Raises
    ------
    jdyn.scenarios.ScenarioError
        For an invalid scenario (nothing is created).
    ValueError
        For an unusable output directory, a lock held by another run, a changed
        scenario on resume, or bad options.
    jdyn.scenarios.executors.ExecutorError
        If the worker pool broke; finished jobs are kept.
    """
    t0 = time.monotonic()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    jobs_n = (os.cpu_count() or 1) if jobs is None else jobs
    if isinstance(jobs_n, bool) or not isinstance(jobs_n, int) or jobs_n < 1:
        raise ValueError(f"--jobs must be a positive integer; got {jobs!r}")
    table = expand(scenario)
    job_spec = _job_fn_spec(job_fn)
    ref_spec = _reference_spec(reference_fn, job_spec)
    pool = make_executor(executor, jobs_n, scheduler)
    if not dry_run:
        pool.check()     # e.g. reach a Dask scheduler before anything is written
    out = Path(out_dir if out_dir is not None else scenario.output_dir)
    manifest = manifest_of(scenario, table, job_spec, ref_spec)
    old = _files.read_json(out / _files.MANIFEST)
    summary = RunSummary(out_dir=out, n_jobs=len(table))
    if dry_run:
        done = _files.finished_jobs(out) if old and \
            old.get("scenario_hash") == manifest["scenario_hash"] else {}
        print(format_job_table(scenario, table, done, out), file=stdout or sys.stdout)
        return summary
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a directory")
    if out.is_dir():
        lock(out).check()
    if out.is_dir() and any(p.name != _files.LOCK for p in out.iterdir()):
        if not resume:
            raise ValueError(f"{out} already exists; pass --resume to continue that run, "
                             "or choose another --out directory")
        if old is None:
            raise ValueError(f"{out} is not empty and holds no jdyn run ({_files.MANIFEST} "
                             "is missing); refusing to write into it")
        check_same_run(out, old, manifest)
    (out / _files.JOBS_DIR).mkdir(parents=True, exist_ok=True)
    with lock(out):
        old = _files.read_json(out / _files.MANIFEST)  # again, now that the lock is ours
        if old is None:
            _files.write_atomic(out / _files.SCENARIO_COPY, scenario.text.encode("utf-8"))
            _files.write_json(out / _files.MANIFEST, manifest)
        else:
            check_same_run(out, old, manifest)
        for stale in (out / _files.JOBS_DIR).glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        done = _files.finished_jobs(out)
        if retry_errors:
            done = {k: v for k, v in done.items() if v.get("status") != "error"}
        pending = [j for j in table if j.id not in done]
        summary.n_skipped = len(table) - len(pending)
        tasks = [(j.id, job_spec, j.config) for j in pending]
        ref = _files.read_json(out / _files.REFERENCE)
        if ref_spec and (ref is None or retry_errors and ref.get("status") == "error"):
            tasks.insert(0, (_REFERENCE_KEY, ref_spec, scenario.base_config()))
        _run_tasks(pool, tasks, table, out, summary, progress)
        summary.results = _files.assemble(out)
    summary.seconds = time.monotonic() - t0
    return summary


def _run_tasks(pool, tasks, table, out, summary, progress):
    by_id = {j.id: j for j in table}
    bar = Progress(len(table), summary.n_skipped, progress) if progress else None
    interrupted = True
    try:
        for key, outcome in pool.map_unordered(tasks):
            stamp = datetime.now(timezone.utc).isoformat()
            if key == _REFERENCE_KEY:
                _files.write_json(out / _files.REFERENCE, {**outcome, "finished": stamp})
                continue
            job = by_id[key]
            record = {"job_id": key, "coords": job.coords, **outcome, "finished": stamp,
                      "host": socket.gethostname(), "config": job.config}
            _files.write_json(out / _files.JOBS_DIR / f"{key}.json", record)
            summary.n_run += 1
            summary.n_errors += outcome["status"] == "error"
            if bar is not None:
                bar.update(outcome["status"])
        interrupted = False
    finally:
        if bar is not None:
            bar.close()
        pool.close(cancel=interrupted)
