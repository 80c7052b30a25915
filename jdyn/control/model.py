"""A learned control model: a delay map with the control as one more input."""

from __future__ import annotations

import numpy as np

from .._validation import as_rng, check_int, check_positive
from ..models import MLP, Sequential
from ..objectives import MeanSquaredError, WeightDecay
from ..training import train
from .data import control_samples

__all__ = ["ControlModel", "fit_control_model"]


class ControlModel:
    """``x[t+1] = f(s, u)`` from a fitted model with inputs ``(s, u)``, ``s`` (dim,).

    Parameters
    ----------
    net : jdyn.models.Sequential
        ``n_in = dim + 1`` (the delay vector, then ``u``), ``n_out = 1``.
    dim : int
        Length of the delay vector.

    Raises
    ------
    ValueError
        ``model`` when ``net`` has no input left for the control or not one output.
    """

    def __init__(self, net, dim):
        dim = check_int(dim, "dim", minimum=1)
        if not isinstance(net, Sequential):
            raise ValueError(f"model must be a jdyn Sequential model; got {type(net).__name__}")
        if net.n_in != dim + 1 or net.n_out != 1:
            raise ValueError(
                f"model has n_in={net.n_in}, n_out={net.n_out}; a control model of dim={dim} "
                f"needs n_in = dim + 1 = {dim + 1} (the delay vector, then the control "
                "input u) and one output")
        self.net, self.dim = net, dim

    def delay_step(self, S, u):
        """``x[t+1]`` (B,) from delay vectors ``S`` (B, dim) and controls ``u`` (B,)."""
        return self.net(np.column_stack([S, u]))[:, 0]

    def delay_derivatives(self, S, u):
        """``(∂f/∂s (B, dim), ∂f/∂u (B,))`` from the model's exact Jacobian."""
        J = self.net.jacobian(np.column_stack([S, u]))[:, 0, :]
        return J[:, :self.dim], J[:, self.dim]


def fit_control_model(series, dim, hidden=(16,), weight_decay=1e-6, max_iter=1000,
                      rng=None):
    """Fit an MLP control model ``x[t+1] = f(x[t..t−dim+1], u[t])`` by least squares.

    Parameters
    ----------
    series : DrivenSeries
    dim : int
    hidden : tuple of int
        Hidden-layer widths of the tanh MLP.
    weight_decay : float
    max_iter : int
        L-BFGS iterations.
    rng : None, int or Generator
        Initial weights.

    Returns
    -------
    ControlModel
    """
    X, T = control_samples(series, dim)
    weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
    net = MLP([dim + 1, *hidden, 1], rng=as_rng(rng))
    objective = MeanSquaredError() + WeightDecay(weight_decay)
    train(net, objective, X, T, max_iter=check_int(max_iter, "max_iter", minimum=1),
          progress=False)
    return ControlModel(net, dim)
