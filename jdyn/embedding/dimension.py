"""Choice of the embedding dimension: false nearest neighbours and the noise floor."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from jdyn._validation import check_positive
from jdyn.embedding.delay import _MIN_POINTS, _int, _need, _series, delay_embed

__all__ = ["DimChoice", "choose_dim", "false_nearest_neighbors"]

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
