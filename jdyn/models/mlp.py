"""Multilayer perceptron."""

from __future__ import annotations

from ..layers import Dense
from ._stack import check_sizes, stack_layers
from .sequential import Sequential

__all__ = ["MLP"]


class MLP(Sequential):
    """Multilayer perceptron: dense layers with an activation between them.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths ``[n_in, h_1, ..., n_out]`` (at least two entries).
    activation : str
        Hidden activation: "tanh", "sigmoid", "softplus" or "identity".
    output_activation : str
        Activation after the last dense layer; "identity" (linear output) by default.
    rng : None, int or numpy.random.Generator
        Seed of the initial weights (``W ~ N(0, 1/fan_in)``, zero biases).

    Parameter layout
    ----------------
    For each dense layer in order: its weight matrix of shape ``(n_out, n_in)`` in
    row-major order, then its bias ``(n_out,)``. Activations have no parameters.

    Examples
    --------
    >>> import numpy as np, jdyn
    >>> net = jdyn.MLP([2, 10, 1], rng=0)
    >>> net(np.zeros((5, 2))).shape, net.jacobian(np.zeros((5, 2))).shape
    ((5, 1), (5, 1, 2))
    """

    def __init__(self, sizes, activation="tanh", output_activation="identity", rng=None):
        sizes = check_sizes(sizes)
        layers = stack_layers(sizes, Dense, activation, output_activation)
        self.sizes = sizes
        self.activation = activation
        self.output_activation = output_activation
        super().__init__(layers, rng=rng)
