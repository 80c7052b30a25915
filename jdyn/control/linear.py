"""Linear feedback on an orbit's linearisation: pole placement, OGY's controller.

At each point ``p_i`` of the orbit ``u = k_i · (s − p_i)`` with the gain chosen so that
the closed-loop companion row is ``A_i + B_i k_i = r``, the row whose companion has the
requested eigenvalues (``poles``). With every pole at 0 (the default) the controller is
*deadbeat*: the closed-loop monodromy is nilpotent, the deviation vanishes to first
order after ``d`` steps. OGY's original choice for a fixed point moves only the
unstable multiplier to 0 (``poles=(0, λ_s)``). Built from the true Jacobians, this is
the comparison every learned controller is put beside.
"""

from __future__ import annotations

import numpy as np

from .base import Controller, linear_gains, pole_row

__all__ = ["LinearController"]


class LinearController(Controller):
    """Pole placement at each orbit point, bounded and applied only near the orbit.

    Parameters
    ----------
    model : control model
        Its Jacobians at the orbit define the gains (a learned :class:`ControlModel`,
        or the truth, e.g. :class:`DrivenHenon`).
    orbit : Orbit or array_like (k,)
    u_max : float
    poles : array_like (d,), optional
        Per-step closed-loop eigenvalues, inside the unit circle; all 0 by default.
    radius, adapt_rate : float, optional
        See :class:`Controller`.

    Raises
    ------
    ValueError
        ``orbit`` when the control has no effect at one of its points (``∂f/∂u = 0``).
    """

    def __init__(self, model, orbit, u_max, poles=None, radius=None, adapt_rate=0.1):
        super().__init__(model, orbit, u_max, radius, adapt_rate)
        self.row = pole_row(poles, self.orbit.points.shape[1])
        self._gains = linear_gains(self.orbit, self.row)

    def gains(self):
        """Gains ``k_i`` (k, d)."""
        return self._gains

    def demand(self, S, j):
        return np.sum(self._gains[j] * (S - self.orbit.points[j]), axis=1)
