"""Higher-order (sigma-pi) network."""

from __future__ import annotations

from ..layers import SigmaPi
from ._stack import check_sizes, stack_layers
from .sequential import Sequential

__all__ = ["HigherOrderNetwork"]


class HigherOrderNetwork(Sequential):
    """Second-order network: sigma-pi layers with an activation between them.

    Each stage is ``a = Σ_{i≤j} W_(ij) z_i z_j + V z + b`` (:class:`~jdyn.layers.SigmaPi`);
    hidden stages are followed by ``activation``, the last stage is linear. With
    ``sizes = [n, m]`` it is a quadratic model of its inputs.

    Parameters
    ----------
    sizes : sequence of int
        Widths ``[n_in, h_1, ..., n_out]`` (at least two entries).
    activation : str
        Hidden activation: "tanh", "sigmoid", "softplus" or "identity".
    rng : None, int or numpy.random.Generator
        Seed of the initial weights (``W, V ~ N(0, 1/(n_pairs + fan_in))``, zero biases).

    Parameter layout
    ----------------
    For each sigma-pi stage ``l`` in order, with ``n = sizes[l]``, ``k = sizes[l+1]``
    and ``P = n (n + 1) / 2``: the pair weights ``W`` of shape ``(k, P)`` row-major,
    pairs ``(i, j), i ≤ j`` in ``numpy.triu_indices(n)`` order; then the linear
    weights ``V`` of shape ``(k, n)`` row-major; then the bias ``b`` of shape ``(k,)``.
    Activations have no parameters.

    Examples
    --------
    >>> import numpy as np, jdyn
    >>> net = jdyn.models.HigherOrderNetwork([2, 4, 1], rng=0)
    >>> net.n_params                    # 4·(3 + 2 + 1) + 1·(10 + 4 + 1)
    39
    >>> net.jvp(np.zeros((3, 2)), np.ones(2)).shape
    (3, 1)
    """

    def __init__(self, sizes, activation="tanh", rng=None):
        sizes = check_sizes(sizes)
        layers = stack_layers(sizes, SigmaPi, activation)
        self.sizes = sizes
        self.activation = activation
        super().__init__(layers, rng=rng)
