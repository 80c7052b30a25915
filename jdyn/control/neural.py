"""A neural controller ``u = c(s)`` trained with J-prop on the closed-loop Jacobian.

Composing the frozen model with the controller gives the closed-loop map
``g(s) = f(s, c(s))``; its companion row at an orbit point is
``A_i + B_i ∂c/∂s(p_i)``. Training asks that row to equal a target ``r`` (zero:
deadbeat; or the row of a prescribed spectrum) and ``c(p_i) = 0`` (the orbit stays an
orbit). The row condition is Eq. 1 of J-prop on the controller with output weighting
``B_i``: ``½ ‖B_i ∂c/∂s − (r − A_i)‖²``, a :class:`~jdyn.objectives.DerivativeTarget`.
The net's output is ``tanh``: the controller's is ``u_max`` times that, less its value
at the orbit, and clipped to the bound.

Away from the orbit the derivative target says nothing. Given ``samples`` (states the
system visits, e.g. the delay vectors of the training series), the nets are also fitted,
there, to the model's own nonlinear law with the same target: the ``u`` that makes
``f(s, u) = x_{i+1} + r · (s − p_i)`` (solved by Newton's method on the model, within
the bound). Its Jacobian at the orbit is the one the J-prop term asks for, so the two
terms agree; the samples only tell the net how to bend.

Near point ``p_i`` of the orbit the controller is its own small net of the local
deviation ``z = (s − p_i) / ℓ_i``, ``ℓ_i = u_max / ‖k_i‖`` the deviation at which the
linear controller with the same target saturates: so the net's slopes are O(1), and
the gains of different points (which differ several-fold on a period-2 orbit) do not
have to share one set of hidden units.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_batch, as_rng, check_int, check_positive
from ..models import MLP
from .. import jprop
from ..objectives import DerivativeTarget, MeanSquaredError, Term, WeightDecay
from ..training import train
from .base import Controller, linear_gains, pole_row

__all__ = ["NeuralController"]


class _ZeroAtOrbit(Term):
    """``½ c(p_i)²``: the orbit must stay an orbit, whatever the samples pull towards."""

    default_name = "on_orbit"

    def __call__(self, model, batch):
        return jprop.data_loss(model, np.zeros((1, model.n_in)), np.zeros((1, 1)))


class NeuralController(Controller):
    """Bounded MLP controller whose closed-loop Jacobian at the orbit meets a target.

    Parameters
    ----------
    model : control model (frozen)
    orbit : Orbit or array_like (k,)
    u_max : float
    poles : array_like (d,), optional
        Target per-step closed-loop spectrum; all 0 (deadbeat) by default.
    samples : array_like (m, d), optional
        Visited states; the ``n_samples`` nearest to each orbit point within
        ``radius`` give value targets. Without them only the orbit is used.
    n_samples : int
    hidden : tuple of int
        Hidden tanh widths of each point's net.
    weight_decay : float
    max_iter : int
        L-BFGS iterations per net.
    radius, adapt_rate : float, optional
        See :class:`Controller`.
    rng : None, int or Generator
        Initial weights.

    Attributes
    ----------
    nets : list of jdyn.MLP
        One ``[d, *hidden, 1]`` net with a tanh output per orbit point.
    scales : ndarray (k,)
        ``ℓ_i``.
    training : list of jdyn.training.TrainingResult
    """

    def __init__(self, model, orbit, u_max, poles=None, samples=None, n_samples=1000,
                 hidden=(8,), weight_decay=1e-4, max_iter=500, radius=None, adapt_rate=0.1,
                 rng=None):
        super().__init__(model, orbit, u_max, radius, adapt_rate)
        d = self.orbit.points.shape[1]
        self.row = pole_row(poles, d)
        self.scales = self.u_max / np.linalg.norm(linear_gains(self.orbit, self.row), axis=1)
        sizes = [d, *[check_int(h, "hidden", minimum=1) for h in hidden], 1]
        weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        max_iter = check_int(max_iter, "max_iter", minimum=1)
        gen = as_rng(rng)
        near = self._near_samples(samples, check_int(n_samples, "n_samples", minimum=1))
        self.nets, self.training = [], []
        for i in range(self.orbit.period):
            net = MLP(sizes, output_activation="tanh", rng=gen)
            self.training.append(self._fit(net, i, near[i], weight_decay, max_iter))
            self.nets.append(net)

    def _near_samples(self, samples, n_samples):
        """Per orbit point, the (≤ n_samples, d) visited states nearest to it, in radius."""
        k, d = self.orbit.points.shape
        if samples is None:
            return [np.empty((0, d))] * k
        S = as_batch(samples, "samples", d)
        dist = np.linalg.norm(S[:, None] - self.orbit.points[None], axis=2)
        j = np.argmin(dist, axis=1)
        out = []
        for i in range(k):
            mine = np.flatnonzero((j == i) & (dist[:, i] < self.radius))
            out.append(S[mine[np.argsort(dist[mine, i])[:n_samples]]])
        return out

    def _law(self, S, i):
        """The model's bounded control (m,) with ``f(s, u) = x_{i+1} + r · (s − p_i)``."""
        goal = self.orbit.cycle[(i + 1) % self.orbit.period] + \
            (S - self.orbit.points[i]) @ self.row
        u = np.zeros(len(S))
        for _ in range(10):
            _, dfdu = self.model.delay_derivatives(S, u)
            u = np.clip(u - (self.model.delay_step(S, u) - goal) / dfdu,
                        -self.u_max, self.u_max)
        return u

    def _fit(self, net, i, S, weight_decay, max_iter):
        z0 = np.zeros((1, net.n_in))
        # ∂c/∂s = (u_max / ℓ_i) ∂net/∂z, so the output weighting of Eq. 1 is B_i u_max / ℓ_i.
        weighting = np.array([[self.orbit.dfdu[i] * self.u_max / self.scales[i]]])
        closed_loop = DerivativeTarget((self.row - self.orbit.dfds[i])[None], points=z0,
                                       u=weighting, name="closed_loop")
        objective = closed_loop + _ZeroAtOrbit(10.0) + WeightDecay(weight_decay)
        if len(S) == 0:
            return train(net, objective, z0, max_iter=max_iter, tol=1e-12, progress=False)
        Z = (S - self.orbit.points[i]) / self.scales[i]
        # tanh never reaches ±1: saturated targets are asked at 0.95 of the bound.
        T = np.clip(self._law(S, i) / self.u_max, -0.95, 0.95)[:, None]
        return train(net, objective + MeanSquaredError(name="values"), Z, T,
                     max_iter=max_iter, tol=1e-12, progress=False)

    def demand(self, S, j):
        """``u_max (tanh(h_j(z)) − tanh(h_j(0)))`` (B,), ``z = (s − p_j) / ℓ_j``.

        Less its (trained to be tiny) value at the orbit, so the orbit is exactly an orbit
        of the closed loop and the set points can settle where ``u = 0``.
        """
        u = np.empty(len(S))
        for i, net in enumerate(self.nets):
            rows = j == i
            if rows.any():
                z = (S[rows] - self.orbit.points[i]) / self.scales[i]
                u[rows] = self.u_max * (net(z)[:, 0] - net(np.zeros((1, z.shape[1])))[0, 0])
        return u

    @property
    def linear_radius(self) -> float:
        """``min_i ℓ_i``: set by the target gains, so it is known before training."""
        return float(np.min(self.scales))

    def gains(self):
        """``∂c/∂s`` (k, d) at the orbit points, from each net's exact Jacobian."""
        z = np.zeros((1, self.orbit.points.shape[1]))
        return np.array([net.jacobian(z)[0, 0] * self.u_max / ell
                         for net, ell in zip(self.nets, self.scales)])
