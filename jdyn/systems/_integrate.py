"""Sampled integration of an ODE with scipy's DOP853, tolerant of blow-ups."""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

__all__ = ["integrate_sampled", "ESCAPE_FACTOR"]

#: An orbit whose largest coordinate exceeds this many times max(1, |x0|) has diverged.
#: Without a bound, an exploding orbit can take for ever to turn non-finite: its
#: stiffness grows with |x|, so the steps shrink as it grows (Lorenz with sigma = -1
#: from its default start grows e-fold per time unit while its cost per time unit
#: doubles; it would need ~1e8 evaluations to reach 1e8 |x0|). A bounded attractor
#: more than 1e4 times larger than max(1, |x0|) needs a start nearer its scale.
ESCAPE_FACTOR = 1e4


def _escape_event(bound):
    def event(t, y):
        return bound - np.max(np.abs(y))
    event.terminal = True
    return event


def _solve(fun, x, t_start, duration, rtol, atol, bound, t_eval=None):
    """Integrate for ``duration`` from time ``t_start`` (``fun`` sees the absolute time;
    times returned are relative to ``t_start``), stopping where ``max|y|`` reaches
    ``bound``: (times reached, states (m, d), ok)."""
    with np.errstate(all="ignore"):
        try:
            sol = solve_ivp(lambda t, y: fun(t_start + t, y), (0.0, duration), x,
                            method="DOP853", rtol=rtol, atol=atol, t_eval=t_eval,
                            events=_escape_event(bound))
        except (OverflowError, FloatingPointError, ZeroDivisionError):
            # A blow-up can surface as an exception inside the step-size control.
            return np.empty(0), np.empty((0, x.size)), False
    ys = sol.y.T
    finite = np.isfinite(ys).all(axis=1)
    m = int(np.argmin(finite)) if not finite.all() else ys.shape[0]
    ok = sol.status == 0 and m == ys.shape[0]
    return sol.t[:m], ys[:m], ok


def integrate_sampled(fun, x0, n, dt, transient, rtol, atol, sigma, rng):
    """Integrate ``dy/dt = fun(t, y)`` and sample it ``n`` times, ``dt`` apart.

    Parameters
    ----------
    fun : callable ``fun(t, y) -> (d,)``
        ``t`` is the time since the start of the run (0 at ``x0``).
    x0 : numpy.ndarray, shape (d,)
    n : int
    dt, transient : float
        Sampling interval and discarded initial time.
    rtol, atol : float
        DOP853 tolerances.
    sigma : float
        Std of Gaussian noise added after every ``dt``-integration (0: none; the whole
        run is then two ``solve_ivp`` calls, sampled through DOP853's dense output).
    rng : numpy.random.Generator

    Returns
    -------
    out : numpy.ndarray, shape (n, d)
        Samples, NaN after a failure.
    failure : None or (row, t)
        First row that could not be computed (-1 if the transient failed) and the time
        reached, measured from the start of the run. An orbit stops when its largest
        coordinate passes ``ESCAPE_FACTOR * max(1, max|x0|)``.
    """
    d = x0.size
    bound = ESCAPE_FACTOR * max(1.0, float(np.max(np.abs(x0))))
    out = np.full((n, d), np.nan)
    x = np.array(x0, dtype=np.float64)
    if sigma == 0.0:
        if transient > 0:
            ts, ys, ok = _solve(fun, x, 0.0, transient, rtol, atol, bound)
            if not ok:
                return out, (-1, float(ts[-1]) if ts.size else 0.0)
            x = ys[-1]
        out[0] = x
        if n > 1:
            t_eval = dt * np.arange(n)
            ts, ys, ok = _solve(fun, x, transient, float(t_eval[-1]), rtol, atol, bound,
                                t_eval=t_eval)
            m = ys.shape[0]
            out[:m] = ys
            if not ok or m < n:
                return out, (m, transient + float(t_eval[min(m, n - 1)]))
        return out, None

    n_transient = math.ceil(transient / dt)
    if n_transient == 0:
        out[0] = x
    for k in range(n_transient + n - 1):
        ts, ys, ok = _solve(fun, x, k * dt, dt, rtol, atol, bound)
        x = ys[-1] + sigma * rng.standard_normal(d) if ok else None
        if x is None or not np.isfinite(x).all():
            row = k + 1 - n_transient
            return out, (row if row >= 0 else -1, (k + 1) * dt)
        if k + 1 >= n_transient:
            out[k + 1 - n_transient] = x
    return out, None
