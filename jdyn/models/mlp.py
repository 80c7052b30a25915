"""Multilayer perceptron."""

from __future__ import annotations

from .._validation import check_int
from ..layers import Dense, get_activation
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
        try:
            sizes = [check_int(s, "sizes entries", minimum=1) for s in sizes]
        except TypeError:
            raise ValueError(f"sizes must be a sequence of positive ints; got {sizes!r}") from None
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least [n_in, n_out]; got {sizes}")
        layers = []
        for l, (a, b) in enumerate(zip(sizes, sizes[1:])):
            layers.append(Dense(a, b))
            last = l == len(sizes) - 2
            act = output_activation if last else activation
            if not (last and act in ("identity", "linear")):
                layers.append(get_activation(act, b))
        self.sizes = sizes
        self.activation = activation
        self.output_activation = output_activation
        super().__init__(layers, rng=rng)
