"""State Jacobians and free-running orbits of fitted maps, with their failure modes.

A fitted map is iterated on its own ("free run") to read the invariants of the
attractor it *generates*, not only of the data it was fitted on. Free runs fail in
three ways a report must show: divergence (the orbit leaves the data's range), collapse
onto a fixed point, or a periodic orbit. :func:`classify_orbit` names which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["companion_jacobians", "FreeRun", "free_run", "classify_orbit"]

#: A free-running orbit leaving the data's box enlarged by this factor has diverged.
DIVERGENCE_FACTOR = 10.0
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


@dataclass(frozen=True)
class FreeRun:
    """A free-running orbit and what became of it.

    orbit : (n_orbits, n, d) states; after a divergence, the steps before it.
    status : "ok", "diverged", "fixed_point" or "periodic".
    reason : human-readable detail ("diverged at step 312 of orbit 2", "period 4", …).
    """

    orbit: np.ndarray
    status: str
    reason: str


def free_run(step, starts, n_steps, center, scale):
    """Iterate a batched map from several starting states.

    Parameters
    ----------
    step : callable, (k, d) → (k, d)
    starts : (k, d) initial states (points of the data, say).
    n_steps : int
    center, scale : (d,) arrays
        The data's centre and spread; leaving ``center ± DIVERGENCE_FACTOR·scale``
        or a non-finite value counts as divergence.

    Returns
    -------
    FreeRun
    """
    states = np.array(starts, dtype=float)
    k, d = states.shape
    orbit = np.full((k, n_steps, d), np.nan)
    limit = DIVERGENCE_FACTOR * np.maximum(scale, np.finfo(float).tiny)
    for t in range(n_steps):
        orbit[:, t] = states
        bad = ~np.all(np.isfinite(states) & (np.abs(states - center) <= limit), axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            return FreeRun(orbit[:, :t], "diverged",
                           f"orbit {i} left the data's range at step {t}")
        with np.errstate(over="ignore", invalid="ignore"):
            states = step(states)
    status, reason = classify_orbit(orbit, scale)
    return FreeRun(orbit, status, reason)


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
