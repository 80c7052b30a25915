"""Measure jdyn.denoise: noise reduction factors and the Lyapunov spectra fitted afterwards.

Produces the tables of docs/guide/noise_reduction.md. Slow (minutes per case and seed for
the autoencoders); the steps can run in parallel, one case each::

    python examples/noise_reduction_table.py clean "Hénon 5%" --out runs/denoise
    python examples/noise_reduction_table.py clean "Hénon 10%" --out runs/denoise
    python examples/noise_reduction_table.py clean "Lorenz 5%" --out runs/denoise
    python examples/noise_reduction_table.py factors --out runs/denoise     # the table
    python examples/noise_reduction_table.py lyapunov --out runs/denoise    # Hénon spectra

Data: Hénon x (2000 samples) at 5% and 10% observational noise, Lorenz x (dt 0.01, 2500
samples) at 5%; seeds 0-4 (trajectory ``rng=seed``, noise ``rng=seed + 100``). The noise
reduction factor is ``rms(noisy − clean) / rms(denoised − clean)``. Every method sees the
same noisy series. Settings were chosen on seed 0 of Hénon 5% and Lorenz 5% (local
projection: dim and neighbours from a small grid; autoencoder: width and iterations).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import jdyn
from jdyn.noise_reduction import denoise
from jdyn.systems import Henon, Lorenz, add_observational_noise

SEEDS = range(5)
CASES = {  # name: (trajectory, noise level, settings shared by every method)
    "Hénon 5%": (lambda s: Henon().trajectory(2000, rng=s)[:, 0], 0.05, dict(dim=5)),
    "Hénon 10%": (lambda s: Henon().trajectory(2000, rng=s)[:, 0], 0.10, dict(dim=5)),
    "Lorenz 5%": (lambda s: Lorenz().trajectory(2500, dt=0.01, rng=s)[:, 0], 0.05,
                  dict(dim=9)),
}
AUTOENCODER = dict(n_neighbours=50, n_iter=1, hidden=64, max_iter=600)
METHODS = {
    "local_projection": dict(method="local_projection", n_neighbours=20, n_iter=3),
    "autoencoder": dict(method="autoencoder", tangent_weight=0.1, normal_weight=0.1,
                        **AUTOENCODER),
    "plain_autoencoder": dict(method="plain_autoencoder", **AUTOENCODER),
}
LORENZ_LOCAL_PROJECTION = dict(n_neighbours=50)   # its grid's best on seed 0


def _file(out, case, seed):
    return Path(out) / f"{case.replace(' ', '_').replace('%', 'pct')}_{seed}.npz"


def clean(case, out, seeds=SEEDS):
    """Denoise each seed of ``case`` by every method; save clean, noisy and cleaned series."""
    trajectory, level, shared = CASES[case]
    Path(out).mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        x = trajectory(seed)
        y = add_observational_noise(x, level, rng=seed + 100)
        series = {"clean": x, "noisy": y}
        for method, settings in METHODS.items():
            extra = LORENZ_LOCAL_PROJECTION if (case.startswith("Lorenz") and
                                                method == "local_projection") else {}
            series[method] = denoise(y, rng=seed, **{**shared, **settings, **extra})
        np.savez(_file(out, case, seed), **series)
        print(case, seed, {m: round(_factor(series, m), 2) for m in METHODS}, flush=True)


def _factor(series, method):
    def rms(a):
        return np.sqrt(np.mean(a ** 2))
    return rms(series["noisy"] - series["clean"]) / rms(series[method] - series["clean"])


def _mean_se(values, digits=2):
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1) / np.sqrt(v.size):.{digits}f}"


def _load(out, case):
    return [dict(np.load(_file(out, case, seed))) for seed in SEEDS]


def factors(out):
    """Markdown table: mean ± standard error of the factor over the seeds, per method."""
    print("| data | " + " | ".join(METHODS) + " |")
    print("|---" * (len(METHODS) + 1) + "|")
    for case in CASES:
        runs = _load(out, case)
        cells = [_mean_se([_factor(r, m) for r in runs]) for m in METHODS]
        print(f"| {case} | " + " | ".join(cells) + " |")


def lyapunov(out, names=("noisy", "local_projection", "autoencoder")):
    """Markdown table: DelayMapEstimator (defaults) spectra on noisy and cleaned Hénon."""
    print("| data | series | λ1 | λ2 | λ1 + λ2 |")
    print("|---|---|---|---|---|")
    for case in ("Hénon 5%", "Hénon 10%"):
        runs = _load(out, case)
        for name in names:
            spectra = np.array([_exponents(r[name], seed) for seed, r in zip(SEEDS, runs)])
            print(f"  {case} {name} per seed: {np.round(spectra, 3).tolist()}",
                  file=sys.stderr, flush=True)
            cells = [_mean_se(v, 3) for v in (spectra[:, 0], spectra[:, 1],
                                               spectra.sum(axis=1))]
            print(f"| {case} | {name} | " + " | ".join(cells) + " |", flush=True)


def _exponents(series, seed):
    est = jdyn.DelayMapEstimator(rng=seed).fit(series)
    return est.invariants(correlation=False).lyapunov_data.exponents


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["clean", "factors", "lyapunov"])
    parser.add_argument("case", nargs="?", choices=list(CASES))
    parser.add_argument("--out", default="runs/denoise")
    parser.add_argument("--series", default="noisy,local_projection,autoencoder",
                        help="lyapunov: which series to fit, comma-separated")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)),
                        help="clean: which seeds, comma-separated")
    args = parser.parse_args(argv)
    if args.step == "clean":
        if args.case is None:
            parser.error("clean needs a case")
        clean(args.case, args.out, [int(s) for s in args.seeds.split(",")])
    elif args.step == "factors":
        factors(args.out)
    else:
        lyapunov(args.out, tuple(args.series.split(",")))


if __name__ == "__main__":
    main()
