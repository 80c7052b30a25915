"""Orbits that are not what a Lyapunov average assumes: orbits that never became
independent of each other, and orbits that collapsed onto a fixed point or a cycle.

A map's floating-point orbit can land exactly on a cycle (the tent map at mu = 2 and
``2x mod 1`` shift one bit out per step and reach 0 within ~55 steps) or converge to a
stable one; its exponents are then the cycle's, ``log|eig(M)| / p`` for the product
``M`` of the ``p`` Jacobians around it, and no transient changes that. A flow's orbit
at rest on a fixed point has the real parts of the Jacobian's eigenvalues there.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["TAIL", "nearest_pair", "cycle_periods", "cycle_exponents", "fixed_point_speed",
           "Independence"]

#: States kept at the end of a map run to look for a cycle: periods up to TAIL // 2,
#: each confirmed over the last TAIL // 2 steps.
TAIL = 128
#: Largest deviation (relative to the orbit's scale) from exact repetition that still
#: counts as a cycle: a stable cycle is reached to rounding, a chaotic orbit drifts
#: away from any near-repetition within a few steps.
_CYCLE_TOL = 1e-12
#: Two orbits closer than this (relative) are not independent.
_CLOSE = 1e-4


def nearest_pair(X, ids):
    """The closest two rows of X (k, d) as (id_a, id_b, distance), ``a < b``, or None."""
    if X.shape[0] < 2 or not np.isfinite(X).all():
        return None
    dist, nearest = cKDTree(X).query(X, k=2)
    i = int(np.argmin(dist[:, 1]))
    # With coincident rows the query may list the point itself second: take the
    # neighbour that is not i.
    j = int(nearest[i, 1]) if int(nearest[i, 1]) != i else int(nearest[i, 0])
    a, b = sorted((int(ids[i]), int(ids[j])))
    return a, b, float(dist[i, 1])


class Independence:
    """Whether the orbits were independent when averaging started, checked again at the
    end of the run, so that the advice fits the cause.

    A pair counts as not independent only if it is close both halfway through the
    transient and at its end: among many independent orbits two are sometimes close by
    chance, but not at two times far apart.
    """

    def __init__(self):
        self.pair = None
        self._midway = None

    def at_midway(self, X):
        """Record the states (k, d) halfway through the transient."""
        self._midway = np.array(X, copy=True)

    def at_transient_end(self, X, ids):
        """Record the closest pair of rows of X if it is too close (and was before)."""
        pair = nearest_pair(X, ids)
        if pair is None or pair[2] >= _CLOSE * max(1.0, float(np.abs(X).max())):
            return
        if self._midway is not None:
            a, b = self._midway[pair[0]], self._midway[pair[1]]
            if np.linalg.norm(a - b) >= _CLOSE * max(1.0, float(np.abs(self._midway).max())):
                return
        self.pair = pair

    def message(self, X_end):
        """The warning to give (or None), from the states ``X_end`` (k, d) at the end."""
        if self.pair is None:
            return None
        a, b, gap = self.pair
        scale = max(1.0, float(np.abs(X_end).max()))
        end_gap = float(np.linalg.norm(X_end[a] - X_end[b]))
        if not np.isfinite(end_gap) or end_gap >= _CLOSE * scale:
            return (f"orbits {a} and {b} are only {gap:.3g} apart after the transient: "
                    "the orbits are not yet independent, so the reported stderr "
                    "understates the error; use a longer transient")
        return (f"orbits {a} and {b} are {gap:.3g} apart after the transient and still "
                f"{end_gap:.3g} apart at the end: the dynamics does not separate them (no "
                "positive exponent), so a longer transient cannot help; they are not "
                "independent samples, and the stderr across orbits understates the "
                "error (stderr_method='blocks' does not rely on them)")


def cycle_periods(tail):
    """Period of each orbit at the end of a map run (0: none found).

    Parameters
    ----------
    tail : numpy.ndarray, shape (T, k, d)
        The last ``T`` states of ``k`` orbits, in time order (``T`` >= 4).

    Returns
    -------
    numpy.ndarray of int, shape (k,)
        The smallest ``p <= T // 2`` with ``x[t + p] == x[t]`` (to 1e-12 relative) over
        the last ``T // 2`` steps.
    """
    T, k, _ = tail.shape
    W = T // 2
    periods = np.zeros(k, dtype=int)
    if T < 4 or not np.isfinite(tail).all():
        return periods
    scale = np.maximum(1.0, np.abs(tail).max(axis=(0, 2)))
    for p in range(1, W + 1):
        dev = np.abs(tail[T - W:] - tail[T - W - p:T - p]).max(axis=(0, 2))
        hit = (periods == 0) & (dev <= _CYCLE_TOL * scale)
        periods[hit] = p
    return periods


def cycle_exponents(jacobians):
    """Lyapunov exponents of a cycle from the Jacobians around it.

    Parameters
    ----------
    jacobians : numpy.ndarray, shape (p, d, d)
        ``Df`` at the cycle's ``p`` states, in time order.

    Returns
    -------
    numpy.ndarray, shape (d,)
        ``log|eigenvalues of J[p-1] ... J[0]| / p``, descending.
    """
    M = np.eye(jacobians.shape[-1])
    for J in jacobians:
        M = J @ M
    with np.errstate(divide="ignore"):
        return np.sort(np.log(np.abs(np.linalg.eigvals(M))))[::-1] / len(jacobians)


def fixed_point_speed(X):
    """Largest ``|dx/dt|`` of a flow orbit at rest, per row of X (k, d): 1e-9 of its scale
    (a stable fixed point is reached to rounding; a moving orbit is far faster)."""
    return 1e-9 * np.maximum(1.0, np.abs(X).max(axis=1))
