"""``jdyn run`` and ``jdyn report``: registered into the ``jdyn`` command by
:func:`register`.

A ``ValueError`` (bad scenario, bad option, unusable directory, a sweep over its
limits, an untrustworthy job file) or an ``OSError`` (a full disk) reaches
:func:`jdyn.cli.main`, which prints it on one line and exits with 2; SIGTERM exits
with 143 and Ctrl-C with 130, finished jobs kept. A broken executor or a failing
report exits with 1. The environment variables ``JDYN_JOB_FN`` and
``JDYN_REFERENCE_FN`` (``module:function``) replace the job and reference functions;
they exist for tests and are not part of the documented interface.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

__all__ = ["register"]

_RUN_HELP = """\
Run every job of a scenario file (the product of its [sweep] axes) in parallel
processes, writing each finished job to DIR/jobs/ID.json as it completes, then
DIR/results.nc (one xarray Dataset) and the report. A crash, Ctrl-C or kill -9
loses only unfinished jobs: run again with --resume to finish."""

_REPORT_HELP = """\
Build DIR/report.html and DIR/report.md (figures under DIR/figures/) from
DIR/results.nc alone, assembling results.nc from DIR/jobs first if it is missing."""


def register(subparsers):
    """Add the ``run`` and ``report`` subcommands to ``jdyn``'s subparsers."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser("run", help="run a scenario file (a sweep of fits)",
                              description=_RUN_HELP, formatter_class=fmt)
    p.add_argument("scenario", metavar="SCENARIO.toml", help="the scenario file")
    p.add_argument("--out", metavar="DIR",
                   help="output directory (default: the file's output.dir, else runs/NAME)")
    p.add_argument("--jobs", type=_option(int, "--jobs"), metavar="N",
                   help="parallel worker processes (default: the number of cores); "
                        "1 runs the jobs in this process")
    p.add_argument("--resume", action="store_true",
                   help="continue an existing output directory of the same scenario, "
                        "skipping finished jobs")
    p.add_argument("--retry-errors", action="store_true",
                   help="with --resume, also rerun jobs that ended with status 'error'")
    p.add_argument("--dry-run", action="store_true",
                   help="validate, print the job table and stop; writes nothing")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool (default) or a Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://host:8786 (with --executor "
                        "dask; without it a local Dask cluster is started)")
    p.add_argument("--no-report", action="store_true",
                   help="write results.nc but not the report")
    p.add_argument("--job-timeout", type=_option(float, "--job-timeout"), metavar="SECONDS",
                   help="stop a job (or the reference computation) after this long and "
                        "record it as status 'timeout' (default: limits.job_timeout, "
                        "3600)")
    p.add_argument("--max-jobs", type=_option(int, "--max-jobs"), metavar="N",
                   help="refuse sweeps of more jobs than this (default: limits.max_jobs, "
                        "10000)")
    p.add_argument("--max-job-memory", type=_option(float, "--max-job-memory"), metavar="MB",
                   help="refuse jobs estimated to need more memory (default: "
                        "limits.max_job_memory, 4096)")
    p.set_defaults(_run=_run_command)

    r = subparsers.add_parser("report", help="build the report of a run directory",
                              description=_REPORT_HELP, formatter_class=fmt)
    r.add_argument("dir", metavar="DIR", help="a directory written by jdyn run")
    r.set_defaults(_run=_report_command)


def _option(kind, name):
    """An argparse type converting to ``kind``; text it cannot convert is passed on as
    is, for :func:`jdyn.scenarios.run` to refuse in its one-line message naming the
    option (argparse's own error would add the usage text)."""
    def parse(text):
        try:
            return kind(text)
        except ValueError:
            return text
    parse.__name__ = name
    return parse


def _run_command(args) -> int:
    from jdyn.scenarios.executors import ExecutorError
    from jdyn.scenarios.runner import run

    try:
        summary = run(args.scenario, out_dir=args.out, jobs=args.jobs, resume=args.resume,
                      dry_run=args.dry_run, executor=args.executor, scheduler=args.scheduler,
                      retry_errors=args.retry_errors, job_timeout=args.job_timeout,
                      max_jobs=args.max_jobs, max_job_memory=args.max_job_memory)
    except ExecutorError as exc:
        print(f"jdyn: {exc}", file=sys.stderr)
        return 1
    if args.dry_run:
        return 0
    done = f"{summary.n_run} job{'s' * (summary.n_run != 1)} run"
    if summary.n_skipped:
        done += f", {summary.n_skipped} already finished"
    if summary.n_errors:
        done += (f", {summary.n_errors} ended with status 'error' (reasons in the "
                 "'reason' variable)")
    if summary.n_timeouts:
        done += f", {summary.n_timeouts} stopped at the time limit (status 'timeout')"
    print(f"jdyn: {done} in {summary.seconds:.1f} s", file=sys.stderr)
    print(f"results: {summary.results}")
    if args.no_report:
        return 0
    try:
        return _report(summary.out_dir, missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - the results are safe; say why the report is not
        print(f"jdyn: the report failed ({type(exc).__name__}: {exc}); results are in "
              f"{summary.results}; retry with: jdyn report {summary.out_dir}", file=sys.stderr)
        return 1


def _report_command(args) -> int:
    from jdyn.scenarios import integrity, results

    out = Path(args.dir)
    if not out.is_dir():
        raise ValueError(f"{out}: no such directory")
    if (out / results.JOBS_DIR).is_dir():
        integrity.verified_jobs(out)    # refuse edited or corrupted job files
    if not (out / results.RESULTS).exists():
        if not (out / results.MANIFEST).exists():
            raise ValueError(f"{out}: not a jdyn run directory (no {results.RESULTS} "
                             f"and no {results.MANIFEST})")
        print(f"jdyn: assembling {out / results.RESULTS} from {out / results.JOBS_DIR}",
              file=sys.stderr)
        results.assemble(out)
    return _report(out, missing_ok=False)


def _report(out, missing_ok) -> int:
    try:
        module = importlib.import_module("jdyn.report")
    except ModuleNotFoundError as exc:
        if exc.name not in ("jdyn.report",):
            raise
        print("jdyn: the report module (jdyn.report) is not available; no report "
              f"written (results are in {Path(out) / 'results.nc'})", file=sys.stderr)
        return 0 if missing_ok else 1
    written = module.build_report(out)
    if isinstance(written, (str, Path)):
        written = [written]
    elif isinstance(written, dict):
        written = list(written.values())
    elif not isinstance(written, (list, tuple)):
        written = [p for p in (Path(out) / "report.html", Path(out) / "report.md") if p.exists()]
    for path in written:
        print(f"report: {path}")
    return 0
