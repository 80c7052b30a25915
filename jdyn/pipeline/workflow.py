"""``jdyn.analyse``: the invariants of one noisy scalar series, from the series alone.

The path: choose the lag and the dimension from the data, fit one lag-step delay map
(errors-in-variables when the estimated noise calls for it), then an ensemble of the
same fit with fresh seeds — initial weights, held-out split, free-run starts — at the
chosen dimension and at a reference one (the smallest that embeds the data when the
chosen one is larger, else the next). The spread across members is the error that
matters: on Hénon x at 5% noise the errors-in-variables λ2 of one series ranges over
−1.87 … −1.39 across seeds while each member's time-average stderr is 0.008. The
members' stderrs add the time-average error; the two ensembles identify the system's
exponents (:mod:`jdyn.pipeline.identify`). Members whose free runs diverge or
collapse are reported and left out.

A parametric bootstrap (members fitted to the first fit's clean series plus fresh
noise of the estimated level) was tried and dropped: its members were biased towards
the plain fit (λ2 −1.41 ± 0.04 at 5% noise over 5 series, against −1.59 for fits to
the data), so their median was a worse answer than one fit.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from .._validation import as_rng, check_int
from ..analysis.kaplan_yorke import kaplan_yorke_dim
from ..embedding import choose_dim, choose_lag
from ..estimators import DelayMapEstimator
from ..estimators._data import as_series
from .ensemble import fit_one, print_progress, run_members
from .identify import identify_exponents
from .members import member_from_outcome
from .result import Analysis, Embedding

__all__ = ["analyse", "MIN_SAMPLES"]

#: Shortest series analysed: fewer samples cannot fit a model and test it.
MIN_SAMPLES = 200
#: Largest dimension :func:`choose_dim` may answer.
MAX_DIM = 8


def analyse(series, dt=None, *, dim=None, lag=None, n_members=6, reference=True, jobs=None,
            n_steps=3000, n_orbits=4, rng=0, progress=False, **options) -> Analysis:
    """Lyapunov spectrum, Kaplan–Yorke and correlation dimension of a scalar series.

    Parameters
    ----------
    series : array_like, shape (n,), pandas Series or xarray DataArray
        Finite, at least ``MIN_SAMPLES`` samples; regular sampling.
    dt : float, optional
        Sampling interval (exponents then per unit time); read from a time coordinate
        when not given.
    dim, lag : int, optional
        The embedding; chosen from the data (:func:`~jdyn.embedding.choose_dim`,
        :func:`~jdyn.embedding.choose_lag`) when not given.
    n_members : int
        Models per ensemble (>= 3: a spread needs several).
    reference : bool
        Also fit a reference ensemble to identify spurious exponents: at the smallest
        dimension that embeds the data when ``dim`` is larger, else at ``dim + 1``.
    jobs : int, optional
        Worker processes (default: the CPU count, at most ``2 * n_members``).
    n_steps, n_orbits : free-run length and count per member.
    rng : int or None
        Seeds everything (the default 0 gives the same answer on every call).
    progress : bool
        A line on stderr per finished member.
    **options
        :class:`~jdyn.estimators.DelayMapEstimator` keywords (``hidden``, ``model``,
        ``regulariser``, ``max_iter``, ...). The default ``regulariser="auto"`` is the
        errors-in-variables fit when the estimated noise exceeds 1%.

    Returns
    -------
    Analysis
    """
    y, dt = as_series(series, "series", dt=dt)
    _check_series(y)
    n_members = check_int(n_members, "n_members", minimum=3)
    check_int(n_steps, "n_steps", minimum=100)
    check_int(n_orbits, "n_orbits", minimum=1)
    jobs = min(os.cpu_count() or 1, 2 * n_members) if jobs is None else check_int(
        jobs, "jobs", minimum=1)
    _check_options(options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        embedding = _embedding(y, dim, lag)
        seeds = as_rng(rng).integers(2**31, size=3 * n_members)
        base = dict(lag=embedding.lag, dt=dt, options=options, n_steps=int(n_steps),
                    n_orbits=int(n_orbits), keep_orbit=2000)
        show = print_progress if progress else None
        first_config = dict(base, series=y, dim=embedding.dim, seed=int(seeds[0]), index=0,
                            role="first")
        first = _fit_first(first_config, show, n_members)
        configs = _ensemble_configs(y, base, embedding, seeds, n_members, reference,
                                    first.regulariser)
        rest = run_members(configs, jobs=jobs, progress=None if show is None else
                           lambda d, t, m: show(d + 1, t + 1, m))
    members = (first, *[m for m in rest if m.dim == embedding.dim])
    references = tuple(m for m in rest if m.dim == embedding.reference_dim)
    notes = [str(w.message) for w in caught]
    return _combine(y, dt, embedding, members, references, first, notes, options)


def _check_series(y):
    if y.size < MIN_SAMPLES:
        raise ValueError(f"series has {y.size} samples; analyse needs at least {MIN_SAMPLES}")
    if np.ptp(y) == 0:
        raise ValueError("series is constant: there is no dynamics to analyse")


def _check_options(options):
    """Unknown or invalid estimator keywords fail here, before any fit."""
    reserved = {"dim", "lag", "dt", "rng"} & set(options)
    if reserved:
        raise ValueError(f"{sorted(reserved)} are arguments of analyse itself")
    try:
        est = DelayMapEstimator(**options)
    except TypeError as exc:
        raise ValueError(f"unknown estimator option: {exc}") from None
    est._validate_params()


def _embedding(y, dim, lag):
    why = []
    if lag is None:
        choice = choose_lag(y)
        lag = int(choice.lag)
        why.append(f"lag {lag}: {choice.method}, {choice.rule}")
    else:
        lag = check_int(lag, "lag", minimum=1)
        why.append(f"lag {lag}: given")
    smallest = choose_dim(y, lag=lag, max_dim=MAX_DIM)
    if dim is None:
        dim = int(smallest.dim)
        why.append(f"dim {dim}: {smallest.rule}")
    else:
        dim = check_int(dim, "dim", minimum=1)
        why.append(f"dim {dim}: given")
    reference = int(smallest.dim) if smallest.dim < dim else dim + 1
    why.append(f"reference dim {reference}: " + (
        "the smallest that embeds the data" if reference < dim else "the next dimension"))
    return Embedding(dim, lag, "; ".join(why), reference)


def _fit_first(config, show, n_members):
    member = member_from_outcome(config, fit_one(config))
    if show is not None:
        show(1, 2 * n_members, member)
    return member


def _ensemble_configs(y, base, embedding, seeds, n_members, reference, regulariser):
    """The other members: the series itself with fresh seeds (initial weights, held-out
    split, free-run starts), and the fit the first member chose."""
    options = dict(base["options"])
    if regulariser:
        options.setdefault("regulariser", regulariser)
    dims = [embedding.dim, embedding.reference_dim] if reference else [embedding.dim]
    return [dict(base, options=options, series=y, dim=d, role="reseeded",
                 seed=int(seeds[d_i * n_members + k]), index=k)
            for d_i, d in enumerate(dims) for k in range(n_members)
            if (d_i, k) != (0, 0)]


def _combine(y, dt, embedding, members, references, first, notes, options):
    ident = identify_exponents(list(members), list(references) or None)
    usable = [m for m in members if m.usable]
    if not usable:
        notes.append("no member's free run stayed on a chaotic attractor like the data's: "
                     "the first fit's spectrum is reported, without identification or σ")
    keep = ~ident.spurious
    sigma = _sigma(usable, lambda m: m.exponents, lambda m: m.stderr, embedding.dim)
    center = ident.center if usable else first.exponents_data
    ky = [kaplan_yorke_dim(m.exponents[keep]) for m in usable] if keep.any() else []
    d2 = [(m.correlation_dim, m.correlation_dim_stderr) for m in usable
          if np.isfinite(m.correlation_dim)]
    noise = np.array([m.noise_level for m in members if np.isfinite(m.noise_level)])
    if dt is not None and usable and keep.any():
        notes += _zero_exponent_check(center[keep], sigma[keep])
    failed = [m for m in members if not m.usable]
    if failed:
        notes.append(f"{len(failed)} of {len(members)} members left out: " + "; ".join(
            f"member {m.index} {m.status}" + (f" ({m.reason})" if m.reason else "")
            for m in failed))
    method = {"model": "lag-step delay map", "regulariser": first.regulariser,
              "strength": float(np.median([m.strength for m in usable])) if usable
              else first.strength,
              "members": len(members), "usable_members": len(usable),
              "reference_members": len(references), "resampling": members[-1].role,
              "noise_level": _median(noise), "options": dict(options)}
    return Analysis(
        exponents=center[keep], exponents_stderr=sigma[keep], all_exponents=center,
        all_exponents_stderr=sigma, spurious=ident.spurious,
        spurious_reason=ident.reason,
        kaplan_yorke=_median(ky), kaplan_yorke_stderr=_sd(ky),
        correlation_dim=_median([v for v, _ in d2]),
        correlation_dim_stderr=float(np.hypot(_sd([v for v, _ in d2]),
                                              _median([s for _, s in d2]))) if d2 else np.nan,
        noise_level=_median(noise), noise_level_stderr=_sd(noise),
        embedding=embedding, dt=dt, method=method, members=tuple(members),
        references=tuple(references), warnings=tuple(dict.fromkeys(notes)), series=y)


def _zero_exponent_check(exponents, sigma):
    """A bounded orbit of a flow has one exponent exactly 0: a sampled series (``dt``
    given) whose identified spectrum has none within 2σ says the spectrum is biased."""
    gap = np.abs(exponents) - 2.0 * sigma
    if np.any(gap <= 0):
        return []
    i = int(np.argmin(np.abs(exponents)))
    return [f"if the series is sampled from a flow, one exponent is exactly 0, but none "
            f"of the identified exponents is within 2σ of it (closest "
            f"{exponents[i]:.3g} ± {sigma[i]:.2g}): the spectrum is biased at this "
            "embedding (a larger dim may help; docs/benchmarks.md)"]


def _sigma(usable, value, stderr, dim):
    if not usable:
        return np.full(dim, np.nan)
    rows = np.array([value(m) for m in usable])
    spread = rows.std(axis=0, ddof=1) if len(rows) > 1 else np.zeros(dim)
    own = np.median(np.array([stderr(m) for m in usable]) ** 2, axis=0)
    return np.sqrt(spread ** 2 + own)


def _median(values):
    values = [v for v in values if np.isfinite(v)]
    return float(np.median(values)) if values else np.nan


def _sd(values):
    values = [v for v in values if np.isfinite(v)]
    return float(np.std(values, ddof=1)) if len(values) > 1 else np.nan
