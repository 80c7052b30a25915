"""Elementwise activations ``y = g(x)``: tanh, logistic sigmoid, identity, softplus.

Each activation needs only ``g``, ``g'`` and ``g''``; :class:`Activation` turns them
into the four passes. A new smooth activation is one small subclass.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from scipy.special import expit

from .._validation import check_int
from .base import Layer
from .workspace import scratch

__all__ = ["Activation", "Tanh", "Sigmoid", "Identity", "Softplus", "get_activation",
           "ACTIVATIONS"]


class Activation(Layer):
    """Elementwise ``y = g(x)`` with no parameters (``n_params = 0``).

    Subclasses implement ``g(x)``, ``dg(x, y)`` and ``d2g(x, y, dy)`` (``y = g(x)``
    and ``dy = g'(x)`` are passed in so that e.g. tanh reuses them).

    The passes here take the optional fast paths of :mod:`jdyn.layers.base`
    (workspace arrays, direction-summed R-backward); a subclass that overrides a pass
    itself should accept the same keywords or set ``uses_workspace`` and
    ``sums_directions`` back to False.
    """

    n_params = 0

    def __init__(self, n: int):
        self.n_in = self.n_out = check_int(n, "n", minimum=1)

    @abstractmethod
    def g(self, x):
        """The activation, elementwise."""

    @abstractmethod
    def dg(self, x, y):
        """``g'(x)`` given ``y = g(x)``."""

    @abstractmethod
    def d2g(self, x, y, dy):
        """``g''(x)`` given ``y = g(x)`` and ``dy = g'(x)``."""

    uses_workspace = True
    sums_directions = True

    def forward(self, p, x, ws=None):
        y = self.g(x)
        return y, [x, y, self.dg(x, y), None]

    def _second(self, cache, ws=None):
        if cache[3] is None:
            cache[3] = self.d2g(cache[0], cache[1], cache[2])
        return cache[3]

    def backward(self, p, cache, ybar, *, need_input=True, need_params=True, ws=None):
        xbar = ybar * cache[2] if ws is None else \
            np.multiply(ybar, cache[2], out=ws.get("xbar", _bshape(ybar, cache[2])))
        return xbar, (np.empty(0) if need_params else None)

    def rforward(self, p, cache, rx, ws=None):
        ry = rx * cache[2] if ws is None else \
            np.multiply(rx, cache[2], out=ws.get("ry", _bshape(rx, cache[2])))
        return ry, rx

    def rbackward(self, p, cache, rx, ybar, rybar, *, need_input=True, ws=None, summed=False):
        # R{x̄} = ȳ ⊙ g'' ⊙ R{x} + R{ȳ} ⊙ g'
        rxbar = ybar * rx if ws is None else \
            np.multiply(ybar, rx, out=ws.get("rxbar", _bshape(ybar, rx)))
        if summed and rxbar.ndim == 3:
            # Sum ȳ ⊙ R{x} over the directions before the (direction-free) g'' factor.
            rxbar = np.sum(rxbar, axis=0, out=scratch(ws, "rxbar_sum", rxbar.shape[1:]))
        rxbar *= self._second(cache, ws)
        if rybar is None:
            return rxbar, np.empty(0)
        term = rybar * cache[2] if ws is None else \
            np.multiply(rybar, cache[2], out=ws.get("term", _bshape(rybar, cache[2])))
        # In place when shapes agree (the usual case); a new array when only one of
        # the seeds carries a direction axis.
        return (rxbar.__iadd__(term) if term.shape == rxbar.shape else rxbar + term), np.empty(0)


def _bshape(a, b):
    """The broadcast shape of two arrays (usually just ``a.shape``)."""
    return a.shape if a.shape == b.shape or a.ndim > b.ndim and a.shape[1:] == b.shape \
        else np.broadcast_shapes(a.shape, b.shape)


class Tanh(Activation):
    """``tanh``: g' = 1 − y², g'' = −2 y g'."""

    def forward(self, p, x, ws=None):
        if ws is None:
            return super().forward(p, x)
        y = np.tanh(x, out=ws.get("y", x.shape))
        d = np.multiply(y, y, out=ws.get("dy", x.shape))
        np.subtract(1.0, d, out=d)
        return y, [x, y, d, None]

    def _second(self, cache, ws=None):
        if cache[3] is None:
            if ws is None:
                return super()._second(cache)
            d2 = np.multiply(cache[1], cache[2], out=ws.get("d2y", cache[1].shape))
            d2 *= -2.0
            cache[3] = d2
        return cache[3]

    def g(self, x):
        return np.tanh(x)

    def dg(self, x, y):
        d = np.multiply(y, y)
        return np.subtract(1.0, d, out=d)

    def d2g(self, x, y, dy):
        d2 = np.multiply(y, dy)
        d2 *= -2.0
        return d2


class Sigmoid(Activation):
    """Logistic sigmoid ``1 / (1 + e^{−x})``: g' = y(1 − y), g'' = g'(1 − 2y)."""

    def g(self, x):
        return expit(x)

    def dg(self, x, y):
        return y * (1.0 - y)

    def d2g(self, x, y, dy):
        return dy * (1.0 - 2.0 * y)


class Softplus(Activation):
    """``log(1 + e^x)`` (smooth, unbounded above): g' = sigmoid(x), g'' = g'(1 − g')."""

    def g(self, x):
        return np.logaddexp(0.0, x)

    def dg(self, x, y):
        return expit(x)

    def d2g(self, x, y, dy):
        return dy * (1.0 - dy)


class Identity(Activation):
    """``y = x``; its passes copy nothing they need not."""

    def g(self, x):
        return x

    def dg(self, x, y):
        return np.ones_like(x)

    def d2g(self, x, y, dy):
        return np.zeros_like(x)

    def forward(self, p, x, ws=None):
        return x, None

    def backward(self, p, cache, ybar, *, need_input=True, need_params=True, ws=None):
        return ybar, (np.empty(0) if need_params else None)

    def rforward(self, p, cache, rx, ws=None):
        return rx, None

    def rbackward(self, p, cache, rx, ybar, rybar, *, need_input=True, ws=None,
                  summed=False):
        return rybar, np.empty(0)


ACTIVATIONS = {"tanh": Tanh, "sigmoid": Sigmoid, "logistic": Sigmoid,
               "softplus": Softplus, "identity": Identity, "linear": Identity}
"""Activation names accepted by :func:`get_activation` and the models, and their classes."""


def get_activation(name: str, n: int) -> Activation:
    """The activation layer called ``name`` (one of ``ACTIVATIONS``) of width ``n``."""
    try:
        cls = ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}; got {name!r}") from None
    return cls(n)
