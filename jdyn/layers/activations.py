"""Elementwise activations ``y = g(x)``: tanh, logistic sigmoid, identity, softplus.

Each activation needs only ``g``, ``g'`` and ``g''``; :class:`Activation` turns them
into the four passes. A new smooth activation is one small subclass.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from scipy.special import expit

from .. import _fast
from .._validation import check_int
from ._kernels import gate, gate_r
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
        xbar = gate(ybar, cache[2], scratch(ws, "xbar", _bshape(ybar, cache[2])))
        return xbar, (np.empty(0) if need_params else None)

    def rforward(self, p, cache, rx, ws=None):
        return gate(rx, cache[2], scratch(ws, "ry", _bshape(rx, cache[2]))), rx

    def rbackward(self, p, cache, rx, ybar, rybar, *, need_input=True, ws=None, summed=False):
        shape = _bshape(ybar, rx)
        rxbar = gate_r(ybar, rx, self._second(cache, ws), rybar, cache[2], summed=summed,
                       out=scratch(ws, "rxbar", shape),
                       sum_out=scratch(ws, "rxbar_sum", shape[1:])
                       if summed and len(shape) == 3 else None,
                       term_out=None if rybar is None else
                       scratch(ws, "term", _bshape(rybar, cache[2])))
        return rxbar, np.empty(0)


def _plain(*arrays):
    """Whether every array (None skipped) is C-contiguous float64: what the compiled
    kernels take (complex steps of the layer checks, for one, run on NumPy)."""
    return all(a is None or (a.dtype == np.float64 and a.flags.c_contiguous)
               for a in arrays)


def _out(ws, name, shape):
    return np.empty(shape) if ws is None else ws.get(name, shape)


def _bshape(a, b):
    """The broadcast shape of two arrays (usually just ``a.shape``)."""
    return a.shape if a.shape == b.shape or a.ndim > b.ndim and a.shape[1:] == b.shape \
        else np.broadcast_shapes(a.shape, b.shape)


class Tanh(Activation):
    """``tanh``: g' = 1 − y², g'' = −2 y g'.

    With the compiled fast path (:mod:`jdyn._fast`, numba) the forward and R-backward
    passes run as fused loops on float64 arrays; results agree with the NumPy passes to
    rounding (≤ 1e-12 relative).
    """

    def _own(self):
        """Whether ``g``, ``g'``, ``g''`` are tanh's own (a subclass that changes them gets
        the generic passes, which call them)."""
        cls = type(self)
        return cls.g is Tanh.g and cls.dg is Tanh.dg and cls.d2g is Tanh.d2g

    def forward(self, p, x, ws=None):
        if not self._own():
            return super().forward(p, x)
        fast = _fast.kernels()
        if fast is not None and _plain(x):
            y = _out(ws, "y", x.shape)
            d = _out(ws, "dy", x.shape)
            fast.tanh_forward(x.reshape(-1), y.reshape(-1), d.reshape(-1))
            return y, [x, y, d, None]
        if ws is None:
            return super().forward(p, x)
        y = np.tanh(x, out=ws.get("y", x.shape))
        d = np.multiply(y, y, out=ws.get("dy", x.shape))
        np.subtract(1.0, d, out=d)
        return y, [x, y, d, None]

    def rbackward(self, p, cache, rx, ybar, rybar, *, need_input=True, ws=None, summed=False):
        fast = _fast.kernels() if self._own() else None
        y, d1 = cache[1], cache[2]
        if fast is None or ybar.shape != rx.shape or not _plain(ybar, rx, y, d1, rybar) \
                or ybar.shape[-2:] != y.shape:
            return super().rbackward(p, cache, rx, ybar, rybar, ws=ws, summed=summed)
        shape = y.shape if summed else ybar.shape
        if rybar is not None and rybar.shape != shape:
            return super().rbackward(p, cache, rx, ybar, rybar, ws=ws, summed=summed)
        out = _out(ws, "rxbar", shape)
        kernel = fast.tanh_rbackward if summed else fast.tanh_rbackward_each
        kernel(ybar.reshape(-1), rx.reshape(-1), y.reshape(-1), d1.reshape(-1), out.reshape(-1))
        if rybar is not None:
            fast.add_gated(out.reshape(-1), rybar.reshape(-1), d1.reshape(-1))
        return out, np.empty(0)

    def _second(self, cache, ws=None):
        if cache[3] is None:
            if ws is None or not self._own():
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
