"""``jdyn bench analysis``: what the analysis layer costs, beside nolds on the same data.

Cases (``--quick`` sizes in brackets):

* ``correlation_dim`` of 10^5 [10^4] Hénon states (2-D, ``n_reference="auto"``);
* ``correlation_dim`` and ``nolds.corr_dim`` on the same 20,000 and 5,000 [2,000 and
  1,000] points of the Hénon x-series, embedded in 2 dimensions with lag 1 (jdyn gets the
  delay vectors, nolds the series and ``emb_dim=2``; each with its default radii;
  nolds with least-squares fits);
* the Hénon spectrum from 10^6 [10^5] iterations in total (64 orbits);
* the Lorenz spectrum over 10^4 [500] time units in total (100 [20] orbits, dt = 0.1);
* the same two spectra of user-defined systems, beside the built-ins: Hénon written as a
  user would, with per-state ``step(x)`` and ``jacobian(x)`` only, and Lorenz given as
  ``Flow(rhs_batch=..., jacobian_batch=...)`` (targets: each within 1.5x the built-in).

Every case runs in a fresh spawned process, so its memory figure is its own: *peak RSS*
is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of that process (the whole process,
interpreter and libraries included), and *base* is its resident size just before the
timed call (after imports and data generation). Times are wall-clock seconds of one
call (``time.perf_counter``) with the process's CPU seconds beside them (they differ
when the machine is shared); data generation is not timed. The speed ratio against
nolds uses wall time, both measured in the same run.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import resource
import sys
import time

import numpy as np

__all__ = ["add_arguments", "run", "measure", "format_report", "main", "CASES"]

#: name -> (full size, quick size)
CASES = {
    "corr_dim_large": (100_000, 10_000),
    "corr_dim_vs_nolds_a": (20_000, 2_000),
    "corr_dim_vs_nolds_b": (5_000, 1_000),
    "henon_spectrum": (1_000_000, 100_000),
    "lorenz_spectrum": (10_000, 500),
    "henon_spectrum_user": (1_000_000, 100_000),
    "lorenz_spectrum_user": (10_000, 500),
}
HENON_ORBITS = 64
LORENZ_ORBITS = (100, 20)
LORENZ_DT = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``jdyn bench analysis``."""
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--no-nolds", action="store_true", help="skip the nolds baselines")


def _rss_mib():
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        import os
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):  # pragma: no cover - not Linux
        return float("nan")


def _henon_x(n):
    from jdyn.systems import Henon
    return Henon().trajectory(n, rng=0)


def _user_henon_step(x):
    return np.array([1.0 - 1.4 * x[0] * x[0] + x[1], 0.3 * x[0]])


def _user_henon_jacobian(x):
    return np.array([[-2.8 * x[0], 1.0], [0.3, 0.0]])


def _user_lorenz_rhs(X):
    x, y, z = X[:, 0], X[:, 1], X[:, 2]
    return np.stack([10.0 * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z], axis=1)


def _user_lorenz_jacobian(X):
    x, y, z = X[:, 0], X[:, 1], X[:, 2]
    J = np.zeros((X.shape[0], 3, 3))
    J[:, 0, 0], J[:, 0, 1], J[:, 1, 1], J[:, 2, 2] = -10.0, 10.0, -1.0, -8.0 / 3.0
    J[:, 1, 0], J[:, 1, 2], J[:, 2, 0], J[:, 2, 1] = 28.0 - z, -x, y, x
    return J


def _spectrum_system(name):
    from jdyn.systems import Flow, Henon, Lorenz, Map
    if name == "henon_spectrum":
        return Henon()
    if name == "henon_spectrum_user":
        return Map(_user_henon_step, _user_henon_jacobian, Henon().x0, name="user-henon")
    if name == "lorenz_spectrum":
        return Lorenz()
    return Flow(rhs_batch=_user_lorenz_rhs, jacobian_batch=_user_lorenz_jacobian,
                x0=Lorenz().x0, name="user-lorenz")


def _case(name, size, quick):
    """Run one case in this process; returns a dict of measurements."""
    import numpy as np
    if name == "corr_dim_large":
        from jdyn.analysis.correlation import correlation_dim
        data = _henon_x(size)
        call = lambda: correlation_dim(data, rng=0)  # noqa: E731
    elif name.startswith("corr_dim_vs_nolds"):
        x = _henon_x(size)[:, 0]
        if name.endswith("_nolds"):
            from jdyn.baselines import corr_dim
            call = lambda: corr_dim(x, 2, max_points=None)  # noqa: E731
        else:
            from jdyn.analysis.correlation import correlation_dim
            points = np.column_stack([x[:-1], x[1:]])
            call = lambda: correlation_dim(points)  # noqa: E731
    elif name.startswith("henon_spectrum"):
        from jdyn.analysis import lyapunov_spectrum
        system = _spectrum_system(name)
        call = lambda: lyapunov_spectrum(system, size // HENON_ORBITS,  # noqa: E731
                                         n_orbits=HENON_ORBITS, rng=0)
    elif name.startswith("lorenz_spectrum"):
        from jdyn.analysis import lyapunov_spectrum
        system = _spectrum_system(name)
        k = LORENZ_ORBITS[1 if quick else 0]
        call = lambda: lyapunov_spectrum(system, round(size / k / LORENZ_DT),  # noqa: E731
                                         n_orbits=k, dt=LORENZ_DT, rng=0)
    else:
        raise ValueError(f"unknown case {name!r}")
    base = _rss_mib()
    c0, t0 = time.process_time(), time.perf_counter()
    out = call()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": name, "size": size, "seconds": seconds, "cpu_seconds": cpu,
            "peak_rss_mib": peak,
            "base_rss_mib": base, "result": _describe(out)}


def _describe(out):
    import numpy as np
    if hasattr(out, "dimension"):
        lo, hi = out.fit_range
        return {"value": float(out.dimension), "stderr": float(out.stderr),
                "text": f"D2 = {out.dimension:.4f} ± {out.stderr:.4f} (r {lo:.2g}–{hi:.2g}, "
                        f"{out.n_reference} ref. points)"}
    if hasattr(out, "exponents"):
        ex = ", ".join(f"{e:.5f} ± {s:.5f}" for e, s in zip(out.exponents, out.stderr))
        return {"value": [float(e) for e in out.exponents],
                "stderr": [float(s) for s in out.stderr],
                "text": f"λ = ({ex}); D_KY = {out.kaplan_yorke:.5f} ± "
                        f"{out.kaplan_yorke_stderr:.5f}; {out.n_orbits} orbits × "
                        f"{out.n_steps} steps"}
    return {"value": float(out.value), "text": f"D2 = {float(out.value):.4f} (nolds, fit over "
                                               f"all {np.asarray(out.curve[0]).size} radii)"}


def _in_child(name, size, quick):
    # Imported by name so the child can unpickle it when this file runs as __main__.
    from jdyn.bench.analysis import _case as case
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(case, name, size, quick).result()


def measure(quick=False, nolds=True, progress=None) -> dict:
    """Run every case (each in a fresh process); returns ``{"rows": [...], ...}``."""
    rows = []
    for name, sizes in CASES.items():
        size = sizes[1 if quick else 0]
        variants = [name]
        if name.startswith("corr_dim_vs_nolds") and nolds:
            variants.append(name + "_nolds")
        for case in variants:
            if progress:
                progress(f"running {case} (size {size}) ...")
            rows.append(_in_child(case, size, quick))
    return {"quick": quick, "rows": rows}


_LABELS = {
    "corr_dim_large": "correlation_dim, Hénon states",
    "corr_dim_vs_nolds_a": "correlation_dim, Hénon x emb 2",
    "corr_dim_vs_nolds_a_nolds": "nolds.corr_dim, same data",
    "corr_dim_vs_nolds_b": "correlation_dim, Hénon x emb 2",
    "corr_dim_vs_nolds_b_nolds": "nolds.corr_dim, same data",
    "henon_spectrum": "lyapunov_spectrum, Hénon (iterations)",
    "lorenz_spectrum": "lyapunov_spectrum, Lorenz (time units)",
    "henon_spectrum_user": "lyapunov_spectrum, user Hénon, per-state functions",
    "lorenz_spectrum_user": "lyapunov_spectrum, user Lorenz, batch functions",
}


def format_report(report: dict) -> str:
    """Markdown table of :func:`measure`'s output, with the targets of issue 3."""
    rows = report["rows"]
    by = {r["case"]: r for r in rows}
    lines = ["| case | size | wall [s] (CPU) | peak RSS [MiB] (base) | result |",
             "|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {_LABELS[r['case']]} | {r['size']:,} | {r['seconds']:.2f} "
                     f"({r['cpu_seconds']:.2f}) | "
                     f"{r['peak_rss_mib']:.0f} ({r['base_rss_mib']:.0f}) | {r['result']['text']} |")
    checks = []
    if "corr_dim_large" in by:
        r = by["corr_dim_large"]
        checks.append((f"correlation_dim {r['size']:,} points ≤ 10 s and ≤ 500 MB peak",
                       r["seconds"] <= 10 and r["peak_rss_mib"] <= 500 / 1.048576,
                       f"{r['seconds']:.2f} s, {r['peak_rss_mib']:.0f} MiB"))
    for key in ("corr_dim_vs_nolds_a", "corr_dim_vs_nolds_b"):
        if key in by and key + "_nolds" in by:
            ratio = by[key + "_nolds"]["seconds"] / by[key]["seconds"]
            checks.append((f"≥ 20× faster than nolds.corr_dim at {by[key]['size']:,} points",
                           ratio >= 20, f"{ratio:.1f}×"))
    for key, limit in (("henon_spectrum", 3.0), ("lorenz_spectrum", 60.0)):
        if key in by:
            checks.append((f"{_LABELS[key]} {by[key]['size']:,} ≤ {limit:g} s",
                           by[key]["seconds"] <= limit, f"{by[key]['seconds']:.2f} s"))
    for key in ("henon_spectrum", "lorenz_spectrum"):
        if key in by and key + "_user" in by:
            ratio = by[key + "_user"]["cpu_seconds"] / by[key]["cpu_seconds"]
            checks.append((f"{_LABELS[key + '_user']} ≤ 1.5× the built-in (CPU)",
                           ratio <= 1.5, f"{ratio:.2f}×"))
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    if report.get("quick"):  # the targets are for the full sizes
        lines += [f"| {t} | {m} | n/a (--quick) |" for t, ok, m in checks]
    else:
        lines += [f"| {t} | {m} | {'yes' if ok else 'NO'} |" for t, ok, m in checks]
    return "\n".join(lines)


def run(args=None, **kwargs) -> int:
    """Run the benchmark and print its table. ``args``: an argparse namespace from
    :func:`add_arguments`, or keywords ``quick``, ``no_nolds``. Returns 0."""
    opts = vars(args).copy() if args is not None else {}
    opts.update(kwargs)
    report = measure(quick=bool(opts.get("quick", False)),
                     nolds=not opts.get("no_nolds", False),
                     progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(format_report(report))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jdyn.bench.analysis",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
