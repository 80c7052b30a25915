"""What every controller shares: a target orbit, a bound, and acting only near the orbit.

A controller maps measured delay vectors ``S`` (B, d) to controls ``u`` (B,). It acts
through the orbit point nearest to each state and only within ``radius`` of it (OGY's
rule: chaos brings the orbit there; far away the linearisation means nothing); its
output is always within ``[−u_max, u_max]``.

Each trial's set points adapt from the model's orbit to the true one
(``jdyn/control/_setpoints.py`` says how and why).
"""

from __future__ import annotations

import abc

import numpy as np

from .._validation import as_batch, check_positive
from .data import check_u_max
from ._setpoints import SetPoints
from .orbits import Orbit, monodromy, orbit_from_cycle

__all__ = ["Controller", "as_control_model", "target_orbit", "pole_row", "linear_gains"]

RADIUS_FACTOR = 30.0


def as_control_model(model):
    """``model`` if it is a delay-form model with a control input, else a ``ValueError``."""
    needed = ("delay_step", "delay_derivatives", "dim")
    if not all(hasattr(model, name) for name in needed):
        raise ValueError(
            f"model must be a delay map with a control input (a ControlModel, or an object "
            f"with delay_step(S, u), delay_derivatives(S, u) and dim); got "
            f"{type(model).__name__}. Wrap a net with inputs (s, u) in ControlModel(net, dim)")
    return model


def target_orbit(model, orbit, tol=1e-6, name="orbit") -> Orbit:
    """The :class:`Orbit` of ``model`` given as an ``Orbit`` or a cycle (k,), re-checked."""
    cycle = orbit.cycle if isinstance(orbit, Orbit) else orbit
    return orbit_from_cycle(model, cycle, tol, name)


def pole_row(poles, dim):
    """First row (dim,) of the companion matrix with eigenvalues ``poles`` (0 if None)."""
    if poles is None:
        return np.zeros(dim)
    poles = np.asarray(poles, dtype=complex).ravel()
    if poles.shape != (dim,):
        raise ValueError(f"poles must hold dim={dim} eigenvalues; got {poles.shape[0]}")
    row = -np.poly(poles)[1:]
    if np.max(np.abs(row.imag)) > 1e-9:
        raise ValueError("poles must be real or come in complex-conjugate pairs")
    if np.max(np.abs(poles)) >= 1.0:
        raise ValueError(f"poles must lie inside the unit circle; got {poles}")
    return row.real


def linear_gains(orbit, row):
    """Gains ``k_i = (r − A_i) / B_i`` (k, d) that make every closed-loop row ``row``.

    Raises
    ------
    ValueError
        ``orbit`` when the control has no effect at one of its points (``∂f/∂u = 0``).
    """
    B = orbit.dfdu
    if np.min(np.abs(B)) <= 1e-8 * max(1.0, np.max(np.abs(orbit.dfds))):
        raise ValueError(f"orbit: the control has no effect at point "
                         f"{int(np.argmin(np.abs(B)))} (∂f/∂u = {B.min():.3g})")
    return (np.asarray(row)[None] - orbit.dfds) / B[:, None]


class Controller(abc.ABC):
    """Base class: nearest orbit point, the action radius, the bound.

    Subclasses implement ``demand(S, j)``: the unbounded control at states ``S``
    (B, d) whose nearest orbit point is ``j`` (B,), and ``gains()``: ``∂u/∂s`` at each
    orbit point (k, d).

    Controllers are stateful: :meth:`reset` starts ``n`` independent trials (the first
    call with a new batch size does it), each with its own set points.

    Parameters
    ----------
    model : control model
    orbit : Orbit or array_like (k,)
        The target; re-checked to be a periodic orbit of ``model``.
    u_max : float
        Bound on ``|u|`` (> 0).
    radius : float, optional
        Act only within this distance of the nearest orbit point; by default
        ``30 u_max / max_i ‖k_i‖``, thirty times :attr:`linear_radius` (on Hénon 10×
        catches too few passes, 100× lets bounded kicks far from the orbit keep the
        learned controllers from it; see the user guide).
    adapt_rate : float
        ``γ`` of the set-point adaptation, in [0, 1); 0 keeps the model's orbit.
    """

    def __init__(self, model, orbit, u_max, radius=None, adapt_rate=0.1):
        self.model = as_control_model(model)
        self.u_max = check_u_max(u_max)
        self.orbit = target_orbit(self.model, orbit)
        self._radius = None if radius is None else check_positive(radius, "radius")
        self.adapt_rate = check_positive(adapt_rate, "adapt_rate", allow_zero=True)
        if self.adapt_rate >= 1.0:
            raise ValueError(f"adapt_rate must be in [0, 1); got {adapt_rate!r}")
        self.setpoints = None

    @property
    def radius(self) -> float:
        """The distance from the nearest orbit point within which the controller acts."""
        return RADIUS_FACTOR * self.linear_radius if self._radius is None else self._radius

    def reset(self, n):
        """Start ``n`` trials: every trial's set points back at the model's orbit."""
        self.setpoints = SetPoints(self.orbit, self.adapt_rate, n)

    @property
    def linear_radius(self) -> float:
        """``u_max / max_i ‖k_i‖``: the distance at which the linear demand hits the bound."""
        return self.u_max / float(np.max(np.linalg.norm(self.gains(), axis=1)))

    def __call__(self, S):
        """Controls (B,) for measured delay vectors ``S`` (B, d), each in [−u_max, u_max]."""
        S = as_batch(S, "S", self.orbit.points.shape[1])
        if self.setpoints is None or len(self.setpoints) != len(S):
            self.reset(len(S))
        rows, points = np.arange(len(S)), self.setpoints.points()
        d = np.linalg.norm(S[:, None, :] - points, axis=2)
        j = np.argmin(d, axis=1)
        dist = d[rows, j]
        offset = points[rows, j] - self.orbit.points[j]
        u = np.clip(self.demand(S - offset, j), -self.u_max, self.u_max)
        u = np.where(dist < self.radius, u, 0.0)
        # Adapt only where the linearisation holds: far out the estimate means nothing.
        self.setpoints.update(j, S[:, 0], u, dist < self.linear_radius)
        return u

    def closed_loop_rows(self):
        """First rows (k, d) of the closed-loop companions, ``A_i + B_i ∂u/∂s(p_i)``."""
        return self.orbit.dfds + self.orbit.dfdu[:, None] * self.gains()

    def closed_loop_multipliers(self):
        """Eigenvalues (d,) of the closed-loop monodromy matrix over one period."""
        return np.linalg.eigvals(monodromy(self.closed_loop_rows()))

    @abc.abstractmethod
    def demand(self, S, j):
        """The unbounded control (B,) at states ``S`` (B, d) nearest orbit point ``j`` (B,)."""

    @abc.abstractmethod
    def gains(self):
        """``∂u/∂s`` at each orbit point, shape (k, d)."""
