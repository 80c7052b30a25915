"""``jdyn bench train``: a full-batch fit with the Jacobian penalty against the same fit
without it.

The Hénon delay model (MLP [2, H, 1], tanh) is fitted to N = 5000 standardised points
of the x-series with L-BFGS for a fixed number of iterations (no early stopping, no
gradient tolerance), once on the data MSE alone and once with ``+ λ·½ mean‖J‖_F²``
(exact, one J-prop pass). Fits are interleaved and repeated; the ratio of median times
is the figure of merit (target ≤ 2.5). Both fits also report evaluations per iteration,
since L-BFGS's line search can take a different number of steps on each objective.
"""

from __future__ import annotations

import argparse
import sys

from . import _timing

__all__ = ["add_arguments", "run", "measure"]

TARGET = 2.5


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


def measure(hidden=(10, 30), n=5000, iters=200, repeats=5):
    """Median seconds per fit with and without the penalty, per hidden width."""
    X, T = _problem(n)
    rows = []
    for h in hidden:
        fns = {"plain": lambda h=h: _fit(h, X, T, False, iters),
               "jacobian": lambda h=h: _fit(h, X, T, True, iters)}
        times = _timing.time_interleaved(fns, repeats=repeats, warmup=1, min_time=0)
        evals = {k: _fit(h, X, T, k == "jacobian", iters) for k in fns}
        rows.append({
            "hidden": h,
            "plain_s": times["plain"]["median"], "jacobian_s": times["jacobian"]["median"],
            "ratio": times["jacobian"]["median"] / times["plain"]["median"],
            "iterations": {k: r.n_iter for k, r in evals.items()},
            "evaluations": {k: r.n_evaluations for k, r in evals.items()},
        })
    return {"n": n, "iters": iters, "repeats": repeats, "rows": rows,
            "machine": _timing.machine_info()}


def format_report(res):
    lines = [f"jdyn bench train: Hénon delay model, N={res['n']}, L-BFGS {res['iters']} "
             f"iterations, median of {res['repeats']} (one BLAS thread)",
             f"{'hidden':>6} {'plain s':>9} {'+jacobian s':>12} {'ratio':>6} "
             f"{'evals plain/jac':>16} {'target':>7}"]
    for r in res["rows"]:
        ok = "PASS" if r["ratio"] <= TARGET else "MISS"
        ev = f"{r['evaluations']['plain']}/{r['evaluations']['jacobian']}"
        lines.append(f"{r['hidden']:>6} {r['plain_s']:>9.3f} {r['jacobian_s']:>12.3f} "
                     f"{r['ratio']:>6.2f} {ev:>16} {'≤' + str(TARGET):>6} {ok}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``jdyn bench train``."""
    parser.add_argument("--hidden", default="10,30", help="comma list of hidden widths")
    parser.add_argument("--n", type=int, default=5000, help="training points")
    parser.add_argument("--iters", type=int, default=200, help="L-BFGS iterations per fit")
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per variant")
    parser.add_argument("--quick", action="store_true", help="CI smoke run (tiny sizes)")


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
        res = measure(hidden, n, iters, repeats)
    print(format_report(res))
    sys.stdout.flush()
    return 0
