"""``jdyn bench train``: a full-batch fit with the Jacobian penalty against the same fit
without it, and an automatic errors-in-variables fit against a plain one.

The Hénon delay model (MLP [2, H, 1], tanh) is fitted to N = 5000 standardised points
of the x-series with L-BFGS for a fixed number of iterations (no early stopping, no
gradient tolerance), once on the data MSE alone and once with ``+ λ·½ mean‖J‖_F²``
(exact, one J-prop pass). Fits are interleaved and repeated; the ratio of median times
is the figure of merit (target ≤ 2.5). Both fits also report evaluations per iteration,
since L-BFGS's line search can take a different number of steps on each objective.

``--eiv`` times what a user runs instead: ``DelayMapEstimator(dim=2)`` with its defaults
(early stopping, the γ search) on the Hénon x-series with 5% observational noise,
``regulariser="none"`` against ``"eiv"`` (target ≤ 4×), over several series.
"""

from __future__ import annotations

import argparse
import sys

from . import _timing

__all__ = ["add_arguments", "run", "measure"]

TARGET = 2.5
EIV_TARGET = 4.0


def _problem(n, seed=0):
    from ..embedding import delay_embed
    from ..systems import Henon
    x = Henon().trajectory(n + 2, rng=seed)[:, 0]
    z = (x - x.mean()) / x.std()
    return delay_embed(z, 2, 1)[:-1], z[2:, None]


def _fit(hidden, X, T, penalty, iters):
    from ..models import MLP
    from ..objectives import JacobianPenalty, MeanSquaredError
    from ..training import train
    objective = MeanSquaredError() + JacobianPenalty(1e-3) if penalty else MeanSquaredError()
    model = MLP([2, hidden, 1], rng=0)
    result = train(model, objective, X, T, method="lbfgs", max_iter=iters, tol=1e-300,
                   progress=False, optimizer_options={"ftol": 0.0})
    return result


def measure(hidden=(10, 30), n=5000, iters=200, repeats=5, clock="wall"):
    """Median seconds per fit with and without the penalty, per hidden width.

    ``clock``: ``"wall"`` or ``"cpu"`` (process CPU time, steadier on a shared machine);
    the ratio uses it, and both medians are recorded.
    """
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu'; got {clock!r}")
    key = "median" if clock == "wall" else "cpu_median"
    X, T = _problem(n)
    rows = []
    for h in hidden:
        fns = {"plain": lambda h=h: _fit(h, X, T, False, iters),
               "jacobian": lambda h=h: _fit(h, X, T, True, iters)}
        times = _timing.time_interleaved(fns, repeats=repeats, warmup=1, min_time=0)
        evals = {k: _fit(h, X, T, k == "jacobian", iters) for k in fns}
        rows.append({
            "hidden": h,
            "plain_s": times["plain"][key], "jacobian_s": times["jacobian"][key],
            "ratio": times["jacobian"][key] / times["plain"][key],
            "other_ratio": times["jacobian"][_other(key)] / times["plain"][_other(key)],
            "iterations": {k: r.n_iter for k, r in evals.items()},
            "evaluations": {k: r.n_evaluations for k, r in evals.items()},
        })
    from .. import _fast
    return {"n": n, "iters": iters, "repeats": repeats, "rows": rows, "clock": clock,
            "machine": _timing.machine_info(), "fast": _fast.active()}


def _other(key):
    return "cpu_median" if key == "median" else "median"


def measure_eiv(n=5000, seeds=(0, 1, 2), hidden=30):
    """Seconds of a default plain and a default errors-in-variables estimator fit, per
    noisy Hénon series (5% noise), interleaved."""
    import time

    from ..estimators import DelayMapEstimator
    from ..systems import Henon, add_observational_noise
    rows = []
    for seed in seeds:
        x = Henon().trajectory(n, rng=seed)[:, 0]
        y = add_observational_noise(x, 0.05, rng=seed + 1000)
        times = {}
        for reg in ("none", "eiv"):
            start = time.perf_counter()
            DelayMapEstimator(2, hidden=(hidden,), regulariser=reg, rng=seed).fit(y)
            times[reg] = time.perf_counter() - start
        rows.append({"seed": seed, "plain_s": times["none"], "eiv_s": times["eiv"],
                     "ratio": times["eiv"] / times["none"]})
    return {"n": n, "hidden": hidden, "rows": rows, "machine": _timing.machine_info()}


def format_eiv_report(res):
    ratios = [r["ratio"] for r in res["rows"]]
    total = sum(r["eiv_s"] for r in res["rows"]) / sum(r["plain_s"] for r in res["rows"])
    lines = [f"jdyn bench train --eiv: DelayMapEstimator(dim=2, hidden=({res['hidden']},)), "
             f"Hénon x N={res['n']}, 5% noise (one BLAS thread)",
             f"CPU: {_timing.cpu_line(res['machine'])}",
             f"{'seed':>4} {'plain s':>8} {'eiv s':>8} {'ratio':>6}"]
    lines += [f"{r['seed']:>4} {r['plain_s']:>8.2f} {r['eiv_s']:>8.2f} {r['ratio']:>6.2f}"
              for r in res["rows"]]
    ok = "PASS" if total <= EIV_TARGET else "MISS"
    lines.append(f"total eiv / total plain {total:.2f} (per series {min(ratios):.2f}–"
                 f"{max(ratios):.2f}); target ≤ {EIV_TARGET:g} {ok}")
    return "\n".join(lines)


def format_report(res):
    clock = res.get("clock", "wall")
    other = "cpu" if clock == "wall" else "wall"
    lines = [f"jdyn bench train: Hénon delay model, N={res['n']}, L-BFGS {res['iters']} "
             f"iterations, median {clock} time of {res['repeats']} (one BLAS thread)",
             f"CPU: {_timing.cpu_line(res['machine'])}; fast path "
             f"{'on (numba)' if res.get('fast') else 'off (NumPy only)'}",
             f"{'hidden':>6} {'plain s':>9} {'+jacobian s':>12} {'ratio':>6} "
             f"{'evals plain/jac':>16} {'target':>7} {other + ' ratio':>10}"]
    for r in res["rows"]:
        ok = "PASS" if r["ratio"] <= TARGET else "MISS"
        ev = f"{r['evaluations']['plain']}/{r['evaluations']['jacobian']}"
        lines.append(f"{r['hidden']:>6} {r['plain_s']:>9.3f} {r['jacobian_s']:>12.3f} "
                     f"{r['ratio']:>6.2f} {ev:>16} {'≤' + str(TARGET):>6} {ok} "
                     f"{r['other_ratio']:>6.2f}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``jdyn bench train``."""
    parser.add_argument("--hidden", default="10,30", help="comma list of hidden widths")
    parser.add_argument("--n", type=int, default=5000, help="training points")
    parser.add_argument("--iters", type=int, default=200, help="L-BFGS iterations per fit")
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per variant")
    parser.add_argument("--quick", action="store_true", help="CI smoke run (tiny sizes)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time the ratio uses: wall clock (default) or process CPU time")
    parser.add_argument("--eiv", action="store_true",
                        help="time default errors-in-variables fits against plain ones")


def run(args) -> int:
    """Run the benchmark and print its table; 0 on success."""
    try:
        hidden = tuple(int(h) for h in str(args.hidden).split(","))
    except ValueError:
        raise ValueError(f"--hidden must be a comma list of ints; got {args.hidden!r}") from None
    if min(hidden) < 1 or args.n < 10 or args.iters < 1 or args.repeats < 1:
        raise ValueError("--hidden, --n (>= 10), --iters and --repeats must be positive")
    if args.quick:
        hidden, n, iters, repeats = hidden[:1], 200, 5, 1
    else:
        n, iters, repeats = args.n, args.iters, args.repeats
    with _timing.limit_blas_threads(1):
        if args.eiv:
            res = measure_eiv(n=200 if args.quick else args.n,
                              seeds=(0,) if args.quick else (0, 1, 2, 3, 4))
            print(format_eiv_report(res))
        else:
            res = measure(hidden, n, iters, repeats, clock=getattr(args, "clock", "wall"))
            print(format_report(res))
    sys.stdout.flush()
    return 0
