"""State Jacobians and free-running orbits of fitted maps, with their failure modes.

A fitted map is iterated on its own ("free run") to read the invariants of the
attractor it *generates*, not only of the data it was fitted on. Free runs fail in
three ways a report must show: divergence (the orbit leaves the data's range), collapse
onto a fixed point, or a periodic orbit. Each orbit is followed until it escapes, so
one escaping orbit costs only itself; :func:`classify_orbit` names the collapses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["companion_jacobians", "interleaved_orbits", "FreeRun", "free_run",
           "classify_orbit"]

#: A free-running orbit that leaves the data's range widened by this fraction of the
#: range on each side has escaped the attractor: a model orbit that far outside what was
#: observed is extrapolation, and its exponents describe no part of the data.
ESCAPE_MARGIN = 0.5
#: Relative size (to the data's std) below which orbit points count as repeating.
REPEAT_TOL = 1e-6
#: Longest period looked for.
MAX_PERIOD = 64


def companion_jacobians(grads, residual=False):
    """State Jacobians of a lag-step delay map from the model's input gradients.

    The state is the delay vector ``s_t = (x_t, x_{t−lag}, …, x_{t−(dim−1)·lag})`` and
    the map is ``s_{t+lag} = (f(s_t), x_t, …, x_{t−(dim−2)·lag})`` (``x_t + f(s_t)``
    first when ``residual``), so its Jacobian is a ``dim × dim`` companion matrix: the
    gradient in the first row, ones on the sub-diagonal.

    grads : (…, dim) → (…, dim, dim)
    """
    grads = np.asarray(grads, dtype=float)
    dim = grads.shape[-1]
    J = np.zeros(grads.shape[:-1] + (dim, dim))
    J[..., 0, :] = grads
    if residual:
        J[..., 0, 0] += 1.0
    idx = np.arange(1, dim)
    J[..., idx, idx - 1] = 1.0
    return J


def interleaved_orbits(J, lag):
    """Jacobians at consecutive samples (N, D, D) of a map that steps ``lag`` samples,
    as its orbits: the ``lag`` interleaved sub-series, (lag, N // lag, D, D); unchanged
    for ``lag == 1``."""
    if lag == 1:
        return J
    n = len(J) // lag
    return J[:n * lag].reshape(n, lag, *J.shape[1:]).swapaxes(0, 1)


@dataclass(frozen=True)
class FreeRun:
    """Free-running orbits and what became of them.

    orbit : (n_orbits, n, d) states; NaN after an orbit escaped.
    status : "ok", "diverged" (every orbit escaped), "fixed_point" or "periodic" (of
        the orbits that stayed).
    reason : human-readable detail ("orbit 2 left the data's range at step 312", …).
    escaped_at : (n_orbits,) int, the step at which each orbit left the data's range
        (-1: it stayed).
    """

    orbit: np.ndarray
    status: str
    reason: str
    escaped_at: np.ndarray = None

    @property
    def stayed(self) -> np.ndarray:
        """(n_orbits,) bool: the orbits that stayed on the data's range throughout."""
        return self.escaped_at < 0


def free_run(step, starts, n_steps, low, high):
    """Iterate a batched map from several starting states, each orbit until it escapes.

    Parameters
    ----------
    step : callable, (k, d) → (k, d)
    starts : (k, d) initial states (points of the data, say).
    n_steps : int
    low, high : (d,) arrays
        The data's range; an orbit that leaves it widened by ``ESCAPE_MARGIN`` times
        its width on each side, or turns non-finite, has escaped and is stopped there
        (the others go on).

    Returns
    -------
    FreeRun
    """
    states = np.array(starts, dtype=float)
    k, d = states.shape
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    width = np.maximum(high - low, np.finfo(float).tiny)
    lo, hi = low - ESCAPE_MARGIN * width, high + ESCAPE_MARGIN * width
    orbit = np.full((k, n_steps, d), np.nan)
    escaped_at = np.full(k, -1)
    alive = np.ones(k, dtype=bool)
    for t in range(n_steps):
        inside = np.all(np.isfinite(states) & (states >= lo) & (states <= hi), axis=1)
        escaped_at[alive & ~inside] = t
        alive &= inside
        if not alive.any():
            break
        orbit[alive, t] = states[alive]
        with np.errstate(over="ignore", invalid="ignore"):
            states[alive] = step(states[alive])
    gone = np.flatnonzero(escaped_at >= 0)
    escapes = "; ".join(f"orbit {i} left the data's range at step {escaped_at[i]}" for i in gone)
    if not alive.any():
        return FreeRun(orbit, "diverged", escapes, escaped_at)
    status, reason = classify_orbit(orbit[alive], width)
    if gone.size:
        reason = "; ".join(r for r in (reason, f"{gone.size} of {k} orbits escaped: {escapes}") if r)
    return FreeRun(orbit, status, reason, escaped_at)


def classify_orbit(orbit, scale):
    """``("ok" | "fixed_point" | "periodic", reason)`` from the last quarter of each orbit.

    orbit : (k, n, d); scale : (d,) the data's spread.
    """
    tail = orbit[:, -max(orbit.shape[1] // 4, 2):]
    tol = REPEAT_TOL * float(np.max(scale))
    if np.all(np.ptp(tail, axis=1) <= tol):
        return "fixed_point", "every free-running orbit settles on a fixed point"
    for p in range(1, min(MAX_PERIOD, tail.shape[1] - 1) + 1):
        if np.all(np.abs(tail[:, p:] - tail[:, :-p]) <= tol):
            return "periodic", f"every free-running orbit settles on a period-{p} cycle"
    return "ok", ""
