"""Correlation sums and the correlation dimension D2 (Grassberger & Procaccia 1983).

Pairs are counted with scipy's KD-tree (``cKDTree.count_neighbors``, a dual-tree count
for all radii in one pass): no N x N matrix is ever formed. Pairs closer in time than
the Theiler window are then subtracted exactly, lag by lag, in O(N * window).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from jdyn._validation import as_float_array, as_rng, check_int
from jdyn.analysis.slopes import SlopeFit, fit_slope

__all__ = ["correlation_sum", "correlation_dim", "CorrelationDimResult"]

_METRICS = {"euclidean": 2.0, "chebyshev": np.inf}
# n_reference="auto": exact counts up to _EXACT_MAX points; beyond, as many reference
# points as keep the ordered pairs examined at the exact count's _PAIR_BUDGET.
_EXACT_MAX = 20_000
_PAIR_BUDGET = _EXACT_MAX * _EXACT_MAX


def _points(points, name="points"):
    arr = as_float_array(points, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D (a scalar series) or 2-D (N, d); "
                         f"got shape {arr.shape}")
    return arr


def _radii(radii):
    r = as_float_array(radii, "radii")
    if r.ndim > 1 or r.size == 0:
        raise ValueError(f"radii must be a non-empty 1-D array; got shape {r.shape}")
    r = np.atleast_1d(r)
    if (r <= 0).any():
        raise ValueError(f"radii must all be > 0; got {r[r <= 0][0]!r}")
    return r


def _sq_dist(A, B):
    """Squared Euclidean distances of rows, summed in exactly the order scipy's KD-tree
    uses (four interleaved accumulators when d >= 4), so that ties at ``r`` are decided
    identically and the Theiler-window subtraction is exact."""
    diff = A - B
    sq = diff * diff
    m = sq.shape[1]
    if m < 4:
        s = sq[:, 0].copy()
        for i in range(1, m):
            s += sq[:, i]
        return s
    n4 = (m // 4) * 4
    acc = sq[:, 0:4].copy()
    for i in range(4, n4, 4):
        acc += sq[:, i:i + 4]
    s = ((acc[:, 0] + acc[:, 1]) + acc[:, 2]) + acc[:, 3]
    for i in range(n4, m):
        s += sq[:, i]
    return s


def _within(A, B, radii, p):
    """For each radius, how many row pairs (A[i], B[i]) are at distance <= r."""
    if np.isinf(p):
        d = np.abs(A - B).max(axis=1)
        thresholds = radii
    else:
        d = _sq_dist(A, B)
        # scipy squares the radii with C pow(), which is not always correctly rounded
        # (pow(r, 2) != r * r for some r); match it so ties at r are decided alike.
        # (a radius past sqrt(max float) holds every pair: its square is taken as inf)
        thresholds = np.array([math.pow(r, 2.0) if r < 1e154 else math.inf for r in radii])
    order = np.argsort(thresholds)
    counts = np.searchsorted(np.sort(d), thresholds[order], side="right")
    out = np.empty_like(counts)
    out[order] = counts
    return out


def _pair_counts(X, radii, w, p, ref):
    """Counts of pairs at distance <= r with |i - j| > w, and the number of such pairs.

    ``ref`` is None (all unordered pairs) or an index array of reference points (ordered
    pairs (i in ref, j any)).
    """
    N = X.shape[0]
    tree = cKDTree(X)
    if ref is None:
        counts = (tree.count_neighbors(tree, radii, p=p).astype(np.int64) - N) // 2
        for lag in range(1, min(w, N - 1) + 1):
            counts -= _within(X[lag:], X[:-lag], radii, p)
        m = N - w - 1
        return counts, m * (m + 1) // 2
    counts = cKDTree(X[ref]).count_neighbors(tree, radii, p=p).astype(np.int64) - ref.size
    for lag in range(1, min(w, N - 1) + 1):
        fwd, bwd = ref[ref + lag < N], ref[ref - lag >= 0]
        counts -= _within(X[fwd], X[fwd + lag], radii, p)
        counts -= _within(X[bwd], X[bwd - lag], radii, p)
    excluded = np.minimum(w, ref) + np.minimum(w, N - 1 - ref)
    return counts, int((N - 1 - excluded).sum())


def _check_common(X, theiler_window, metric):
    w = check_int(theiler_window, "theiler_window", minimum=0)
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {sorted(_METRICS)}; got {metric!r}")
    if X.shape[0] < w + 2:
        raise ValueError(f"points has {X.shape[0]} rows; need at least theiler_window + 2 = "
                         f"{w + 2} for one pair outside the Theiler window")
    return w, _METRICS[metric]


def correlation_sum(points, radii, theiler_window=0, *, metric="euclidean",
                    n_reference=None, rng=None):
    """Correlation sum ``C(r)``: the fraction of pairs closer than ``r``.

    ``C(r) = #{(i, j): i < j, j - i > w, |x_i - x_j| <= r} / #{(i, j): i < j, j - i > w}``
    with ``w = theiler_window``. Self-pairs are never counted; the distance test is
    ``<=`` (a pair at exactly ``r`` counts, as in scipy's ``count_neighbors``).

    Parameters
    ----------
    points : array_like, shape (N, d) or (N,)
        States in time order (a 1-D array is a scalar series, d = 1).
    radii : array_like, shape (n_r,)
        Radii > 0, any order.
    theiler_window : int
        Pairs with ``|i - j| <= theiler_window`` are excluded (0: only self-pairs).
    metric : {"euclidean", "chebyshev"}
        Euclidean distances are compared as squared sums against ``r**2``, in
        floating point, exactly as the KD-tree does; the maximum norm has no rounding.
    n_reference : int, optional
        If given (< N), count only pairs whose first point is one of this many
        reference points drawn without replacement, against all N points: an unbiased
        estimate of ``C(r)`` at ``n_reference / N`` of the cost. Default: exact.
    rng : None, int or numpy.random.Generator
        Draws the reference points.

    Returns
    -------
    numpy.ndarray, shape (n_r,)
        ``C(r)`` for each radius, in the order given.
    """
    X = _points(points)
    r = _radii(radii)
    w, p = _check_common(X, theiler_window, metric)
    ref = _reference(X.shape[0], n_reference, rng)
    counts, n_pairs, _ = _counted(X, r, w, p, ref)
    return counts / n_pairs


def _reference(N, n_reference, rng):
    if n_reference is None:
        return None
    m = check_int(n_reference, "n_reference", minimum=1)
    if m >= N:
        return None
    return np.sort(as_rng(rng).choice(N, size=m, replace=False))


@dataclass(frozen=True, eq=False)
class CorrelationDimResult:
    """Correlation dimension with the curve it was read from.

    Attributes
    ----------
    dimension : float
        Slope of ``log C`` against ``log r`` over ``fit_range``.
    stderr : float
        From the fit; see ``fit.stderr_method``: by default the Poisson counting error
        of the slope (``fit.noise_stderr``) combined with the spread of the local slopes
        beyond what that noise explains (how far ``log C`` is from a straight line
        there). The least-squares error, ``fit.ols_stderr``, is far smaller and not a
        fair error bar because the points of a cumulative curve are correlated.
    fit_range : tuple of float
        ``(r_lo, r_hi)``, the radii at the ends of the fit.
    radii, csum : numpy.ndarray, shape (n_r,)
        The curve: every radius with enough pairs (see ``min_pairs``), and ``C(r)``.
    counts : numpy.ndarray of int, shape (n_r,)
        Pair counts behind ``csum``.
    local_slopes : numpy.ndarray, shape (n_r - 1,)
        ``Δ log C / Δ log r`` between consecutive radii (for plotting).
    fit : SlopeFit
    n_points, n_reference, theiler_window : int
        ``n_reference == n_points`` when the counts are exact.
    metric : str
    coincident_pairs : int
        Pairs at distance 0 (outside the Theiler window), counted in ``counts``.
    """

    dimension: float
    stderr: float
    fit_range: tuple
    radii: np.ndarray
    csum: np.ndarray
    counts: np.ndarray
    local_slopes: np.ndarray
    fit: SlopeFit
    n_points: int
    n_reference: int
    theiler_window: int
    metric: str
    coincident_pairs: int = 0


# The default radii: the top at _TOP_FRACTION of the mean per-coordinate standard
# deviation. At half the RMS spread (the old top) edge effects already lowered the slope
# of uniform 3-D and 5-D cubes to 2.80 and 4.75; measured on cubes (d = 2..5), Gaussian
# clouds, circle, torus, Hénon and Lorenz, 0.35 sigma keeps the edge bias under about
# 0.1 and moves Hénon and Lorenz (5,000-20,000 points) by under 0.03.
_TOP_FRACTION = 0.35
# Fewest pairs at a radius: enough for the Poisson error of the count (which the fit
# now uses) to describe it. 1000 fixed pairs left no radius inside a cube's scaling
# region at N = 500; a minimum growing with N (N/100) lost the 5-D cube at N = 20,000.
_MIN_PAIRS = 20
# Radii where coincident pairs (distance 0) make up more than this share of the count
# are dropped: there the constant they add flattens log C(r).
_MAX_COINCIDENT = 0.1


def default_radii(X, n=36, decades=3.5):
    """``n`` log-spaced radii from ``r_top * 10**-decades`` to ``r_top``.

    ``r_top = 0.35 * sigma``, ``sigma = sqrt(mean_k var(X[:, k]))`` the mean
    per-coordinate standard deviation (unchanged by the dimension of a delay embedding).
    For a uniform cube of side L that is ``0.1 L``, below where edge effects bend the
    curve (they lower the slope by about ``d r / L``).

    Parameters
    ----------
    X : numpy.ndarray, shape (N, d)
    n : int
    decades : float

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    sigma = float(np.sqrt(X.var(axis=0).mean()))
    if not sigma > 0:
        raise ValueError("points is constant (zero variance); it has no correlation dimension")
    top = math.log10(_TOP_FRACTION * sigma)
    return np.logspace(top - decades, top, n)


def _power_of_two_scale(X):
    """Exponent k with ``2**k * X`` of size about 1, or 0 when squared distances are
    safe as they are. Scaling by a power of two is exact, so every count is what the
    unscaled points would give without over- or underflow."""
    size, span = float(np.max(np.abs(X))), float(np.max(np.ptp(X, axis=0)))
    if size > 2.0 ** 400:
        return -math.frexp(size)[1]
    if 0 < span < 2.0 ** -400:
        return -math.frexp(span)[1]
    return 0


def _counted(X, radii, w, p, ref):
    """``(counts, n_pairs, coincident)`` with ``radii`` in the units of ``X``."""
    k = _power_of_two_scale(X)
    Xs, rs = (X, radii) if k == 0 else (np.ldexp(X, k), np.ldexp(radii, k))
    counts, n_pairs = _pair_counts(Xs, np.append(rs, 0.0), w, p, ref)
    return counts[:-1], n_pairs, int(counts[-1])


def _resolve_reference(n_reference, N):
    if isinstance(n_reference, str):
        if n_reference != "auto":
            raise ValueError(f"n_reference must be 'auto', None or an int; got {n_reference!r}")
        return None if N <= _EXACT_MAX else _PAIR_BUDGET // N
    return n_reference


def _usable(r, counts, coincident, min_pairs, need, N):
    """Mask of radii with at least ``min_pairs`` pairs that coincident pairs do not
    dominate; raises, saying what to change, when fewer than ``need`` remain."""
    enough = counts >= min_pairs
    keep = enough & (coincident <= _MAX_COINCIDENT * counts)
    if keep.sum() >= need:
        return keep
    head = (f"only {int(keep.sum())} of the {r.size} radii ({r[0]:.3g} to {r[-1]:.3g}) are "
            f"usable, need {need} for the fit")
    if enough.sum() >= need:
        raise ValueError(
            f"{head}: {coincident} pairs are coincident (distance 0: repeated states) and "
            f"are over {_MAX_COINCIDENT:.0%} of the count at every other radius that has "
            f"min_pairs={min_pairs} pairs. Remove the repeated states, or give radii above "
            "the scale where they dominate.")
    raise ValueError(
        f"{head}: at least min_pairs={min_pairs} pairs per radius. The counts run from "
        f"{int(counts[0])} to {int(counts[-1])} pairs (N = {N} points). Lower min_pairs, "
        "widen the radii (radii=...) or give more points.")


def _count_slope_errors(logr, counts):
    """Poisson standard errors of the local slopes: ``sqrt(1/n_i - 1/n_{i+1}) / Δ log r``
    (the shell between two radii is counted independently of the inner ball)."""
    n = counts.astype(float)
    return np.sqrt(np.maximum(1 / n[:-1] - 1 / n[1:], 0.0)) / np.diff(logr)


def correlation_dim(points, *, radii=None, theiler_window=0, fit=None, metric="euclidean",
                    n_reference="auto", min_pairs=_MIN_PAIRS, rng=None) -> CorrelationDimResult:
    """Correlation dimension D2: the slope of ``log C(r)`` over a scaling region.

    The defaults, and why:

    - Radii (:func:`default_radii`): 36 log-spaced over 3.5 decades, the top at 0.35
      times the mean per-coordinate standard deviation, below the edge effects that
      bend the curve at larger radii. nolds' ``corr_dim`` uses 0.1 to 0.5 standard
      deviations; ChaosTools.jl (``estimate_boxsizes``) an e-fold above the smallest
      pair distance to an e-fold below the mean extent.
    - Radii with fewer than ``min_pairs`` = 20 pairs are dropped, as are radii where
      coincident pairs (repeated states) are over 10% of the count (warned). The
      counting noise of the remaining counts is used rather than cut away: the
      smallest usable ``C(r)`` is ``20 / #pairs``, so it falls as ``1 / N**2``.
    - The scaling region (``fit=None``) is
      :func:`~jdyn.analysis.slopes.linear_region`, after ChaosTools.jl's
      ``linear_region``: the widest run of local slopes that agree with their median
      within 10% or within twice their Poisson error, ``sqrt(1/n_i - 1/n_{i+1}) /
      Δ log r``. The uncertainty is that counting noise combined with the spread of
      the local slopes beyond it (see :class:`~jdyn.analysis.slopes.SlopeFit`).

    Measured over 5 seeds each (mean ± seed-to-seed sd; mean stderr / sd): uniform
    3-D cube, N = 1000: 2.95 ± 0.08 (1.4); N = 500: 2.89 ± 0.13 (1.4); 5-D cube,
    N = 20,000: 4.97 ± 0.16 (1.2); Lorenz, N = 20,000: 2.075 ± 0.025 (1.1); Hénon,
    N = 20,000: 1.211 ± 0.009 (4.7). Hénon from only 1000 states gives 1.26 ± 0.06 (0.9,
    one orbit 4.8 stated errors high): small radii, now usable, can carry a local
    bump of the slope that wins the widest run (the old 1000-pair minimum gave
    1.21 ± 0.02 there, and no result at all for the cube at N = 500).

    Parameters
    ----------
    points : array_like, shape (N, d) or (N,)
        States (or delay vectors) in time order. Any finite scale: points whose squared
        distances would over- or underflow are rescaled internally by a power of two.
    radii : array_like, optional
        Default :func:`default_radii`.
    theiler_window : int
        See :func:`correlation_sum`. Use about one autocorrelation time for densely
        sampled flows; 0 is fine for maps.
    fit : None, (r_lo, r_hi) or callable
        How the scaling region is chosen, see :func:`jdyn.analysis.slopes.fit_slope`:
        ``None`` is the rule above; a pair of radii fixes the range (the counting
        errors still enter the stderr); a callable ``fit(log_r, log_C) -> SlopeFit``
        replaces the rule.
    metric : {"euclidean", "chebyshev"}
    n_reference : "auto", None or int
        Reference points for the counts (:func:`correlation_sum`). ``"auto"``: exact up
        to N = 20,000; above, ``4e8 // N`` random reference points against all N (the
        same number of ordered pairs as the exact count at N = 20,000, so the cost
        stays about that of 20,000 points: 4,000 reference points at N = 10^5).
    min_pairs : int
        Radii with fewer pairs than this are dropped before fitting.
    rng : None, int or numpy.random.Generator
        Draws the reference points when subsampling.

    Returns
    -------
    CorrelationDimResult

    Raises
    ------
    ValueError
        Bad input; constant points; fewer usable radii than the fit needs (5 for the
        default rule, 2 otherwise; the message gives the counts and what to change).
    """
    X = _points(points)
    w, p = _check_common(X, theiler_window, metric)
    min_pairs = check_int(min_pairs, "min_pairs", minimum=1)
    N = X.shape[0]
    if radii is None:
        k = _power_of_two_scale(X)
        r = np.ldexp(default_radii(np.ldexp(X, k) if k else X), -k)
    else:
        r = np.sort(_radii(radii))
    ref = _reference(N, _resolve_reference(n_reference, N), rng)
    counts, n_pairs, coincident = _counted(X, r, w, p, ref)
    if coincident:
        warnings.warn(f"correlation_dim: {coincident} of the {n_pairs} pairs are coincident "
                      "points (distance 0: repeated states or coarse resolution); radii where "
                      f"they are over {_MAX_COINCIDENT:.0%} of the count are not used",
                      RuntimeWarning, stacklevel=2)
    keep = _usable(r, counts, coincident, min_pairs, 5 if fit is None else 2, N)
    r, counts = r[keep], counts[keep]
    csum = counts / n_pairs
    logr, logc = np.log(r), np.log(csum)
    if isinstance(fit, (tuple, list)):
        fit = tuple(np.log(_radii(fit)))
    result = fit_slope(logr, logc, fit, slope_err=_count_slope_errors(logr, counts))
    return CorrelationDimResult(
        dimension=result.slope, stderr=result.stderr,
        fit_range=(float(r[result.start]), float(r[result.stop - 1])),
        radii=r, csum=csum, counts=counts, local_slopes=result.local_slopes, fit=result,
        n_points=N, n_reference=N if ref is None else int(ref.size), theiler_window=w,
        metric=metric, coincident_pairs=coincident)
