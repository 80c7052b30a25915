"""Periodic orbits of a delay-form control model at ``u = 0``, with their linearisation.

In delay coordinates a period-k orbit is a cycle of k scalars ``x_1..x_k``; its points
are the delay vectors ``p_i = (x_i, x_{i−1}, ..., x_{i−d+1})`` (indices mod k). At each
point the model gives ``A_i = ∂f/∂s`` (d,) and ``B_i = ∂f/∂u``. The closed-loop
Jacobian of the delay map is the companion matrix whose first row is ``A_i + B_i k_i``
for a feedback gain ``k_i``; the rest is the shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_int

__all__ = ["Orbit", "orbit_from_cycle", "find_orbits", "companion", "monodromy"]


@dataclass(frozen=True)
class Orbit:
    """A periodic orbit of a control model, linearised.

    Attributes
    ----------
    cycle : ndarray (k,)
        The scalars ``x_1..x_k`` of one period.
    points : ndarray (k, d)
        Delay vectors ``p_i``; the model maps ``p_i`` to the first entry of ``p_{i+1}``.
    dfds : ndarray (k, d)
        ``A_i = ∂f/∂s`` at each point, ``u = 0``.
    dfdu : ndarray (k,)
        ``B_i = ∂f/∂u`` at each point.
    multipliers : ndarray (d,), complex
        Eigenvalues of the open-loop monodromy matrix (product of the companions).
    residual : float
        ``max_i |f(p_i, 0) − x_{i+1}|``.
    cycle_sensitivity : ndarray (k, k)
        ``∂x_i / ∂u_j``: how the cycle moves, to first order, when ``u_j`` is applied
        at point ``j`` of every period.
    """

    cycle: np.ndarray
    points: np.ndarray
    dfds: np.ndarray
    dfdu: np.ndarray
    multipliers: np.ndarray
    residual: float
    cycle_sensitivity: np.ndarray

    @property
    def period(self) -> int:
        """``k``, the number of points."""
        return len(self.cycle)

    @property
    def unstable(self) -> bool:
        """Whether a multiplier lies outside the unit circle."""
        return bool(np.max(np.abs(self.multipliers)) > 1.0)


def companion(row):
    """The (d, d) companion matrix with first row ``row`` (d,) and the shift below it."""
    d = len(row)
    C = np.eye(d, k=-1)
    C[0] = row
    return C


def delay_index(k, dim):
    """Index (k, dim) into a cycle of k values giving its delay vectors."""
    return (np.arange(k)[:, None] - np.arange(dim)[None]) % k


def monodromy(rows):
    """Product (d, d) of the companions with first rows ``rows`` (k, d), first point first."""
    M = np.eye(rows.shape[1])
    for row in rows:
        M = companion(row) @ M
    return M


def _points(cycle, dim):
    return cycle[delay_index(len(cycle), dim)]


def _residual(model, cycle):
    points = _points(cycle, model.dim)
    return model.delay_step(points, np.zeros(len(cycle))) - np.roll(cycle, -1)


def orbit_from_cycle(model, cycle, tol=1e-6, name="orbit"):
    """Linearise ``model`` on the periodic cycle ``cycle`` (k,), checking it is one.

    Raises
    ------
    ValueError
        Naming the argument ``name`` when ``cycle`` is not a period-k orbit of the
        model to within ``tol``.
    """
    cycle = as_float_array(cycle, name, ndim=1)
    if len(cycle) == 0:
        raise ValueError(f"{name} must hold at least one point of the cycle; got none")
    residual = float(np.max(np.abs(_residual(model, cycle))))
    if not residual <= tol:
        raise ValueError(f"{name} is not a periodic orbit of the model: "
                         f"max |f(p_i, 0) − x_(i+1)| = {residual:.3g} > tol={tol:g}")
    points = _points(cycle, model.dim)
    dfds, dfdu = model.delay_derivatives(points, np.zeros(len(cycle)))
    return Orbit(cycle, points, dfds, dfdu, np.linalg.eigvals(monodromy(dfds)), residual,
                 _cycle_sensitivity(dfds, dfdu))


def _cycle_sensitivity(dfds, dfdu):
    """``∂cycle/∂u`` (k, k) from the implicit function theorem on ``f(p_i, u_i) = x_{i+1}``."""
    k, d = dfds.shape
    R = np.zeros((k, k))
    for i in range(k):
        for j in range(d):
            R[i, (i - j) % k] += dfds[i, j]
        R[i, (i + 1) % k] -= 1.0
    return -np.linalg.solve(R, np.diag(dfdu))


def _newton(model, cycle, n_iter=50, h=1e-7):
    for _ in range(n_iter):
        r = _residual(model, cycle)
        if np.max(np.abs(r)) < 1e-12:
            break
        J = np.empty((len(cycle), len(cycle)))
        for j in range(len(cycle)):
            e = np.zeros(len(cycle))
            e[j] = h
            J[:, j] = (_residual(model, cycle + e) - _residual(model, cycle - e)) / (2 * h)
        cycle = cycle - np.linalg.lstsq(J, r, rcond=None)[0]
    return cycle


def _minimal(cycle, tol):
    k = len(cycle)
    return all(np.max(np.abs(cycle - np.roll(cycle, -q))) > tol
               for q in range(1, k) if k % q == 0)


def find_orbits(model, x, period, tol=1e-6, n_starts=50):
    """Unstable orbits of minimal period ``period`` of ``model`` near close returns of ``x``.

    Newton's method on the k cycle values, started from the ``n_starts`` windows of the
    series whose return after ``period`` steps is closest. Orbits are deduplicated up to
    a cyclic shift and sorted by their value at the first point.

    Parameters
    ----------
    model : ControlModel or a delay-form truth (``delay_step``, ``delay_derivatives``,
        ``dim``)
    x : array_like (n,)
        A series on the attractor (measured or clean).
    period : int
    tol : float
        Residual accepted, and the distance below which two orbits are the same.

    Returns
    -------
    list of Orbit
    """
    period = check_int(period, "period", minimum=1)
    x = as_float_array(x, "x", ndim=1)
    gap = np.abs(x[period:] - x[:-period])
    found = []
    for start in np.argsort(gap)[:n_starts]:
        cycle = _newton(model, x[start:start + period].copy())
        if not (np.all(np.isfinite(cycle)) and np.ptp(cycle) < 10 * np.ptp(x) + 1.0):
            continue
        if np.max(np.abs(_residual(model, cycle))) > tol or not _minimal(cycle, 1e3 * tol):
            continue
        cycle = np.roll(cycle, -int(np.argmax(cycle)))
        if any(np.max(np.abs(cycle - o.cycle)) < 1e3 * tol for o in found):
            continue
        orbit = orbit_from_cycle(model, cycle, tol)
        if orbit.unstable:
            found.append(orbit)
    return sorted(found, key=lambda o: o.cycle[0])
