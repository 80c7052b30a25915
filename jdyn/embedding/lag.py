"""Choice of the embedding delay: average mutual information and autocorrelation."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from jdyn.embedding.delay import _MIN_POINTS, _int, _need, _series

__all__ = ["LagChoice", "autocorrelation", "choose_lag", "mutual_information"]

# An AMI minimum must exceed the independent-samples floor of the estimate this many times.
_FLOOR_FACTOR = 2.0
# A fall of the AMI by less than this fraction of the information lost so far is flat.
_FLAT = 0.0025


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
