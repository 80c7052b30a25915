"""``jdyn bench catalogue``: jdyn's invariants of dysts' flows against dysts' published ones.

Per system (each in its own spawned process, killed after ``--timeout`` seconds): the
Lyapunov spectrum (:func:`jdyn.analysis.lyapunov_spectrum`, 4 orbits, re-orthonormalised
every tenth of dysts' period, ``--n-steps`` intervals per orbit after 20 periods of
transient), its Kaplan–Yorke dimension, and the correlation dimension of 2000 states
sampled every tenth of a period (Theiler window 10 samples). Where the divergence is
constant the exponents' sum is checked against it (an exact identity). Times are the
wall-clock seconds of the whole system. Each finished row is also printed to stderr as a
JSON line, so an interrupted run keeps its results. Needs dysts (``pip install 'jdyn[catalogue]'``).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import math
import multiprocessing
import queue
import sys
import time

import numpy as np

__all__ = ["add_arguments", "format_summary", "format_table", "measure", "measure_one", "run",
           "summarise"]

N_ORBITS = 4
N_POINTS = 2000
TRANSIENT_PERIODS = 20.0
# "Reliable" (counted in the agreement summary): a positive λ1 whose stderr is under
# this fraction of it, and a finite dysts value.
RELIABLE_STDERR = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``jdyn bench catalogue``."""
    parser.add_argument("--names", nargs="+", help="dysts flows to run (default: all)")
    parser.add_argument("--n-steps", type=int, default=500,
                        help="re-orthonormalisation intervals per orbit (default 500)")
    parser.add_argument("--jobs", type=int, default=2, help="systems run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds allowed per system (default 120)")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")


def measure_one(name, n_steps=500, seed=0):
    """jdyn's invariants of one dysts flow beside dysts' values.

    Returns
    -------
    dict
        ``name, dim, lam1, lam1_se, ky, d2, d2_se, sum, exact_sum, dysts_lam1,
        dysts_lam1_max, dysts_ky, dysts_d2, jacobian, status``.
    """
    from jdyn.analysis import correlation_dim, lyapunov_spectrum
    from jdyn.systems.catalogue import from_dysts
    rng = np.random.default_rng(seed)
    system = from_dysts(name)
    tau = system.period / 10.0
    res = lyapunov_spectrum(system, n_steps, n_orbits=N_ORBITS, dt=tau, rng=rng,
                            transient=TRANSIENT_PERIODS * system.period)
    pts = system.trajectory(N_POINTS, tau, transient=TRANSIENT_PERIODS * system.period)
    try:
        d2 = correlation_dim(pts, theiler_window=10, rng=rng)
        d2, d2_se, status = float(d2.dimension), float(d2.stderr), res.status
    except ValueError as exc:  # no scaling region: the spectrum still stands
        d2, d2_se, status = math.nan, math.nan, f"{res.status}; D2: {exc}"[:90]
    ref = system.reference
    exact = ref.get("lyapunov_sum", math.nan)
    if math.isfinite(exact) and not _constant_along(system, pts, exact):
        exact = math.nan
    dysts_spec = ref.get("lyapunov_exponents") or (math.nan,)
    return {"name": name, "dim": system.dim, "lam1": float(res.exponents[0]),
            "lam1_se": float(res.stderr[0]), "ky": float(res.kaplan_yorke),
            "d2": d2, "d2_se": d2_se,
            "sum": float(np.sum(res.exponents)),
            "sum_se": float(np.sqrt(np.sum(np.asarray(res.stderr) ** 2))),
            "exact_sum": exact,
            "dysts_lam1": dysts_spec[0], "dysts_sum": float(np.sum(dysts_spec)), "dysts_lam1_max": ref.get("lyapunov_max", math.nan),
            "dysts_ky": ref.get("kaplan_yorke", math.nan),
            "dysts_d2": ref.get("correlation_dim", math.nan),
            "jacobian": system.jacobian_source, "status": status}


def _constant_along(system, pts, value):
    """Whether the divergence equals ``value`` at every 20th sampled state."""
    t = (0.0,) if system.time_dependent else ()
    traces = [np.trace(system.jacobian(x, *t)) for x in pts[::20] if np.isfinite(x).all()]
    return bool(traces) and np.ptp([*traces, value]) <= 1e-6 * max(1.0, abs(value))


def _worker(out, name, n_steps):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out.put(measure_one(name, n_steps))
        except (ValueError, RuntimeError, ArithmeticError, TypeError) as exc:
            out.put({"name": name, "status": f"error: {type(exc).__name__}: {exc}"[:120]})


def _run_isolated(name, n_steps, timeout):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(out, name, n_steps), daemon=True)
    start = time.perf_counter()
    proc.start()
    try:
        row = out.get(timeout=timeout)
    except queue.Empty:
        row = {"name": name, "status": f"timeout ({timeout:g} s)"}
    proc.join(5)
    if proc.is_alive():
        proc.kill()
    row["seconds"] = time.perf_counter() - start
    return row


def measure(names, n_steps=500, jobs=2, timeout=120.0, progress=None):
    """:func:`measure_one` over ``names``, ``jobs`` at a time; rows in ``names`` order."""
    with cf.ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(_run_isolated, n, n_steps, timeout) for n in names]
        rows = []
        for fut in futures:
            rows.append(fut.result())
            if progress is not None:
                progress(rows[-1])
    return rows


def _rel(a, b):
    return abs(a - b) / abs(b) if b else math.inf


def _reliable(row):
    lam, se = row.get("lam1", math.nan), row.get("lam1_se", math.nan)
    return (str(row.get("status")).startswith("ok") and lam > 0 and se < RELIABLE_STDERR * lam
            and math.isfinite(row.get("dysts_lam1", math.nan)))


def _sum_check(row):
    """(jdyn's Σλ − div with its stderr, dysts' Σλ − div), blank where not constant."""
    exact = row.get("exact_sum", math.nan)
    if not math.isfinite(exact):
        return "", ""
    off = row["sum"] - exact
    return (f"{off:+.3g} ({abs(off) / max(row['sum_se'], 1e-300):.1f} se)",
            f"{row.get('dysts_sum', math.nan) - exact:+.3g}")


def summarise(rows):
    """Counts of the agreement summary.

    Returns
    -------
    dict
        ``n``, ``ok`` (ran), ``reliable``, ``lam1_10pct`` (reliable rows within 10% of
        dysts' λ1), ``lam1_max_10pct`` (of dysts' ``maximum_lyapunov_estimated``),
        ``ky_comparable``, ``ky_01`` (within 0.1 of dysts' D_KY), ``sum_checked``,
        ``sum_ok`` (sum within 3 stderr + 1e-3 of the divergence), ``dysts_sum_off``
        (dysts' spectrum misses that identity by over 1% of the divergence + 0.01).
    """
    ok = [r for r in rows if "lam1" in r]
    rel = [r for r in rows if _reliable(r)]
    ky = [r for r in ok if math.isfinite(r["ky"]) and math.isfinite(r["dysts_ky"])]
    sums = [r for r in ok if math.isfinite(r["exact_sum"])]
    return {
        "n": len(rows), "ok": len(ok), "reliable": len(rel),
        "lam1_10pct": sum(_rel(r["lam1"], r["dysts_lam1"]) <= 0.1 for r in rel),
        "lam1_max_10pct": sum(_rel(r["lam1"], r["dysts_lam1_max"]) <= 0.1 for r in rel),
        "ky_comparable": len(ky), "ky_01": sum(abs(r["ky"] - r["dysts_ky"]) <= 0.1 for r in ky),
        "sum_checked": len(sums),
        "sum_ok": sum(abs(r["sum"] - r["exact_sum"]) <= 3 * r["sum_se"] + 1e-3 for r in sums),
        "dysts_sum_off": sum(abs(r.get("dysts_sum", math.nan) - r["exact_sum"])
                             > 0.01 * abs(r["exact_sum"]) + 0.01 for r in sums),
    }


_HEADER = ("system", "d", "λ1 jdyn", "λ1 dysts", "λ1max dysts", "D_KY jdyn", "D_KY dysts",
           "D2 jdyn", "D2 dysts", "Σλ − div jdyn", "Σλ − div dysts", "Jacobian", "s",
           "status")


def _cells(r):
    if "lam1" not in r:
        return (r["name"], *[""] * 11, f"{r.get('seconds', 0):.0f}", r.get("status", ""))
    return (r["name"], str(r["dim"]), f"{r['lam1']:.3f} ± {r['lam1_se']:.3f}",
            f"{r['dysts_lam1']:.3f}", f"{r['dysts_lam1_max']:.3f}", f"{r['ky']:.3f}",
            f"{r['dysts_ky']:.3f}", f"{r['d2']:.2f} ± {r['d2_se']:.2f}", f"{r['dysts_d2']:.2f}",
            *_sum_check(r), r["jacobian"], f"{r.get('seconds', 0):.0f}", r["status"])


def format_table(rows, markdown=True):
    """The table: one row per system (``rows`` as :func:`measure` returns them)."""
    lines = [_cells(r) for r in rows]
    if markdown:
        out = ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
        return "\n".join(out + ["| " + " | ".join(c) + " |" for c in lines])
    widths = [max(len(str(c[i])) for c in [_HEADER, *lines]) for i in range(len(_HEADER))]
    return "\n".join("  ".join(str(c[i]).ljust(widths[i]) for i in range(len(c)))
                     for c in [_HEADER, *lines])


def format_summary(s):
    """One paragraph of :func:`summarise`'s counts."""
    return (f"{s['ok']} of {s['n']} systems ran; {s['reliable']} have a reliable λ1 "
            f"(positive, stderr < {RELIABLE_STDERR:.0%}). Of those, {s['lam1_10pct']} agree "
            f"with dysts' spectrum λ1 within 10% ({s['lam1_max_10pct']} with dysts' "
            f"maximum_lyapunov_estimated). D_KY within 0.1: {s['ky_01']} of "
            f"{s['ky_comparable']}. Sum identity (constant divergence) within 3 stderr: "
            f"{s['sum_ok']} of {s['sum_checked']}; dysts' published spectrum misses it "
            f"(by > 1% + 0.01) on {s['dysts_sum_off']}.")


def run(args) -> int:
    """Run the benchmark and print its table and summary; 0 on success."""
    if args.n_steps < 10 or args.jobs < 1 or not args.timeout > 0:
        raise ValueError("--n-steps must be >= 10, --jobs >= 1 and --timeout > 0")
    from jdyn.systems.catalogue import close_matches, dysts_names
    flows = dysts_names()["flows"]
    names = list(args.names or flows)
    for n in names:
        if n not in flows:
            hits = close_matches(n, flows)
            raise ValueError(f"--names: {n!r} is not a dysts flow (close matches: "
                             f"{', '.join(hits) or 'none'})")
    start = time.perf_counter()
    rows = measure(names, args.n_steps, args.jobs, args.timeout,
                   progress=lambda r: print(json.dumps(r), file=sys.stderr, flush=True))
    print(format_table(rows, markdown=args.markdown))
    print()
    print(format_summary(summarise(rows)))
    print(f"Total wall time {time.perf_counter() - start:.0f} s with --jobs {args.jobs}.")
    return 0
