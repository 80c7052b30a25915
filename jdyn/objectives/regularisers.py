"""Penalties that shape a fit without data of their own: weight decay and Jacobian norms."""

from __future__ import annotations

import numpy as np

from .. import jprop
from .._validation import as_rng, check_int
from .base import Term

__all__ = ["WeightDecay", "JacobianPenalty", "DoubleBackprop"]


class WeightDecay(Term):
    """``½ ‖w‖²`` over all parameters (biases included); independent of the batch.

    With ``weight = λ`` the objective gains ``½ λ ‖w‖²``.
    """

    default_name = "weight_decay"
    monitor = False

    def __call__(self, model, batch):
        w = model.params
        return 0.5 * float(w @ w), w


class JacobianPenalty(Term):
    """Frobenius norm of the input–output Jacobian: ``½ (1/B) Σ_b ‖J(x_b)‖_F²`` (a mean).

    Parameters
    ----------
    weight : float
    n_probes : int, optional
        ``None`` (default): exact, one batched pass over min(n_in, n_out) unit
        directions. ``K``: the unbiased Rademacher random-projection estimate of
        :func:`jdyn.jprop.frobenius_loss` with K probes per sample.
    rng : None, int or numpy.random.Generator
        Source of the probes.
    resample : bool, default True
        Draw new probes at every call (an unbiased stochastic objective, for Adam).
        With ``False`` the same probes are used at every call for a given batch size,
        so the objective is a fixed smooth function (what line-search optimisers and
        gradient checks need).
    name : str, default "jacobian"
    """

    default_name = "jacobian"
    monitor = False
    per_sample = True

    def __init__(self, weight=1.0, n_probes=None, rng=None, resample=True, name=None):
        super().__init__(weight, name)
        self.n_probes = None if n_probes is None else check_int(n_probes, "n_probes",
                                                                 minimum=1)
        self.resample = bool(resample)
        self._rng = as_rng(rng)
        # One seed drawn up front makes the fixed probes a function of the rng only.
        self._seed = int(self._rng.integers(2**63))

    def __call__(self, model, batch):
        rng = self._rng if self.resample else np.random.default_rng(self._seed)
        value, grad = jprop.frobenius_loss(model, batch.X, n_probes=self.n_probes, rng=rng)
        B = len(batch)
        return value / B, grad / B


class DoubleBackprop(Term):
    """Double backpropagation: ``½ (1/B) Σ_b ‖∂e_b/∂x_b‖²`` (a mean).

    ``e_b = ½ ‖f(x_b) − t_b‖²`` is sample b's own error, so ``∂e_b/∂x_b = J_bᵀ r_b``
    with the residual ``r_b``; the gradient is exact, including the term through
    the residual's dependence on the weights (see :func:`jdyn.jprop.double_backprop_loss`).
    Reads ``batch.X`` and ``batch.T``.
    """

    default_name = "double_backprop"
    monitor = False
    per_sample = True

    def __call__(self, model, batch):
        T = batch.require_targets(self.name)
        value, grad = jprop.double_backprop_loss(model, batch.X, T)
        B = len(batch)
        return value / B, grad / B
