"""Per-trial set points that walk from the model's orbit to the true one.

A model's orbit is a little off the true one; stabilising the model's point holds the
true system on a nearby orbit of a *perturbed* parameter, with a steady control ``u``.
To first order that orbit sits at ``x + (∂x/∂u) u`` from the true one, so each
measurement gives an estimate of the true cycle value, ``x_t − Σ_j (∂x_i/∂u_j) u_j``
(``u_j``: the last control applied at point ``j``), and the set point moves a fraction
``rate`` towards it. The only steady state needs no control: a true orbit, whatever the
model's error.
"""

from __future__ import annotations

import numpy as np

from .orbits import delay_index


class SetPoints:
    """Adapted cycle values of ``n`` independent trials.

    Parameters
    ----------
    orbit : Orbit
        The model's orbit: starting values and the sensitivity ``∂x/∂u``.
    rate : float
        Fraction of the way towards each new estimate, in [0, 1).
    n : int
        Trials.
    """

    def __init__(self, orbit, rate, n):
        self.orbit, self.rate = orbit, rate
        self.cycles = np.repeat(orbit.cycle[None], n, axis=0)
        self.last_u = np.zeros((n, orbit.period))
        self._index = delay_index(orbit.period, orbit.points.shape[1])

    def __len__(self) -> int:
        return len(self.cycles)

    def points(self):
        """Current set points (n, k, d)."""
        return self.cycles[:, self._index]

    def update(self, j, x, u, engaged):
        """Record control ``u`` (n,) applied at points ``j`` (n,) where ``x`` (n,) was
        measured; move the set points of the ``engaged`` (n,) trials."""
        rows = np.arange(len(j))
        estimate = x - np.sum(self.orbit.cycle_sensitivity[j] * self.last_u, axis=1)
        self.cycles[rows, j] += self.rate * engaged * (estimate - self.cycles[rows, j])
        self.last_u[rows, j] = u
