"""Delay embedding of a scalar series, and the choice of its lag and dimension.

Column order of every embedding here is most recent first:
``[x[t], x[t - lag], ..., x[t - (dim-1) lag]]``. The delay-map model predicts
``x[t + lag]`` (or ``x[t+1]``) from such a row, and its companion-matrix Jacobian assumes
this order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.spatial import cKDTree

from jdyn._validation import as_float_array, check_int, check_positive

__all__ = [
    "delay_embed", "mutual_information", "autocorrelation", "choose_lag", "LagChoice",
    "false_nearest_neighbors", "choose_dim", "DimChoice",
]

# Fewest overlapping pairs a lag/dimension statistic is computed from.
_MIN_POINTS = 10
# An AMI minimum must exceed the independent-samples floor of the estimate this many times.
_FLOOR_FACTOR = 2.0


def _series(series, name="series"):
    x = as_float_array(series, name, ndim=1)
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError(f"{name} must be a non-constant series of at least 2 samples; "
                         f"got {x.size} samples" + (" all equal" if x.size else ""))
    return x


def _need(x, needed, what):
    if x.size < needed:
        raise ValueError(f"series is too short: {x.size} samples, but {what} needs at least "
                         f"{needed}")


def delay_embed(series, dim, lag):
    """Delay vectors of a scalar series.

    Parameters
    ----------
    series : array_like, shape (n,)
        Finite, non-constant.
    dim : int
        Embedding dimension m >= 1.
    lag : int
        Delay tau >= 1, in samples.

    Returns
    -------
    numpy.ndarray, shape (n - (m-1) tau, m)
        Row ``i`` is ``[x[s], x[s - tau], ..., x[s - (m-1) tau]]`` with
        ``s = i + (m-1) tau``: most recent value first.
    """
    x = _series(series)
    dim = check_int(dim, "dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    span = (dim - 1) * lag
    _need(x, span + 1, f"dim={dim}, lag={lag}")
    return np.ascontiguousarray(sliding_window_view(x, span + 1)[:, ::lag][:, ::-1])


def mutual_information(series, max_lag, n_bins=16):
    """Average mutual information between ``x[t]`` and ``x[t + tau]``, ``tau = 0..max_lag``.

    Equal-width histogram estimate (as TISEAN's ``mutual``), in nats, with bins spanning
    the whole series' range.

    Parameters
    ----------
    series : array_like, shape (n,)
    max_lag : int
        Largest lag (>= 1); needs ``n >= max_lag + 10``.
    n_bins : int
        Bins per axis (>= 2).

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1,)
        ``I(tau)``; ``I(0)`` is the entropy of the binned series.
    """
    x = _series(series)
    max_lag = check_int(max_lag, "max_lag", minimum=1)
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    _need(x, max_lag + _MIN_POINTS, f"max_lag={max_lag}")
    lo, hi = x.min(), x.max()
    b = np.minimum((n_bins * (x - lo) / (hi - lo)).astype(np.intp), n_bins - 1)
    curve = np.empty(max_lag + 1)
    for tau in range(max_lag + 1):
        u, v = b[:x.size - tau], b[tau:]
        joint = np.bincount(u * n_bins + v, minlength=n_bins * n_bins).astype(float)
        joint /= joint.sum()
        pu, pv = joint.reshape(n_bins, n_bins).sum(1), joint.reshape(n_bins, n_bins).sum(0)
        outer = np.outer(pu, pv).ravel()
        nz = joint > 0
        curve[tau] = np.sum(joint[nz] * np.log(joint[nz] / outer[nz]))
    return curve


def autocorrelation(series, max_lag):
    """Sample autocorrelation ``r(tau)``, ``tau = 0..max_lag`` (``r(0) = 1``).

    The usual biased estimator ``sum_t (x[t]-m)(x[t+tau]-m) / sum_t (x[t]-m)^2``, by FFT.

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1,)
    """
    x = _series(series)
    max_lag = check_int(max_lag, "max_lag", minimum=1)
    _need(x, max_lag + _MIN_POINTS, f"max_lag={max_lag}")
    y = x - x.mean()
    size = 1 << int(np.ceil(np.log2(2 * y.size)))
    f = np.fft.rfft(y, size)
    acov = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]
    return acov / acov[0]


@dataclass(frozen=True)
class LagChoice:
    """Result of :func:`choose_lag`.

    Attributes
    ----------
    lag : int
        The chosen delay, in samples.
    lags : numpy.ndarray, shape (max_lag + 1,)
        ``0 .. max_lag``.
    curve : numpy.ndarray, shape (max_lag + 1,)
        The statistic the choice was made from (AMI in nats, or autocorrelation).
    method : str
        The method that made the choice: ``"mutual_information"`` or
        ``"autocorrelation"`` (also after a fallback from the former).
    rule : str
        Which rule fixed the lag (e.g. ``"first local minimum"``).
    """

    lag: int
    lags: np.ndarray
    curve: np.ndarray
    method: str
    rule: str


def _significant_minima(curve, n_points, n_bins):
    """Lags ``tau >= 1`` of the AMI's local minima that stand above the estimator's floor.

    The histogram estimate of the mutual information of *independent* samples is not
    0 but about ``(n_bins − 1)² / (2 N)`` nats (its bias, N = number of pairs). A map's
    AMI decays to that floor within a few lags and then only wobbles, which makes
    "minima" at arbitrary lags (19–25 on Hénon x-series); a flow's first minimum lies
    far above it. A minimum counts only if it exceeds the floor ``_FLOOR_FACTOR``-fold.
    """
    down = curve[:-1] > curve[1:]                # down[k]: I falls from k to k+1
    candidates = np.nonzero(down[:-1] & ~down[1:])[0] + 1
    floor = (n_bins - 1) ** 2 / (2.0 * (n_points - candidates))
    return candidates[curve[candidates] > _FLOOR_FACTOR * floor]


def choose_lag(series, max_lag=100, method="mutual_information", n_bins=16):
    """Choose the embedding delay.

    Rules:

    - ``"mutual_information"``: the first local minimum of the AMI (Fraser & Swinney
      1986), i.e. the first ``tau >= 1`` with ``I(tau-1) > I(tau) <= I(tau+1)``
      that lies above twice the estimate's value for independent samples,
      ``(n_bins − 1)² / (2 N)`` nats (dips in that noise floor, where a map's AMI
      ends up, do not count).
    - ``"autocorrelation"``: the first lag with ``r(tau) <= 0`` (first zero crossing);
      if there is none up to ``max_lag``, the first lag with ``r(tau) <= 1/e``.

    If the AMI has no local minimum up to ``max_lag`` (common for maps, whose AMI
    often just decays), the autocorrelation rule is used instead and the result says
    so (``method``, ``rule``), with a ``RuntimeWarning``. If the autocorrelation rule
    fails too, the lag of its smallest value (excluding 0) is returned, also warning:
    increase ``max_lag``.

    Parameters
    ----------
    series : array_like, shape (n,)
    max_lag : int
        Largest lag examined (clipped to ``n - 11``).
    method : {"mutual_information", "autocorrelation"}
    n_bins : int
        Histogram bins for the AMI.

    Returns
    -------
    LagChoice
    """
    x = _series(series)
    max_lag = check_int(max_lag, "max_lag", minimum=1)
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    _need(x, 1 + _MIN_POINTS + 1, "lag selection")
    max_lag = min(max_lag, x.size - _MIN_POINTS - 1)
    if method not in ("mutual_information", "autocorrelation"):
        raise ValueError(f"method must be 'mutual_information' or 'autocorrelation'; got {method!r}")
    fallback = ""
    if method == "mutual_information":
        curve = mutual_information(x, max_lag, n_bins=n_bins)
        hits = _significant_minima(curve, x.size, n_bins)
        if hits.size:
            return LagChoice(int(hits[0]), np.arange(max_lag + 1), curve, method,
                             "first local minimum")
        # Maps typically have an AMI that decays to the estimator's floor, where it
        # only wobbles; the autocorrelation still gives a lag.
        fallback = "no AMI minimum up to max_lag; "
        method = "autocorrelation"
    curve = autocorrelation(x, max_lag)
    zero = np.nonzero(curve[1:] <= 0)[0]
    efold = np.nonzero(curve[1:] <= np.exp(-1))[0]
    if zero.size:
        lag, rule = int(zero[0]) + 1, "first zero crossing"
    elif efold.size:
        lag, rule = int(efold[0]) + 1, "first drop below 1/e (no zero crossing)"
    else:
        lag = int(np.argmin(curve[1:])) + 1
        rule = "no rule fired up to max_lag; smallest value taken"
    rule = fallback + rule
    if fallback or rule.startswith("no rule"):
        warnings.warn(f"choose_lag: {rule}; lag {lag} chosen from the autocorrelation "
                      f"(max_lag={max_lag}).", RuntimeWarning, stacklevel=2)
    return LagChoice(lag, np.arange(max_lag + 1), curve, method, rule)


def _nearest_outside_window(tree, points, theiler):
    """Index and distance of each point's nearest neighbour ``j`` with ``|i-j| > theiler``."""
    n = points.shape[0]
    idx = np.full(n, -1)
    dist = np.full(n, np.inf)
    todo = np.arange(n)
    k = min(n, 2 * theiler + 2 if theiler < 8 else 8)
    while todo.size:
        d, j = tree.query(points[todo], k=k)
        d, j = d.reshape(todo.size, k), j.reshape(todo.size, k)
        ok = np.abs(j - todo[:, None]) > theiler
        found = ok.any(axis=1)
        first = np.argmax(ok, axis=1)
        rows = np.nonzero(found)[0]
        idx[todo[rows]] = j[rows, first[rows]]
        dist[todo[rows]] = d[rows, first[rows]]
        todo = todo[~found]
        # At most 2*theiler+1 points are excluded, so k = 2*theiler+2 always suffices.
        k_next = min(n, 2 * k, 2 * theiler + 2)
        if k_next == k:
            break
        k = k_next
    return idx, dist


def false_nearest_neighbors(series, max_dim, lag, rtol=15.0, atol=2.0, theiler=None):
    """Fraction of false nearest neighbours for ``dim = 1 .. max_dim`` (Kennel et al. 1992).

    In dimension ``m`` each delay vector ``[x[s-lag], ..., x[s-m lag]]`` has a nearest
    neighbour (Euclidean, KD-tree, excluding points within ``theiler`` samples in time);
    it is false if adding the next coordinate in time, ``x[s]`` (as in Kennel et al.,
    the later value, which the earlier ones determine even for non-invertible maps),
    separates them by more than ``rtol`` times their
    distance in ``m`` dimensions, or makes their distance in ``m+1`` dimensions exceed
    ``atol`` times the standard deviation of the series. Only the ``n - m lag``
    points that exist in ``m+1`` dimensions are used. Memory is O(n).

    Parameters
    ----------
    series : array_like, shape (n,)
    max_dim : int
        Largest dimension tested (>= 1); needs ``n >= max_dim * lag + 2 theiler + 12``.
    lag : int
        Delay in samples (>= 1).
    rtol, atol : float
        Kennel's R_tol and A_tol (> 0).
    theiler : int, optional
        Temporal exclusion window (>= 0); default ``lag``, because finely sampled
        flows otherwise pair each point with its own neighbours in time.

    Returns
    -------
    numpy.ndarray, shape (max_dim,)
        Entry ``m - 1`` is the false fraction in dimension ``m``.
    """
    x = _series(series)
    max_dim = check_int(max_dim, "max_dim", minimum=1)
    lag = check_int(lag, "lag", minimum=1)
    rtol = check_positive(rtol, "rtol")
    atol = check_positive(atol, "atol")
    theiler = lag if theiler is None else check_int(theiler, "theiler", minimum=0)
    _need(x, max_dim * lag + 2 * theiler + 2 + _MIN_POINTS,
          f"max_dim={max_dim}, lag={lag}, theiler={theiler}")
    scale = x.std()
    fraction = np.empty(max_dim)
    for m in range(1, max_dim + 1):
        E = delay_embed(x, m + 1, lag)
        # The added coordinate is the later one, x[s], as in Kennel et al.: the future
        # is a function of the past, but not the past of the future (non-invertible maps).
        pts, extra = E[:, 1:], E[:, 0]
        j, r_m = _nearest_outside_window(cKDTree(pts), pts, theiler)
        gap = np.abs(extra - extra[j])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(r_m > 0, gap / r_m, np.where(gap > 0, np.inf, 0.0))
        r_next = np.sqrt(r_m ** 2 + gap ** 2)
        fraction[m - 1] = np.mean((ratio > rtol) | (r_next > atol * scale))
    return fraction


@dataclass(frozen=True)
class DimChoice:
    """Result of :func:`choose_dim`.

    Attributes
    ----------
    dim : int
        The chosen embedding dimension.
    dims : numpy.ndarray, shape (max_dim,)
        ``1 .. max_dim``.
    fraction : numpy.ndarray, shape (max_dim,)
        False-nearest-neighbour fraction per dimension.
    threshold : float
    rule : str
    """

    dim: int
    dims: np.ndarray
    fraction: np.ndarray
    threshold: float
    rule: str


def choose_dim(series, lag, max_dim=10, threshold=0.01, **fnn_kwargs):
    """Smallest dimension whose false-nearest-neighbour fraction is ``<= threshold``.

    If none is, the dimension with the smallest fraction is returned with a
    ``RuntimeWarning`` (noise keeps the fraction up; raise ``threshold`` or ``max_dim``).

    Parameters
    ----------
    series : array_like, shape (n,)
    lag : int
    max_dim : int
    threshold : float
        In [0, 1).
    **fnn_kwargs
        ``rtol``, ``atol``, ``theiler`` for :func:`false_nearest_neighbors`.

    Returns
    -------
    DimChoice
    """
    threshold = check_positive(threshold, "threshold", allow_zero=True)
    if threshold >= 1:
        raise ValueError(f"threshold must be in [0, 1); got {threshold!r}")
    fraction = false_nearest_neighbors(series, max_dim, lag, **fnn_kwargs)
    dims = np.arange(1, fraction.size + 1)
    below = np.nonzero(fraction <= threshold)[0]
    if below.size:
        return DimChoice(int(dims[below[0]]), dims, fraction, threshold,
                         f"first dimension with false fraction <= {threshold}")
    dim = int(dims[np.argmin(fraction)])
    warnings.warn(f"choose_dim: no dimension up to max_dim={fraction.size} has a false-"
                  f"neighbour fraction <= {threshold} (smallest {fraction.min():.3g}); "
                  f"returning {dim}", RuntimeWarning, stacklevel=2)
    return DimChoice(dim, dims, fraction, threshold, "no dimension below threshold; smallest fraction taken")
