"""Polynomial regression: a fixed polynomial basis followed by a trainable linear map."""

from __future__ import annotations

from .._validation import check_int
from ..layers import Dense, PolynomialFeatures
from .sequential import Sequential

__all__ = ["PolynomialRegression"]


class PolynomialRegression(Sequential):
    """``f(x) = W φ(x) + b`` with ``φ(x)`` every monomial of ``x`` of degree 1..``degree``.

    A :class:`~jdyn.layers.PolynomialFeatures` layer (no parameters, no constant
    column) followed by a :class:`~jdyn.layers.Dense` layer: linear in its
    parameters, so J-prop objectives on it are quadratic in the weights.

    Parameters
    ----------
    n_in, n_out : int
    degree : int
        Highest total degree of the monomials (default 3).
    rng : None, int or numpy.random.Generator
        Seed of the initial weights (``W ~ N(0, 1/n_features)``, ``b = 0``).

    Parameter layout
    ----------------
    ``W`` of shape ``(n_out, n_features)`` in row-major order, then ``b`` of shape
    ``(n_out,)``. Column ``t`` of ``W`` multiplies the monomial
    ``Π_i x_i ** powers[t, i]`` (``powers = self.features.powers``): by degree, then
    in ``itertools.combinations_with_replacement`` order. ``n_features =
    C(n_in + degree, degree) − 1``; ``n_params = n_out (n_features + 1)``.

    Examples
    --------
    >>> import numpy as np, jdyn
    >>> net = jdyn.models.PolynomialRegression(2, 1, degree=2, rng=0)
    >>> net.features.powers.tolist()
    [[1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    >>> net.params = [1.0, 0.0, 0.0, 2.0, 0.0, 0.5]        # x0 + 2 x0 x1 + 0.5
    >>> net(np.array([[1.0, 3.0]]))
    array([[7.5]])
    """

    def __init__(self, n_in, n_out, degree=3, rng=None):
        features = PolynomialFeatures(check_int(n_in, "n_in", minimum=1), degree)
        super().__init__([features, Dense(features.n_out, check_int(n_out, "n_out", minimum=1))],
                         rng=rng)
        self.features = features
        self.degree = features.degree
