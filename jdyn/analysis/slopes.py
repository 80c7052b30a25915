"""Scaling-region detection and slope fits on log-log curves (pluggable).

A rule takes the curve ``(x, y)`` (e.g. ``log r``, ``log C(r)``) and returns a
:class:`SlopeFit` saying which range it fitted, the slope and how uncertain it is. The
default, :func:`linear_region`, is in the spirit of ChaosTools.jl's ``linear_region``:
the widest range over which the local slopes agree within a tolerance. Given the
standard errors of the local slopes from counting noise (``slope_err``, as
:func:`~jdyn.analysis.correlation_dim` passes them), a slope also agrees when it lies
within ``z`` of its own error, and the stated uncertainty separates that noise from
the curvature of the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from jdyn._validation import as_float_array, check_int, check_positive

__all__ = ["SlopeFit", "linear_region", "fixed_region", "fit_slope", "local_slopes"]


@dataclass(frozen=True, eq=False)
class SlopeFit:
    """A straight-line fit over part of a curve.

    Attributes
    ----------
    slope, intercept : float
        Least-squares line through ``x[start:stop]``, ``y[start:stop]``.
    stderr : float
        Uncertainty of ``slope``, as ``stderr_method`` says.
    stderr_method : str
        ``"local-slope spread"``: the standard deviation (ddof=1) of the local slopes
        inside the fit range. Points of a cumulative curve such as ``log C(r)`` are
        strongly correlated, so the least-squares error (``ols_stderr``) understates
        the uncertainty; the spread of local slopes measures how well a single
        power law describes the range. ``"ols"`` when only two points were fitted.
        ``"noise + excess spread"`` when the local slopes' standard errors
        ``e_i`` were given: ``hypot(noise_stderr, excess)``, where ``excess =
        sqrt(max(spread**2 - mean(e_i**2), 0))`` is the part of the spread that the
        noise does not explain (the curve's departure from one power law).
    ols_stderr : float
        The ordinary least-squares standard error, for reference.
    noise_stderr : float
        Error of the slope from the noise alone: ``sqrt(sum((e_i dx_i)**2)) /
        (x[stop-1] - x[start])``, the noise of the chord between the range's ends
        (exact for independent increments, as the shells of a pair count are), taken
        for the least-squares slope; NaN when no errors were given.
    start, stop : int
        Fitted points are ``x[start:stop]``.
    fit_range : tuple of float
        ``(x[start], x[stop - 1])``.
    x, y : numpy.ndarray, shape (n,)
        The whole curve.
    local_slopes : numpy.ndarray, shape (n - 1,)
        ``Δy / Δx`` between consecutive points.
    method : str
        The rule that chose the range.
    """

    slope: float
    intercept: float
    stderr: float
    stderr_method: str
    ols_stderr: float
    noise_stderr: float
    start: int
    stop: int
    fit_range: tuple
    x: np.ndarray
    y: np.ndarray
    local_slopes: np.ndarray
    method: str

    def confidence_interval(self, level=0.95):
        """``(slope - z * stderr, slope + z * stderr)``, ``z`` the normal quantile."""
        level = check_positive(level, "level")
        if level >= 1:
            raise ValueError(f"level must be in (0, 1); got {level!r}")
        z = NormalDist().inv_cdf(0.5 + level / 2)
        return (self.slope - z * self.stderr, self.slope + z * self.stderr)


def _curve(x, y, min_points=3):
    x = as_float_array(x, "x", ndim=1)
    y = as_float_array(y, "y", ndim=1)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape; got {x.shape} and {y.shape}")
    if x.size < min_points:
        raise ValueError(f"the curve has {x.size} points; need at least {min_points} to fit")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    return x, y


def local_slopes(x, y):
    """``Δy / Δx`` between consecutive points, shape (n - 1,)."""
    return np.diff(y) / np.diff(x)


def _slope_err(slope_err, n):
    if slope_err is None:
        return None
    e = as_float_array(slope_err, "slope_err", ndim=1)
    if e.size != n - 1 or (e < 0).any():
        raise ValueError(f"slope_err must hold {n - 1} errors >= 0 (one per local slope); "
                         f"got shape {e.shape}")
    return e


def _errors(x, s, start, stop, ols, slope_err):
    """``(stderr, stderr_method, noise_stderr)`` of the slope over ``x[start:stop]``."""
    inside = s[start:stop - 1]
    spread = float(inside.std(ddof=1)) if inside.size >= 2 else float("nan")
    if slope_err is None:
        if inside.size >= 2:
            return spread, "local-slope spread", float("nan")
        return ols, "ols", float("nan")
    e, dx = slope_err[start:stop - 1], np.diff(x[start:stop])
    noise = math.sqrt(float(np.sum((e * dx) ** 2))) / (x[stop - 1] - x[start])
    excess = math.sqrt(max(spread ** 2 - float(np.mean(e ** 2)), 0.0)) if inside.size >= 2 \
        else 0.0
    return math.hypot(noise, excess), "noise + excess spread", noise


def _fit(x, y, start, stop, method, slope_err=None):
    xs, ys = x[start:stop], y[start:stop]
    n = xs.size
    A = np.vstack([xs, np.ones(n)]).T
    (slope, intercept), *_ = np.linalg.lstsq(A, ys, rcond=None)
    s = local_slopes(x, y)
    if n > 2:
        resid = ys - (slope * xs + intercept)
        ols = math.sqrt(resid @ resid / (n - 2) / ((xs - xs.mean()) @ (xs - xs.mean())))
    else:
        ols = float("nan")
    err, how, noise = _errors(x, s, start, stop, ols, slope_err)
    return SlopeFit(slope=float(slope), intercept=float(intercept), stderr=err,
                    stderr_method=how, ols_stderr=ols, noise_stderr=noise, start=int(start),
                    stop=int(stop), fit_range=(float(x[start]), float(x[stop - 1])), x=x, y=y,
                    local_slopes=s, method=method)


def linear_region(x, y, *, tol=0.1, min_points=5, slope_err=None, z=2.0) -> SlopeFit:
    """Fit the widest range where the curve is straight.

    Rule: among all runs of consecutive local slopes ``s[a:b]`` whose every member lies
    within ``tol * |median(s[a:b])|`` of that median (or, when ``slope_err`` is given,
    within ``z * slope_err[i]`` if that is wider), take the one spanning the widest
    range of ``x`` (ties: the smaller spread of slopes) with at least ``min_points``
    points, and fit a line by least squares to ``x[a:b+1]``.

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing (e.g. ``log r``).
    y : array_like, shape (n,)
    tol : float
        Relative tolerance on the local slopes.
    min_points : int
        Fewest points in the range (>= 3).
    slope_err : array_like, shape (n - 1,), optional
        Standard errors of the local slopes from noise in ``y`` (counting noise of a
        correlation sum). Without them a noisy slope breaks every run it is in.
    z : float
        How many of its standard errors a slope may stray from the median.

    Returns
    -------
    SlopeFit
        ``method == "linear_region(tol=..., min_points=...)"`` (``", z=...)"`` added
        with ``slope_err``); its ``stderr`` is as :class:`SlopeFit` says.

    Raises
    ------
    ValueError
        Bad input, fewer than ``min_points`` points, or no run of ``min_points``
        points that satisfies the tolerance (widen ``tol`` or fix the range with
        :func:`fixed_region`).
    """
    tol = check_positive(tol, "tol")
    min_points = check_int(min_points, "min_points", minimum=3)
    z = check_positive(z, "z")
    x, y = _curve(x, y, min_points)
    err = _slope_err(slope_err, x.size)
    s = local_slopes(x, y)
    allowed = np.zeros_like(s) if err is None else z * err
    best, best_key = None, None
    for a in range(s.size):
        for b in range(a + min_points - 1, s.size + 1):
            run = s[a:b]
            med = np.median(run)
            if np.any(np.abs(run - med) > np.maximum(tol * abs(med), allowed[a:b])):
                continue
            key = (x[b] - x[a], -float(run.std()))
            if best_key is None or key > best_key:
                best, best_key = (a, b + 1), key
    if best is None:
        raise ValueError(f"no scaling region: no {min_points} consecutive points have local "
                         f"slopes within tol={tol} of their median; widen tol or give the "
                         "fit range explicitly")
    method = f"linear_region(tol={tol}, min_points={min_points}" + \
        (")" if err is None else f", z={z})")
    return _fit(x, y, best[0], best[1], method, err)


def fixed_region(x, y, lo, hi, *, slope_err=None) -> SlopeFit:
    """Least-squares line through the points with ``lo <= x <= hi``.

    Parameters
    ----------
    x, y : array_like, shape (n,)
    lo, hi : float
        The range, in the units of ``x``.
    slope_err : array_like, shape (n - 1,), optional
        Standard errors of the local slopes (see :func:`linear_region`).

    Returns
    -------
    SlopeFit
        ``method == "fixed_region(lo, hi)"``.
    """
    x, y = _curve(x, y, 2)
    err = _slope_err(slope_err, x.size)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"the fit range must be finite with lo < hi; got ({lo!r}, {hi!r})")
    idx = np.flatnonzero((x >= lo) & (x <= hi))
    if idx.size < 2:
        raise ValueError(f"the fit range ({lo:.4g}, {hi:.4g}) holds {idx.size} points of the "
                         f"curve (which spans {x[0]:.4g} to {x[-1]:.4g}); need at least 2")
    return _fit(x, y, idx[0], idx[-1] + 1, f"fixed_region({lo:.6g}, {hi:.6g})", err)


def fit_slope(x, y, fit=None, *, slope_err=None) -> SlopeFit:
    """Dispatch to a scaling-region rule.

    Parameters
    ----------
    x, y : array_like, shape (n,)
    fit : None, (lo, hi) or callable
        ``None``: :func:`linear_region` with its defaults; a pair: :func:`fixed_region`
        over ``[lo, hi]`` in the units of ``x``; a callable ``fit(x, y)`` returning a
        :class:`SlopeFit` (e.g. ``functools.partial(linear_region, tol=0.05)``).
    slope_err : array_like, shape (n - 1,), optional
        Passed to the two built-in rules; a callable gets ``(x, y)`` only.

    Returns
    -------
    SlopeFit
    """
    if fit is None:
        return linear_region(x, y, slope_err=slope_err)
    if isinstance(fit, (tuple, list)) and len(fit) == 2:
        return fixed_region(x, y, float(fit[0]), float(fit[1]), slope_err=slope_err)
    if callable(fit):
        out = fit(x, y)
        if not isinstance(out, SlopeFit):
            raise ValueError(f"fit must return a SlopeFit; got {type(out).__name__}")
        return out
    raise ValueError(f"fit must be None, a (lo, hi) pair or a callable; got {fit!r}")
