"""Classic data-only estimators from nolds, with every setting explicit.

Thin wrappers around ``nolds.lyap_r`` (Rosenstein et al. 1993), ``nolds.lyap_e``
(Eckmann et al. 1986) and ``nolds.corr_dim`` (Grassberger & Procaccia 1983), so that a
report can put their estimates beside jdyn's on the same data and say exactly how they
were obtained. Each returns a :class:`BaselineResult` carrying the value, every setting
passed to nolds and the curve nolds fitted.

Choices made here, unlike nolds' defaults: least-squares line fits (``fit="poly"``;
nolds' default RANSAC is random unless seeded and needs scikit-learn), the embedding
dimension is always given by the caller, and lag, Theiler window (``min_tsep``) and fit
window are explicit arguments. Each wrapper's docstring lists where its defaults differ
from nolds' and why; every result records the differing settings with nolds' own
value (``settings["not_nolds_defaults"]``), read from nolds' signature at call time, so
reports that print the settings state them. nolds is imported only when a wrapper is
called (nolds 0.6.3 fails to import on Python 3.11; 0.6.2 works there).
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass

import numpy as np

from jdyn._validation import as_float_array, check_int, check_positive

__all__ = ["BaselineResult", "lyap_r", "lyap_e", "corr_dim"]

# The settings whose defaults here are deliberately not nolds' (reasons in the wrappers'
# docstrings). Only these are compared with nolds' signature.
_OWN_DEFAULTS = {
    "lyap_r": ("emb_dim", "lag", "min_tsep", "trajectory_len", "fit_offset", "fit"),
    "lyap_e": ("emb_dim", "matrix_dim", "min_tsep"),
    "corr_dim": ("fit",),
}


@dataclass(frozen=True, eq=False)
class BaselineResult:
    """A nolds estimate with its provenance.

    Attributes
    ----------
    estimator : str
        ``"nolds.lyap_r"``, ``"nolds.lyap_e"`` or ``"nolds.corr_dim"``.
    value : float or numpy.ndarray
        The estimate (``lyap_e``: an array of ``matrix_dim`` exponents, as nolds
        orders them).
    settings : dict
        Every argument passed to nolds, ``n_points``, and ``not_nolds_defaults``: a
        one-line string naming the settings that differ from nolds' own defaults, each
        with nolds' value (e.g. ``"fit_offset=1 (nolds: 0)"``), or ``""``.
    curve : tuple of numpy.ndarray or None
        ``(x, y)`` that nolds fitted its line to (``lyap_r``: k and mean log divergence;
        ``corr_dim``: log r and log C(r)); ``None`` for ``lyap_e``.
    nolds_version : str
    """

    estimator: str
    value: object
    settings: dict
    curve: tuple | None
    nolds_version: str


def _nolds():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nolds 0.6.2 imports the deprecated pkg_resources
        import nolds
    return nolds


def _not_nolds_defaults(nolds, name, settings):
    """``"key=ours (nolds: theirs), ..."`` for the settings in ``_OWN_DEFAULTS[name]``
    that differ from the defaults in nolds' signature (a required nolds argument has
    no default and is not listed)."""
    params = inspect.signature(getattr(nolds, name)).parameters
    out = []
    for key in _OWN_DEFAULTS[name]:
        default = params[key].default
        if default is not inspect.Parameter.empty and settings[key] != default:
            out.append(f"{key}={settings[key]!r} (nolds: {default!r})")
    return ", ".join(out)


def _version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("nolds")
    except PackageNotFoundError:  # pragma: no cover - imported from a source tree
        return "unknown"


def _series(series, min_len):
    x = as_float_array(series, "series", ndim=1)
    if x.size < min_len:
        raise ValueError(f"series has {x.size} points; these settings need at least {min_len}")
    if np.ptp(x) == 0:
        raise ValueError("series is constant; it has no Lyapunov exponent or dimension")
    return x


def _record(nolds, name, settings, x):
    return {**settings, "n_points": x.size,
            "not_nolds_defaults": _not_nolds_defaults(nolds, name, settings)}


def _check_size(n, max_points, what):
    if max_points is not None and n > max_points:
        raise ValueError(
            f"series has {n} points, more than max_points={max_points}: nolds.{what} builds "
            f"an N x N float64 distance matrix ({8 * n * n / 2**30:.1f} GiB here); raise "
            "max_points deliberately if the memory is there")


def lyap_r(series, emb_dim, *, lag=1, min_tsep=10, trajectory_len=10, fit_offset=1,
           min_neighbors=20, tau=1.0, max_points=20_000) -> BaselineResult:
    """Largest Lyapunov exponent by Rosenstein's method (``nolds.lyap_r``).

    Parameters
    ----------
    series : array_like, shape (N,)
        A scalar time series, finite, not constant.
    emb_dim : int
        Delay-embedding dimension, required (nolds' default, 10, gives about 0.26
        instead of 0.42 on the Hénon x-series).
    lag : int
        Embedding lag, in samples (nolds' default ``None`` picks it from the
        autocorrelation; here it is the caller's, as for the models).
    min_tsep : int
        Theiler window: neighbours must be more than this many samples apart in time
        (nolds' ``None`` derives it from the mean frequency of the spectrum).
    trajectory_len : int
        Number of steps ``k = 0 .. trajectory_len - 1`` of the divergence curve
        (nolds: 20; on Hénon the curve saturates after about 10 steps).
    fit_offset : int
        The line is fitted to ``k = fit_offset .. trajectory_len - 1``. nolds' default
        is 0; here 1, because the distance at ``k = 0`` is that of the *nearest*
        neighbour, selected to be small, and the first step mostly relaxes that
        selection (Hénon x-series, N = 2000: 0.414 with 0, 0.420 with 1, truth 0.419).
        The default window ``k = 1..9`` stays before the curve saturates on Hénon;
        for other data inspect ``result.curve`` and choose the window by its linear part.
    min_neighbors : int
        Passed to nolds (only used by its automatic lag choice, which is off here).
    tau : float
        Time between samples: the slope is divided by it.
    max_points : int or None
        Refuse longer series (see Notes); ``None`` removes the guard.

    Returns
    -------
    BaselineResult
        ``value`` is a float; ``curve`` is ``(k, mean log divergence)``;
        ``settings["not_nolds_defaults"]`` as in :class:`BaselineResult` (``fit`` is
        ``"poly"`` here, least squares, for nolds' random RANSAC).

    Notes
    -----
    Known limits: nolds builds an N x N distance matrix (N = 20,000: about 7.6 GiB and
    40 s); the estimate depends strongly on the fit window (on 5% noisy Hénon data it
    ranges from 0.17 with nolds' defaults to 0.42), which the user must choose by eye
    from the divergence curve; only the largest exponent is estimated; observational
    noise biases it downwards over a window that starts at k >= 1.
    """
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    settings = dict(emb_dim=emb_dim, lag=check_int(lag, "lag", minimum=1),
                    min_tsep=check_int(min_tsep, "min_tsep", minimum=0),
                    trajectory_len=check_int(trajectory_len, "trajectory_len", minimum=2),
                    fit_offset=check_int(fit_offset, "fit_offset", minimum=0),
                    min_neighbors=check_int(min_neighbors, "min_neighbors", minimum=1),
                    tau=check_positive(tau, "tau"), fit="poly")
    if settings["trajectory_len"] - settings["fit_offset"] < 2:
        raise ValueError(f"fit window k = {fit_offset}..{trajectory_len - 1} has fewer than "
                         "2 points; need trajectory_len - fit_offset >= 2")
    need = (emb_dim - 1) * lag + 1 + trajectory_len - 1 + 2 * min_tsep + 2
    x = _series(series, need)
    _check_size(x.size - (emb_dim - 1) * lag, max_points, "lyap_r")
    nolds = _nolds()
    value, (ks, div, _) = nolds.lyap_r(x, debug_data=True, **settings)
    return BaselineResult("nolds.lyap_r", float(value), _record(nolds, "lyap_r", settings, x),
                          (np.asarray(ks), np.asarray(div)), _version())


def lyap_e(series, emb_dim, matrix_dim, *, min_nb=None, min_tsep=10, tau=1.0
           ) -> BaselineResult:
    """Lyapunov spectrum by Eckmann's method (``nolds.lyap_e``).

    Parameters
    ----------
    series : array_like, shape (N,)
    emb_dim : int
        Embedding dimension, required (nolds: 10); ``(emb_dim - 1)`` must be a multiple
        of ``(matrix_dim - 1)`` (the lag is ``(emb_dim - 1) / (matrix_dim - 1)``).
    matrix_dim : int
        Number of exponents estimated (size of the local Jacobians), required
        (nolds: 4).
    min_nb : int, optional
        Neighbours per local fit; nolds' rule ``min(2 * matrix_dim, matrix_dim + 4)``
        when None (recorded in ``settings`` as resolved).
    min_tsep : int
        Theiler window, in samples. nolds' default is 0 (no window); here 10, as for
        ``lyap_r``, so that the local Jacobians of a densely sampled flow are not fitted
        to the orbit's own next samples. On a map it changes little (Hénon x-series,
        N = 2000: 0.426 / -1.485 with 0, 0.426 / -1.484 with 10).
    tau : float
        Time between samples.

    Returns
    -------
    BaselineResult
        ``value`` has ``matrix_dim`` exponents; ``settings["not_nolds_defaults"]`` as in
        :class:`BaselineResult`.

    Notes
    -----
    Known limits: O(N^2) time (every point's distance to all others); local linear
    fits on noisy data lose the negative exponents first (Hénon at 1% noise gives
    0.657 / -0.447 for 0.419 / -1.623) and inflate the positive one; with
    ``matrix_dim`` above the attractor's dimension some exponents are spurious.
    """
    emb_dim = check_int(emb_dim, "emb_dim", minimum=2)
    matrix_dim = check_int(matrix_dim, "matrix_dim", minimum=2)
    if (emb_dim - 1) % (matrix_dim - 1) != 0:
        raise ValueError(f"emb_dim - 1 = {emb_dim - 1} must be a multiple of matrix_dim - 1 = "
                         f"{matrix_dim - 1}")
    if min_nb is None:
        min_nb = min(2 * matrix_dim, matrix_dim + 4)
    settings = dict(emb_dim=emb_dim, matrix_dim=matrix_dim,
                    min_nb=check_int(min_nb, "min_nb", minimum=matrix_dim),
                    min_tsep=check_int(min_tsep, "min_tsep", minimum=0),
                    tau=check_positive(tau, "tau"))
    nolds = _nolds()
    x = _series(series, nolds.lyap_e_len(**settings))
    value = np.asarray(nolds.lyap_e(x, **settings), dtype=float)
    return BaselineResult("nolds.lyap_e", value, _record(nolds, "lyap_e", settings, x), None,
                          _version())


def corr_dim(series, emb_dim, *, lag=1, rvals=None, max_points=20_000) -> BaselineResult:
    """Correlation dimension by Grassberger–Procaccia (``nolds.corr_dim``).

    Parameters
    ----------
    series : array_like, shape (N,)
    emb_dim : int
        Delay-embedding dimension.
    lag : int
        Embedding lag, in samples.
    rvals : array_like, optional
        Radii; nolds' default (recorded in ``settings``) is ``logarithmic_r(0.1 * std,
        0.5 * std, 1.03)``, i.e. 0.1 to 0.5 standard deviations of the series.
    max_points : int or None
        Refuse longer series (see Notes); ``None`` removes the guard.

    Returns
    -------
    BaselineResult
        ``value`` is a float; ``curve`` is ``(log r, log C(r))`` over the radii with a
        non-zero sum, fitted by least squares over all of them (``fit="poly"``, not
        nolds' random RANSAC: recorded in ``settings["not_nolds_defaults"]``).

    Notes
    -----
    Known limits: builds an N x N distance matrix (N = 20,000: about 3.4 GiB and 53 s;
    :func:`jdyn.analysis.correlation_dim` counts the same pairs with a KD-tree); counts
    each point's zero distance to itself (which lifts ``C(r)`` at small r) and has no
    Theiler window, so temporally correlated neighbours of a densely sampled flow are
    counted; the fit runs over the whole radius range with no scaling-region choice
    (Hénon x-series, emb 2, N = 5000: 1.172 against 1.21); observational noise inflates
    it (1.585 at 10% noise).
    """
    emb_dim = check_int(emb_dim, "emb_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    x = _series(series, (emb_dim - 1) * lag + 2)
    nolds = _nolds()
    if rvals is None:
        sd = np.std(x, ddof=1)
        rvals = nolds.logarithmic_r(0.1 * sd, 0.5 * sd, 1.03)
    rvals = as_float_array(rvals, "rvals", ndim=1)
    if rvals.size < 2 or (rvals <= 0).any():
        raise ValueError(f"rvals must hold at least 2 radii, all > 0; got {rvals!r}")
    _check_size(x.size - (emb_dim - 1) * lag, max_points, "corr_dim")
    settings = dict(emb_dim=emb_dim, lag=lag, rvals=rvals, fit="poly")
    value, (logr, logc, _) = nolds.corr_dim(x, debug_data=True, **settings)
    return BaselineResult("nolds.corr_dim", float(value), _record(nolds, "corr_dim", settings, x),
                          (np.asarray(logr), np.asarray(logc)), _version())
