"""Delay embedding of a scalar series, and the choice of its lag and dimension.

Column order of every embedding here is most recent first:
``[x[t], x[t - lag], ..., x[t - (dim-1) lag]]``. The delay-map model predicts
``x[t + lag]`` (or ``x[t+1]``) from such a row, and its companion-matrix Jacobian assumes
this order.

The choices compose: a :class:`LagChoice` or :class:`DimChoice` is accepted wherever a
lag or dimension is, e.g. ``choose_dim(x, lag=choose_lag(x))`` or
``delay_embed(x, dim, lag)`` with the two choices.
"""

from __future__ import annotations

import numbers
import operator
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
# A fall of the AMI by less than this fraction of the information lost so far is flat.
_FLAT = 0.0025

# choose_dim(method="noise_floor"), measured on Hénon, Ikeda, Lorenz and Rössler series
# with 0-10 % observational noise, N = 2000-10000 (see choose_dim's Notes):
# the noise floor is the median next-value gap of the closest quarter of neighbour pairs,
_NOISE_QUANTILE = 0.25
# a gap counts as false only beyond this many noise floors (combined with R_tol * r),
_NOISE_FACTOR = 6.0
# and a dimension embeds when at most this fraction of its neighbours is false.
_NOISE_THRESHOLD = 0.0125
# Above this noise floor (as a fraction of the series' std; 10 % noise gives 0.11-0.16)
# the rule is outside the range it was measured on and tends to answer too low.
_NOISE_WARN = 0.2


def _series(series, name="series"):
    x = as_float_array(series, name, ndim=1)
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError(f"{name} must be a non-constant series of at least 2 samples; "
                         f"got {x.size} samples" + (" all equal" if x.size else ""))
    return x


def _int(value, name, minimum=None):
    """``check_int`` that also takes integer-like objects (``__index__``), e.g. a
    :class:`LagChoice` or :class:`DimChoice`."""
    if not isinstance(value, numbers.Integral) and hasattr(type(value), "__index__"):
        value = operator.index(value)
    return check_int(value, name, minimum=minimum)


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
    dim : int or DimChoice
        Embedding dimension m >= 1.
    lag : int or LagChoice
        Delay tau >= 1, in samples.

    Returns
    -------
    numpy.ndarray, shape (n - (m-1) tau, m)
        Row ``i`` is ``[x[s], x[s - tau], ..., x[s - (m-1) tau]]`` with
        ``s = i + (m-1) tau``: most recent value first.

    Examples
    --------
    >>> delay_embed(np.arange(6.0), dim=3, lag=2)
    array([[4., 2., 0.],
           [5., 3., 1.]])
    """
    x = _series(series)
    dim = _int(dim, "dim", minimum=1)
    lag = _int(lag, "lag", minimum=1)
    span = (dim - 1) * lag
    _need(x, span + 1, f"dim={dim}, lag={lag}")
    return np.ascontiguousarray(sliding_window_view(x, span + 1)[:, ::lag][:, ::-1])


def _default_bins(n):
    """Histogram bins per axis for the AMI of ``n`` samples: ``ceil(2 n^(1/3))`` (Rice rule).

    The bins get finer as the series gets longer, while the estimator's bias for
    independent samples, ``(B − 1)² / (2 n) ≈ 2 n^(-1/3)`` nats, still shrinks.
    16 fixed bins were too coarse for long flows: on Lorenz x at dt = 0.01 and
    N = 5000-20000 they put the first AMI minimum at 0.17-0.19 time units, 32 or more
    bins (the Rice count is 35 at N = 5000) at 0.16-0.17. Sturges' ``log2 n + 1``
    (14 at N = 5000) stays as coarse as 16; ``sqrt(n)`` (71) raises the bias floor so
    much that Rössler's minimum no longer counts.

    Returns
    -------
    int
        ``>= 2``; 20 for ``n = 1000``, 35 for 5000, 44 for 10000.
    """
    return max(2, int(np.ceil(2.0 * np.cbrt(n))))


def mutual_information(series, max_lag, n_bins=None):
    """Average mutual information between ``x[t]`` and ``x[t + tau]``, ``tau = 0..max_lag``.

    Equal-width histogram estimate (as TISEAN's ``mutual``), in nats, with bins spanning
    the whole series' range.

    Parameters
    ----------
    series : array_like, shape (n,)
    max_lag : int
        Largest lag (>= 1); needs ``n >= max_lag + 10``.
    n_bins : int, optional
        Bins per axis (>= 2); default ``ceil(2 n^(1/3))`` (the Rice rule; see
        :func:`choose_lag`).

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1,)
        ``I(tau)``; ``I(0)`` is the entropy of the binned series.
    """
    x = _series(series)
    max_lag = _int(max_lag, "max_lag", minimum=1)
    n_bins = _default_bins(x.size) if n_bins is None else _int(n_bins, "n_bins", minimum=2)
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

    Parameters
    ----------
    series : array_like, shape (n,)
    max_lag : int
        Largest lag (>= 1); needs ``n >= max_lag + 10``.

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1,)
    """
    x = _series(series)
    max_lag = _int(max_lag, "max_lag", minimum=1)
    _need(x, max_lag + _MIN_POINTS, f"max_lag={max_lag}")
    y = x - x.mean()
    size = 1 << int(np.ceil(np.log2(2 * y.size)))
    f = np.fft.rfft(y, size)
    acov = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]
    return acov / acov[0]


@dataclass(frozen=True, eq=False)
class LagChoice:
    """Result of :func:`choose_lag`; usable as the integer ``lag`` itself.

    ``int(choice)`` and ``operator.index(choice)`` give ``choice.lag``, so the choice can
    be passed on as a lag: ``choose_dim(x, lag=choose_lag(x))``. The ``repr`` is one line
    without the curve.

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
    n_bins : int or None
        Histogram bins of the AMI, if it was computed.
    """

    lag: int
    lags: np.ndarray
    curve: np.ndarray
    method: str
    rule: str
    n_bins: int | None = None

    def __index__(self):
        return int(self.lag)

    def __int__(self):
        return int(self.lag)

    def __repr__(self):
        return f"LagChoice(lag={self.lag}, method={self.method!r}, rule={self.rule!r})"


def _significant_minima(curve, n_points, n_bins):
    """Lags ``tau >= 1`` of the AMI's local minima that stand above the estimator's floor.

    A minimum is a lag the AMI falls into, ``I(tau-1) > I(tau)``, and does not fall out
    of: ``I(tau) − I(tau+1) <= _FLAT * (I(0) − I(tau))``, i.e. a further fall of less
    than 0.25 % of the information lost so far counts as flat. Observational noise
    flattens the AMI around its first minimum and lets it drift to later lags (Lorenz
    x at dt 0.01 with 10 % noise: 16-26 samples for a strict minimum, 16-20 with this
    tolerance; clean 16-17 either way).

    The histogram estimate of the mutual information of *independent* samples is not
    0 but about ``(n_bins − 1)² / (2 N)`` nats (its bias, N = number of pairs). A map's
    AMI decays to that floor within a few lags and then only wobbles, which makes
    "minima" at arbitrary lags (19–25 on Hénon x-series); a flow's first minimum lies
    far above it. A minimum counts only if it exceeds the floor ``_FLOOR_FACTOR``-fold.
    The floor is that of the bins actually used, so it follows the default bin count
    (``ceil(2 N^(1/3))`` bins: floor ``≈ 2 N^(-1/3)`` nats).
    """
    lost = curve[0] - curve
    falls_in = curve[:-2] > curve[1:-1]                       # I falls from k-1 to k
    flat_after = curve[1:-1] - curve[2:] <= _FLAT * lost[1:-1]
    candidates = np.nonzero(falls_in & flat_after)[0] + 1
    floor = (n_bins - 1) ** 2 / (2.0 * (n_points - candidates))
    return candidates[curve[candidates] > _FLOOR_FACTOR * floor]


def choose_lag(series, max_lag=100, method="mutual_information", n_bins=None):
    """Choose the embedding delay.

    Rules:

    - ``"mutual_information"``: the first local minimum of the AMI (Fraser & Swinney
      1986), i.e. the first ``tau >= 1`` with ``I(tau-1) > I(tau) <= I(tau+1)``
      that lies above twice the estimate's value for independent samples,
      ``(n_bins − 1)² / (2 N)`` nats (dips in that noise floor, where a map's AMI
      ends up, do not count). A fall from ``tau`` to ``tau + 1`` by less than 0.25 %
      of ``I(0) − I(tau)`` counts as flat: observational noise flattens the minimum
      and lets a strict minimum drift to later lags (``rule`` says when the
      tolerance decided).
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
    n_bins : int, optional
        Histogram bins per axis for the AMI (>= 2). Default ``ceil(2 n^(1/3))`` (the
        Rice rule: 20 bins for n = 1000, 35 for 5000, 44 for 10000): finer bins for
        longer series, while the independent-samples floor ``≈ 2 n^(-1/3)`` nats still
        falls. Measured on Lorenz x (dt = 0.01 and 0.02, N = 2000-20000) this puts the
        first minimum at 0.16-0.17 time units, where 16 fixed bins gave 0.17-0.27; on
        Rössler x at 1.0-1.4; Hénon and Ikeda series still have no minimum above the
        floor (lag 1 from the autocorrelation).

    Returns
    -------
    LagChoice
        Usable directly as the lag (``int(choice) == choice.lag``).

    Examples
    --------
    >>> t = np.arange(2000)
    >>> choose_lag(np.sin(2 * np.pi * t / 90), max_lag=60, method="autocorrelation")
    LagChoice(lag=23, method='autocorrelation', rule='first zero crossing')
    """
    x = _series(series)
    max_lag = _int(max_lag, "max_lag", minimum=1)
    n_bins = _default_bins(x.size) if n_bins is None else _int(n_bins, "n_bins", minimum=2)
    _need(x, 1 + _MIN_POINTS + 1, "lag selection")
    max_lag = min(max_lag, x.size - _MIN_POINTS - 1)
    if method not in ("mutual_information", "autocorrelation"):
        raise ValueError(f"method must be 'mutual_information' or 'autocorrelation'; got {method!r}")
    fallback = ""
    used_bins = None
    if method == "mutual_information":
        used_bins = n_bins
        curve = mutual_information(x, max_lag, n_bins=n_bins)
        hits = _significant_minima(curve, x.size, n_bins)
        if hits.size:
            lag = int(hits[0])
            rule = "first local minimum"
            if curve[lag + 1] < curve[lag]:
                rule += (f" to within {_FLAT:.2%} of I(0) - I(tau) (falls on by "
                         f"{curve[lag] - curve[lag + 1]:.2g} nats)")
            return LagChoice(lag, np.arange(max_lag + 1), curve, method, rule, n_bins)
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
    return LagChoice(lag, np.arange(max_lag + 1), curve, method, rule, used_bins)


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


def _neighbour_gaps(x, max_dim, lag, theiler):
    """Per dimension ``m = 1 .. max_dim``: each delay vector's nearest-neighbour distance
    ``r_m`` (outside the Theiler window) and the pair's gap in the next coordinate.

    Yields pairs of arrays of shape ``(n - m lag,)``. The added coordinate is the later
    one, ``x[s]``, as in Kennel et al.: the future is a function of the past, but not
    the past of the future (non-invertible maps).
    """
    for m in range(1, max_dim + 1):
        E = delay_embed(x, m + 1, lag)
        pts, extra = E[:, 1:], E[:, 0]
        j, r_m = _nearest_outside_window(cKDTree(pts), pts, theiler)
        yield r_m, np.abs(extra - extra[j])


def _check_fnn_args(x, max_dim, lag, rtol, theiler, atol=1.0):
    max_dim = _int(max_dim, "max_dim", minimum=1)
    lag = _int(lag, "lag", minimum=1)
    rtol = check_positive(rtol, "rtol")
    check_positive(atol, "atol")
    theiler = lag if theiler is None else _int(theiler, "theiler", minimum=0)
    _need(x, max_dim * lag + 2 * theiler + 2 + _MIN_POINTS,
          f"max_dim={max_dim}, lag={lag}, theiler={theiler}")
    return max_dim, lag, rtol, theiler


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

    Observational noise keeps these fractions up (pairs closer than the noise are
    "false" by the ratio test); :func:`choose_dim` by default discounts that.

    Parameters
    ----------
    series : array_like, shape (n,)
    max_dim : int
        Largest dimension tested (>= 1); needs ``n >= max_dim * lag + 2 theiler + 12``.
    lag : int or LagChoice
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
    max_dim, lag, rtol, theiler = _check_fnn_args(x, max_dim, lag, rtol, theiler, atol)
    atol = float(atol)
    scale = x.std()
    fraction = np.empty(max_dim)
    for m, (r_m, gap) in enumerate(_neighbour_gaps(x, max_dim, lag, theiler), start=1):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(r_m > 0, gap / r_m, np.where(gap > 0, np.inf, 0.0))
        r_next = np.sqrt(r_m ** 2 + gap ** 2)
        fraction[m - 1] = np.mean((ratio > rtol) | (r_next > atol * scale))
    return fraction


@dataclass(frozen=True, eq=False)
class DimChoice:
    """Result of :func:`choose_dim`; usable as the integer ``dim`` itself.

    ``int(choice)`` and ``operator.index(choice)`` give ``choice.dim``. The ``repr`` is
    one line without the arrays.

    Attributes
    ----------
    dim : int
        The chosen embedding dimension.
    dims : numpy.ndarray, shape (max_dim,)
        ``1 .. max_dim``.
    fraction : numpy.ndarray, shape (max_dim,)
        False-nearest-neighbour fraction per dimension, by the test of ``method``.
    threshold : float
        The fraction a dimension had to reach.
    rule : str
        What was chosen and why, with the numbers (e.g. ``"first dimension with false
        fraction <= 0.0125: 0.0016 at dim 2 (0.31 at dim 1); ..."``).
    method : str
        ``"noise_floor"`` or ``"fnn"`` (see :func:`choose_dim`).
    noise_floor : float or None
        ``"noise_floor"`` method: the gap level attributed to noise, in the units of the
        series; ``None`` for ``"fnn"``.
    """

    dim: int
    dims: np.ndarray
    fraction: np.ndarray
    threshold: float
    rule: str
    method: str = "fnn"
    noise_floor: float | None = None

    def __index__(self):
        return int(self.dim)

    def __int__(self):
        return int(self.dim)

    def __repr__(self):
        return f"DimChoice(dim={self.dim}, method={self.method!r}, rule={self.rule!r})"


_DIM_METHODS = {"noise_floor": ("rtol", "noise_factor", "theiler"),
                "fnn": ("rtol", "atol", "theiler")}


def _noise_floor_fractions(x, max_dim, lag, rtol, noise_factor, theiler):
    """False fractions (shape ``(max_dim,)``) and the noise floor of the gaps."""
    pairs = list(_neighbour_gaps(x, max_dim, lag, theiler))
    # Clean data: the closest pairs' gaps shrink with their distance, so the floor is
    # ~0 and the test is Kennel's ratio test. Noisy data: no pair is closer than the
    # noise, and the closest pairs' gaps stay at the noise level.
    floor = min(float(np.median(gap[r <= np.quantile(r, _NOISE_QUANTILE)]))
                for r, gap in pairs)
    floor = max(floor, float(np.sqrt(np.finfo(float).eps) * x.std()))   # rounding: no noise
    fraction = np.array([np.mean(gap > np.hypot(rtol * r, noise_factor * floor))
                         for r, gap in pairs])
    return fraction, floor


def choose_dim(series, lag, max_dim=10, threshold=None, method="noise_floor", **kwargs):
    """Smallest embedding dimension with (almost) no false nearest neighbours.

    A dimension ``m`` embeds if at most ``threshold`` of the nearest-neighbour pairs of
    its delay vectors are false: close in ``m`` dimensions but far apart in the next
    coordinate ``x[s]`` (Kennel, Brown & Abarbanel 1992; see
    :func:`false_nearest_neighbors`). The methods differ in what counts as "far":

    - ``"noise_floor"`` (default): the gap exceeds
      ``hypot(rtol * r, noise_factor * floor)``, with ``r`` the pair's distance in ``m``
      dimensions and ``floor`` the noise floor of the gaps: the median gap of the
      closest quarter of the pairs, in the dimension where it is smallest. On clean data
      the closest pairs have ~0 gaps, and this is Kennel's ratio test. With
      observational noise no pair is closer than the noise; pairs that look closer are
      "false" by the ratio test in every dimension, which drives Kennel's rule to
      answer 4 for a noisy Hénon series; their gaps stay within a few noise floors and
      are not counted here. Default ``threshold`` 0.0125.
    - ``"fnn"``: Kennel's two tests as they are, :func:`false_nearest_neighbors`
      (``rtol``, ``atol``); default ``threshold`` 0.01.

    If no dimension reaches the threshold, the dimension with the smallest fraction is
    returned with a ``RuntimeWarning``. ``"noise_floor"`` also warns when the floor is
    more than 20 % of the series' std: the rule was measured up to about 16 % (10 %
    noise), and beyond it an insufficient dimension's false neighbours hide in the
    noise, so the answer tends to be too low (white noise: 1).

    Parameters
    ----------
    series : array_like, shape (n,)
    lag : int or LagChoice
        Delay in samples, e.g. ``choose_lag(series)``.
    max_dim : int
        Largest dimension tested; needs ``n >= max_dim * lag + 2 theiler + 12``.
    threshold : float, optional
        In [0, 1); default 0.0125 (``"noise_floor"``) or 0.01 (``"fnn"``).
    method : {"noise_floor", "fnn"}
    **kwargs
        ``rtol`` (15), ``theiler`` (``lag``) and, for ``"noise_floor"``,
        ``noise_factor`` (6) or, for ``"fnn"``, ``atol`` (2).

    Returns
    -------
    DimChoice
        Usable directly as the dimension (``int(choice) == choice.dim``).

    Notes
    -----
    Measured (lag 1 for maps, :func:`choose_lag` for flows; 0/3/5/7/10 % Gaussian
    observational noise; 10 series of N = 5000 per system and level): ``"noise_floor"``
    answers 2 for every Hénon x series, 3 for every Lorenz x (dt 0.01, 0.05) and
    Rössler x (dt 0.1, 0.05) series and 4 for every Ikeda x series; Kennel's rule
    (``"fnn"``, 0.01) answers 4 for every noisy Hénon series and 4-5 for most flows
    from 5 % noise on. The constants (closest quarter, 6 floors, 0.0125) were picked
    from the flat part of a scan over those three, with N = 2000-10000, and checked on
    other series (Lorenz y, Lorenz x at dt 0.02, Rössler y, Rössler x at dt 0.2, 0-10 %
    noise: 3 in all 120). Short noisy series can come out one too low: at N = 2000, 15
    of 120 noisy flow series gave 2. Cao's (1997) E1 was tried and rejected: with 3 %
    noise it no longer saturates (0.30, 0.63, 0.77, 0.85 for Hénon at dims 2-5).

    Examples
    --------
    >>> from jdyn.systems import Henon, add_observational_noise
    >>> x = add_observational_noise(Henon().trajectory(5000)[:, 0], 0.05, rng=0)
    >>> choose_dim(x, lag=1, max_dim=6).dim
    2
    >>> choose_dim(x, lag=1, max_dim=6, method="fnn").dim   # Kennel's rule
    4
    """
    if method not in _DIM_METHODS:
        raise ValueError(f"method must be 'noise_floor' or 'fnn'; got {method!r}")
    unknown = sorted(set(kwargs) - set(_DIM_METHODS[method]))
    if unknown:
        raise TypeError(f"choose_dim(method={method!r}) got unexpected keyword argument(s) "
                        f"{unknown}; it takes {list(_DIM_METHODS[method])}")
    if threshold is None:
        threshold = _NOISE_THRESHOLD if method == "noise_floor" else 0.01
    threshold = check_positive(threshold, "threshold", allow_zero=True)
    if threshold >= 1:
        raise ValueError(f"threshold must be in [0, 1); got {threshold!r}")
    floor = None
    if method == "fnn":
        fraction = false_nearest_neighbors(series, max_dim, lag, **kwargs)
    else:
        x = _series(series)
        noise_factor = check_positive(kwargs.get("noise_factor", _NOISE_FACTOR),
                                      "noise_factor", allow_zero=True)
        max_dim, lag, rtol, theiler = _check_fnn_args(
            x, max_dim, lag, kwargs.get("rtol", 15.0), kwargs.get("theiler"))
        fraction, floor = _noise_floor_fractions(x, max_dim, lag, rtol, noise_factor, theiler)
    dims = np.arange(1, fraction.size + 1)
    below = np.nonzero(fraction <= threshold)[0]
    if below.size:
        dim = int(dims[below[0]])
        rule = (f"first dimension with false fraction <= {threshold:g}: "
                f"{fraction[dim - 1]:.2g} at dim {dim}"
                + (f" ({fraction[dim - 2]:.2g} at dim {dim - 1})" if dim > 1 else ""))
    else:
        dim = int(dims[np.argmin(fraction)])
        rule = (f"no dimension up to {fraction.size} with false fraction <= {threshold:g}; "
                f"smallest fraction taken: {fraction.min():.2g} at dim {dim}")
        warnings.warn(f"choose_dim: no dimension up to max_dim={fraction.size} has a false-"
                      f"neighbour fraction <= {threshold:g} (smallest {fraction.min():.3g}); "
                      f"returning {dim}", RuntimeWarning, stacklevel=2)
    if floor is not None:
        relative = floor / x.std()
        rule += (f"; gaps within {noise_factor:g} noise floors ({floor:.3g}, "
                 f"{relative:.1%} of std) not false")
        if relative > _NOISE_WARN:
            rule += "; floor beyond the measured range, dim may be too low"
            warnings.warn(f"choose_dim: the noise floor of the neighbour gaps is "
                          f"{relative:.0%} of the series' std (measured up to ~16%, 10% "
                          f"noise); false neighbours hide in the noise, dim {dim} may be "
                          f"too low", RuntimeWarning, stacklevel=2)
    return DimChoice(dim, dims, fraction, threshold, rule, method, floor)
