"""Correlation sums and the correlation dimension D2 (Grassberger & Procaccia 1983).

Pairs are counted with scipy's KD-tree (``cKDTree.count_neighbors``, a dual-tree count
for all radii in one pass): no N x N matrix is ever formed. Pairs closer in time than
the Theiler window are then subtracted exactly, lag by lag, in O(N * window).
"""

from __future__ import annotations

import math
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
        thresholds = np.array([math.pow(r, 2.0) for r in radii])
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
    counts, n_pairs = _pair_counts(X, r, w, p, ref)
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
        From the fit; see ``fit.stderr_method`` (by default the spread of the local
        slopes in the fit range, a measure of how far ``log C`` is from a straight line
        there; the least-squares error, ``fit.ols_stderr``, is far smaller and not a
        fair error bar because the points of a cumulative curve are correlated).
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


def default_radii(X, n=36, decades=3.5):
    """``n`` log-spaced radii from ``r_max * 10**-decades`` to ``r_max``, where
    ``r_max`` is half the RMS distance of the points from their mean."""
    r_max = 0.5 * float(np.sqrt(X.var(axis=0).sum()))
    if not r_max > 0:
        raise ValueError("points is constant (zero variance); it has no correlation dimension")
    return np.logspace(np.log10(r_max) - decades, np.log10(r_max), n)


def correlation_dim(points, *, radii=None, theiler_window=0, fit=None, metric="euclidean",
                    n_reference="auto", min_pairs=1000, rng=None) -> CorrelationDimResult:
    """Correlation dimension D2: the slope of ``log C(r)`` over a scaling region.

    Parameters
    ----------
    points : array_like, shape (N, d) or (N,)
        States (or delay vectors) in time order.
    radii : array_like, optional
        Default :func:`default_radii`: 36 log-spaced radii over 3.5 decades, the top
        at half the RMS spread of the points.
    theiler_window : int
        See :func:`correlation_sum`. Use about one autocorrelation time for densely
        sampled flows; 0 is fine for maps.
    fit : None, (r_lo, r_hi) or callable
        How the scaling region is chosen, see :func:`jdyn.analysis.slopes.fit_slope`:
        ``None`` uses :func:`~jdyn.analysis.slopes.linear_region` (the widest range of
        log r over which every local slope lies within 10% of the range's median);
        a pair of radii fixes the range; a callable ``fit(log_r, log_C) -> SlopeFit``
        replaces the rule.
    metric : {"euclidean", "chebyshev"}
    n_reference : "auto", None or int
        Reference points for the counts (:func:`correlation_sum`). ``"auto"``: exact up
        to N = 20,000; above, ``4e8 // N`` random reference points against all N (the
        same number of ordered pairs as the exact count at N = 20,000, so the cost
        stays about that of 20,000 points: 4,000 reference points at N = 10^5).
    min_pairs : int
        Radii with fewer pairs than this are dropped before fitting (their ``log C``
        is dominated by counting noise).
    rng : None, int or numpy.random.Generator
        Draws the reference points when subsampling.

    Returns
    -------
    CorrelationDimResult
    """
    X = _points(points)
    w, p = _check_common(X, theiler_window, metric)
    r = default_radii(X) if radii is None else np.sort(_radii(radii))
    min_pairs = check_int(min_pairs, "min_pairs", minimum=1)
    N = X.shape[0]
    if isinstance(n_reference, str):
        if n_reference != "auto":
            raise ValueError(f"n_reference must be 'auto', None or an int; got {n_reference!r}")
        n_reference = None if N <= _EXACT_MAX else _PAIR_BUDGET // N
    ref = _reference(N, n_reference, rng)
    counts, n_pairs = _pair_counts(X, r, w, p, ref)
    keep = counts >= min_pairs
    if keep.sum() < 3:
        raise ValueError(f"only {int(keep.sum())} radii have at least min_pairs={min_pairs} "
                         f"pairs (N = {N}); need 3 or more: use more points or larger radii")
    r, counts = r[keep], counts[keep]
    csum = counts / n_pairs
    logr, logc = np.log(r), np.log(csum)
    if isinstance(fit, (tuple, list)):
        fit = tuple(np.log(_radii(fit)))
    result = fit_slope(logr, logc, fit)
    return CorrelationDimResult(
        dimension=result.slope, stderr=result.stderr,
        fit_range=(float(r[result.start]), float(r[result.stop - 1])),
        radii=r, csum=csum, counts=counts, local_slopes=result.local_slopes, fit=result,
        n_points=N, n_reference=N if ref is None else int(ref.size), theiler_window=w,
        metric=metric)
