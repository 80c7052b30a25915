"""``jdyn bench accuracy``: the default ``jdyn.analyse`` call against the truth and
against peers on the same noisy series, over several seeds.

Each case is a scalar observable of a known system with Gaussian observational noise
(σ = level × std). jdyn gets only the series and dt. Peers run on the same series
where installed (never required): nolds ``lyap_e``/``corr_dim`` (embedding 2 for maps,
3 for flows, lag from :func:`jdyn.choose_lag`), PySINDy (a polynomial library on the
delay vectors, STLSQ threshold chosen by held-out error; exponents from its Jacobians
along the data) and a reservoirpy echo-state network (:mod:`jdyn.bench._esn`: the
closed-loop reservoir's exponents; only its largest, and a flow's zero one, are the
system's). Every row is appended to ``--out`` (JSON lines) as it
finishes, so a long run loses nothing; the summary gives per case and invariant the
mean ± sd, the RMS error, the coverage of the truth by ± 2σ and σ / RMS.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from ._accuracy_summary import markdown_table, summarise
from ._esn import esn_exponents

__all__ = ["CASES", "add_arguments", "run", "measure_case", "series", "truth"]

#: name → (system, observed coordinate, dt (None: a map), noise level)
CASES = {
    "henon-5": ("henon", 0, None, 0.05),
    "henon-10": ("henon", 0, None, 0.10),
    "lorenz-0.01-5": ("lorenz", 0, 0.01, 0.05),
    "lorenz-0.05-5": ("lorenz", 0, 0.05, 0.05),
    "ikeda-5": ("ikeda", 0, None, 0.05),
}


def _system(name):
    from ..systems import Henon, Ikeda, Lorenz
    return {"henon": Henon, "lorenz": Lorenz, "ikeda": Ikeda}[name]()


def truth(case):
    """Exponents, Kaplan–Yorke and D2 of the case's system (literature, else computed
    from the true Jacobians)."""
    name = CASES[case][0]
    system = _system(name)
    ref = system.reference
    if "lyapunov_exponents" in ref:
        return {"exponents": list(ref["lyapunov_exponents"]),
                "kaplan_yorke": ref.get("kaplan_yorke"),
                "correlation_dim": ref.get("correlation_dim")}
    from ..analysis import correlation_dim, lyapunov_spectrum
    res = lyapunov_spectrum(system, n_steps=200_000, rng=0)
    pts = system.trajectory(20_000, rng=0)
    return {"exponents": res.exponents.tolist(), "kaplan_yorke": float(res.kaplan_yorke),
            "correlation_dim": float(correlation_dim(pts).dimension)}


def series(case, seed, n=5000):
    """The noisy observed series of ``case`` for ``seed``, and its dt."""
    from ..systems import add_observational_noise
    name, coord, dt, level = CASES[case]
    system = _system(name)
    if dt is None:
        x = system.trajectory(n, rng=seed)[:, coord]
    else:
        x = system.trajectory(n, dt=dt, transient=50.0, rng=seed)[:, coord]
    return add_observational_noise(x, level, rng=seed + 1000), dt


def measure_case(case, seed, *, peers=True, n=5000, jobs=None, dim=None, regulariser=None):
    """One row: jdyn's default analysis (``dim`` given: at that embedding; a
    ``regulariser`` given: that fit instead of the default "auto") and the peers'
    estimates on one series."""
    import jdyn
    y, dt = series(case, seed, n)
    start = time.perf_counter()
    options = {} if regulariser is None else {"regulariser": regulariser}
    a = jdyn.analyse(y, dt=dt, jobs=jobs, dim=dim, **options)
    row = {"case": case, "seed": seed, "dim": dim, "regulariser": regulariser,
           "seconds": time.perf_counter() - start,
           "jdyn": {"exponents": a.exponents.tolist(), "sigma": a.exponents_stderr.tolist(),
                    "all_exponents": a.all_exponents.tolist(),
                    "spurious": a.spurious.tolist(),
                    "kaplan_yorke": a.kaplan_yorke, "kaplan_yorke_sigma": a.kaplan_yorke_stderr,
                    "correlation_dim": a.correlation_dim,
                    "correlation_dim_sigma": a.correlation_dim_stderr,
                    "noise_level": a.noise_level, "embedding": [a.embedding.dim, a.embedding.lag],
                    "statuses": [m.status for m in a.members],
                    "method": a.method["regulariser"], "strength": a.method["strength"]}}
    if peers:
        row.update(_peers(y, dt, a.embedding.lag))
    return row


def _peers(y, dt, lag):
    from .. import baselines
    out = {}
    emb = 2 if dt is None else 3
    tau = 1.0 if dt is None else dt
    try:
        # nolds' lyap_e spaces its matrix_dim delays (emb_dim − 1) / (matrix_dim − 1) apart
        le = baselines.lyap_e(y, emb_dim=(emb - 1) * lag + 1, matrix_dim=emb, tau=tau)
        out["nolds"] = {"exponents": np.asarray(le.value).tolist(),
                        "correlation_dim": float(baselines.corr_dim(y, emb, lag=lag).value)}
    except (ImportError, ValueError) as exc:      # a peer's failure is a result, not a crash
        out["nolds"] = {"error": f"{type(exc).__name__}: {exc}"}
    sindy = _pysindy(y, dt, lag, emb)
    if sindy is not None:
        out["pysindy"] = sindy
    esn = esn_exponents(y, dt, n_exponents=emb, rng=0)
    if esn is not None:
        out["esn"] = esn
    return out


def _pysindy(y, dt, lag, dim):
    """PySINDy's discrete-time SINDy on delay vectors: x[t+lag] = Θ(z_t) ξ."""
    try:
        import pysindy as ps
    except ImportError:
        return None
    from ..analysis import lyapunov_spectrum_from_jacobians
    from ..embedding import delay_embed
    from ..estimators._orbits import companion_jacobians, interleaved_orbits
    z = (y - y.mean()) / y.std()
    E = delay_embed(z, dim, lag)
    X, T = E[:-lag], E[lag:, :1]
    cut = int(0.8 * len(X))
    best = None
    for threshold in (1e-3, 3e-3, 1e-2, 3e-2, 1e-1):
        lib = ps.PolynomialLibrary(degree=3)
        opt = ps.STLSQ(threshold=threshold)
        lib.fit(X[:cut])
        theta = lib.transform(X[:cut])
        opt.fit(np.asarray(theta), T[:cut])
        err = np.mean((np.asarray(lib.transform(X[cut:])) @ opt.coef_.T - T[cut:]) ** 2)
        if best is None or err < best[0]:
            best = (err, threshold, lib, opt)
    _, threshold, lib, opt = best
    h = 1e-6
    grads = np.empty((len(E), dim))
    for j in range(dim):
        e = np.zeros(dim)
        e[j] = h
        up = np.asarray(lib.transform(E + e)) @ opt.coef_.T
        dn = np.asarray(lib.transform(E - e)) @ opt.coef_.T
        grads[:, j] = ((up - dn) / (2 * h))[:, 0]
    J = interleaved_orbits(companion_jacobians(grads), lag)
    res = lyapunov_spectrum_from_jacobians(J, dt=lag * (dt or 1.0))
    return {"exponents": res.exponents.tolist(), "threshold": threshold}


def add_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated, from {', '.join(CASES)}")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--dim", type=int, default=None,
                        help="embedding dimension (default: chosen from the data)")
    parser.add_argument("--regulariser", default=None,
                        help="fit every member with this regulariser (default: 'auto')")
    parser.add_argument("--out", default="accuracy.jsonl", help="JSON lines, appended")
    parser.add_argument("--summarise", metavar="FILE", default=None,
                        help="print the summary of rows saved in FILE and exit")
    parser.add_argument("--markdown", action="store_true",
                        help="with --summarise: a Markdown table (the docs' format)")


def run(args) -> int:
    if args.summarise:
        with open(args.summarise) as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        truths = {c: truth(c) for c in dict.fromkeys(r["case"] for r in rows)}
        print((markdown_table if args.markdown else summarise)(rows, truths))
        return 0
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise ValueError(f"--cases: unknown {unknown}; choose from {list(CASES)}")
    if args.dim is not None and args.dim < 1:
        raise ValueError(f"--dim must be >= 1; got {args.dim}")
    rows, truths = [], {c: truth(c) for c in cases}
    for case in cases:
        for seed in range(args.seeds):
            row = measure_case(case, seed, peers=not args.no_peers, n=args.n, jobs=args.jobs,
                               dim=args.dim, regulariser=args.regulariser)
            rows.append(row)
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{case} seed {seed}: {row['jdyn']['exponents']} [{row['seconds']:.0f} s]",
                  flush=True)
    print(summarise(rows, truths))
    return 0
