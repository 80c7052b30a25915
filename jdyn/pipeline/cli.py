"""``jdyn analyse FILE``: the invariants of one series in a file, with a report.

Registered into the ``jdyn`` command by :func:`register`. The file is read with
:func:`jdyn.datafile.read_series` and analysed with :func:`jdyn.analyse` before
anything is written: bad input or a bad option is a ``ValueError``, which
:func:`jdyn.cli.main` prints as one line and exits with 2, leaving no output
directory behind. Then ``DIR/results.nc`` (the Dataset of
:mod:`jdyn.pipeline.dataset`), ``DIR/report.html``, ``DIR/report.md`` and
``DIR/analysis.png`` are written, each to a temporary name first and renamed.

``--hidden`` and ``--max-iter`` (estimator options) and ``--n-steps`` and
``--n-orbits`` (free-run length and count) are accepted but not shown in ``--help``:
they exist for quick checks and tests.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

__all__ = ["default_out_dir", "register", "write_results"]

RESULTS = "results.nc"

_HELP = """\
Estimate the Lyapunov spectrum, Kaplan-Yorke and correlation dimension and the noise
level of one time series from a file (.csv/.tsv/.txt/.dat text, .npy or .nc), with an
ensemble of fitted delay maps for honest uncertainties. Writes DIR/results.nc,
DIR/report.html and DIR/report.md (default DIR: runs/analyse-<file stem>).
Exponents are per unit time when the sampling interval is known (--dt, or the file's
time column), else per sample."""


def register(subparsers):
    """Add the ``analyse`` subcommand to ``jdyn``'s subparsers."""
    p = subparsers.add_parser("analyse", help="analyse one time series in a file",
                              description=_HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="the series: .csv, .tsv, .txt, .dat, .npy or .nc")
    p.add_argument("--column", metavar="NAME",
                   help="the column (header name or 0-based index) or netCDF variable; "
                        "needed when the file has several value columns")
    p.add_argument("--dt", metavar="DT",
                   help="sampling interval (default: from the file's time column, else "
                        "none: exponents per sample)")
    p.add_argument("--out", metavar="DIR",
                   help="output directory (default: runs/analyse-<file stem>)")
    p.add_argument("--jobs", metavar="N",
                   help="worker processes (default: the number of cores); 1 fits in this "
                        "process")
    p.add_argument("--members", metavar="N", default="6",
                   help="models per ensemble, at least 3 (default: 6)")
    p.add_argument("--dim", metavar="D", help="embedding dimension (default: chosen from "
                                              "the data)")
    p.add_argument("--lag", metavar="L", help="embedding lag in samples (default: chosen "
                                              "from the data)")
    p.add_argument("--seed", metavar="S", default="0",
                   help="seed of every random choice (default: 0)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines on stderr")
    hidden = argparse.SUPPRESS
    p.add_argument("--hidden", metavar="H", help=hidden)
    p.add_argument("--max-iter", metavar="N", help=hidden)
    p.add_argument("--n-steps", metavar="N", help=hidden)
    p.add_argument("--n-orbits", metavar="N", help=hidden)
    p.set_defaults(_run=_run)


def default_out_dir(path) -> Path:
    """``runs/analyse-<file stem>`` (relative to the working directory)."""
    return Path("runs") / f"analyse-{Path(path).stem}"


# ------------------------------------------------------------------------ validation

def _int(text, option, minimum):
    if text is None:
        return None
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"{option} must be an integer; got {text!r}") from None
    if value < minimum:
        raise ValueError(f"{option} must be >= {minimum}; got {value}")
    return value


def _float(text, option):
    if text is None:
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ValueError(f"{option} must be a number; got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{option} must be finite and > 0; got {text!r}")
    return value


def _hidden(text):
    if text is None:
        return None
    try:
        sizes = tuple(int(s) for s in str(text).replace(" ", "").split(",") if s)
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise ValueError(f"--hidden must be comma-separated positive layer sizes, e.g. "
                         f"16,16; got {text!r}")
    return sizes


def _options(args):
    """Everything given on the command line, checked; nothing read or written yet."""
    opts = {
        "dt": _float(args.dt, "--dt"),
        "jobs": _int(args.jobs, "--jobs", 1),
        "n_members": _int(args.members, "--members", 3),
        "dim": _int(args.dim, "--dim", 1),
        "lag": _int(args.lag, "--lag", 1),
        "rng": _int(args.seed, "--seed", 0),
    }
    runs = {"n_steps": _int(args.n_steps, "--n-steps", 100),
            "n_orbits": _int(args.n_orbits, "--n-orbits", 1)}
    opts.update({k: v for k, v in runs.items() if v is not None})
    estimator = {"hidden": _hidden(args.hidden), "max_iter": _int(args.max_iter,
                                                                  "--max-iter", 1)}
    opts.update({k: v for k, v in estimator.items() if v is not None})
    return opts


def _check_out_dir(out):
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a directory; choose another --out")
    parent = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{out}: cannot create or write the output directory "
                         f"({parent} is not writable)")


# --------------------------------------------------------------------------- writing

def write_results(ds, path) -> Path:
    """Write ``ds`` to netCDF at ``path`` via a temporary file and a rename.

    xarray picks the engine (netCDF4, h5netcdf, else scipy's netCDF-3). Should the
    engine refuse unicode string variables, they are written as UTF-8 bytes instead.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        try:
            ds.to_netcdf(tmp)
        except (TypeError, ValueError, UnicodeError):
            tmp.unlink(missing_ok=True)
            _as_bytes(ds).to_netcdf(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _as_bytes(ds):
    import numpy as np
    out = ds.copy()
    for name, var in ds.variables.items():
        if var.dtype.kind in "UO":
            out[name] = var.copy(data=np.char.encode(var.values.astype(str), "utf-8"))
    return out


# ---------------------------------------------------------------------------- command

def _run(args) -> int:
    import jdyn
    from jdyn.datafile import read_series
    from jdyn.pipeline import MIN_SAMPLES

    from .report import write_report

    opts = _options(args)
    out = Path(args.out) if args.out else default_out_dir(args.file)
    _check_out_dir(out)
    dt = opts.pop("dt")
    series = read_series(args.file, column=args.column, dt=dt)
    label = series.path
    if len(series) < MIN_SAMPLES:
        raise ValueError(f"{label}, {series.name}: {len(series)} samples; the analysis "
                         f"needs at least {MIN_SAMPLES}")
    quiet = args.quiet
    if not quiet:
        when = "per unit time" if series.dt is not None else "per sample"
        named = series.name.startswith(("column ", "variable "))
        print(f"jdyn analyse: {len(series)} samples of "
              f"{series.name if named else repr(series.name)} in {label}"
              + ("" if series.dt is None else f", dt = {series.dt:g}")
              + f" (exponents {when})", file=sys.stderr)
    try:
        analysis = jdyn.analyse(series.values, dt=series.dt, progress=not quiet, **opts)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None
    print(analysis.summary())

    ds = analysis.to_dataset()
    ds.attrs["input_file"] = label
    ds.attrs["input_column"] = series.name
    out.mkdir(parents=True, exist_ok=True)
    results = write_results(ds, out / RESULTS)
    paths = write_report(ds, out)
    print(f"results: {results}")
    print(f"report: {paths['html']} (also {paths['markdown'].name}, "
          f"{paths['figure'].name})")
    return 0
