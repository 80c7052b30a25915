"""Radial-basis-function network."""

from __future__ import annotations

from .._validation import check_int
from ..layers import RBF, Dense
from .sequential import Sequential

__all__ = ["RBFNetwork"]


class RBFNetwork(Sequential):
    """Gaussian RBF network ``f(x) = W φ(x) + b``, ``φ_j = exp(−‖x − c_j‖² / (2 σ_j²))``.

    An :class:`~jdyn.layers.RBF` layer with trainable centres and widths followed by
    a linear :class:`~jdyn.layers.Dense` output layer.

    Parameters
    ----------
    n_in : int
        Input dimension ``n``.
    n_centres : int
        Number of radial units.
    n_out : int
        Output dimension ``m``.
    rng : None, int or numpy.random.Generator
        Seed of the initial parameters: centres ``~ N(0, 1)`` (unless given),
        widths ``σ = width``, ``W ~ N(0, 1/n_centres)``, ``b = 0``.
    centres : array_like, shape (n_centres, n_in), optional
        Initial centres, e.g. a subset of the training inputs.
    width : float
        Initial width of every unit (default 1).

    Parameter layout
    ----------------
    1. centres ``C``, shape ``(n_centres, n_in)``, row-major (row ``j`` is ``c_j``);
    2. log-widths ``s``, shape ``(n_centres,)``, ``σ_j = exp(s_j)``;
    3. output weights ``W``, shape ``(n_out, n_centres)``, row-major;
    4. output bias ``b``, shape ``(n_out,)``.

    ``n_params = n_centres (n_in + 1) + n_out (n_centres + 1)``.

    Examples
    --------
    >>> import numpy as np, jdyn
    >>> net = jdyn.models.RBFNetwork(2, 5, 1, rng=0)
    >>> net.n_params, net(np.zeros((3, 2))).shape, net.jacobian(np.zeros((3, 2))).shape
    (21, (3, 1), (3, 1, 2))
    """

    def __init__(self, n_in, n_centres, n_out, rng=None, centres=None, width=1.0):
        n_in = check_int(n_in, "n_in", minimum=1)
        n_centres = check_int(n_centres, "n_centres", minimum=1)
        n_out = check_int(n_out, "n_out", minimum=1)
        super().__init__([RBF(n_in, n_centres, centres=centres, width=width),
                          Dense(n_centres, n_out)], rng=rng)
        self.n_centres = n_centres
