"""Affine (dense) layer ``y = x Wᵀ + b``."""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ._kernels import affine, dense_grads, dense_rgrads, times, times_t
from .base import Layer
from .workspace import scratch

__all__ = ["Dense"]


class Dense(Layer):
    """Affine map ``y = x Wᵀ + b``.

    Parameter layout: ``W`` of shape ``(n_out, n_in)`` in row-major order, then
    ``b`` of shape ``(n_out,)``; ``n_params = n_out * (n_in + 1)``.
    Initialisation: ``W ~ N(0, 1/n_in)``, ``b = 0``.
    """

    uses_workspace = True
    sums_directions = True

    def __init__(self, n_in: int, n_out: int):
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.n_out = check_int(n_out, "n_out", minimum=1)
        self.n_params = self.n_out * (self.n_in + 1)

    def init_params(self, rng):
        W = rng.normal(0.0, 1.0 / np.sqrt(self.n_in), size=(self.n_out, self.n_in))
        return np.concatenate([W.ravel(), np.zeros(self.n_out)])

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_unpacked", None)
        return state

    def _unpack(self, p):
        # The runners pass the same parameter view on every call: keep its W and b
        # views (they see later changes of p's values) rather than re-slicing each pass.
        cached = self.__dict__.get("_unpacked")
        if cached is not None and cached[0] is p:
            return cached[1], cached[2]
        k = self.n_out * self.n_in
        W, b = p[:k].reshape(self.n_out, self.n_in), p[k:]
        self._unpacked = (p, W, b)
        return W, b

    def _grad(self, ws, name, dtype):
        """A ``(n_params,)`` gradient (from the workspace, or fresh) and its ``W`` and ``b``
        views, filled in place (no concatenation)."""
        g = np.empty(self.n_params, dtype) if ws is None else ws.get(name, (self.n_params,))
        k = self.n_out * self.n_in
        return g, g[:k].reshape(self.n_out, self.n_in), g[k:]

    # The arithmetic is in jdyn.layers._kernels (shared with the fused chain runner);
    # without a workspace NumPy allocates (and keeps any dtype, e.g. the complex steps
    # of the layer checks).
    def forward(self, p, x, ws=None):
        W, b = self._unpack(p)
        return affine(x, W, b, scratch(ws, "y", (len(x), self.n_out))), x

    def backward(self, p, x, ybar, *, need_input=True, need_params=True, ws=None):
        W, _ = self._unpack(p)
        xbar = pbar = None
        if need_input:
            xbar = times(ybar, W, scratch(ws, "xbar", ybar.shape[:-1] + (self.n_in,)))
        if need_params:
            pbar, gW, gb = self._grad(ws, "pbar", _dtype(ybar, x))
            dense_grads(ybar, x, gW, gb)
        return xbar, pbar

    def rforward(self, p, x, rx, ws=None):
        W, _ = self._unpack(p)
        return times_t(rx, W, scratch(ws, "ry", rx.shape[:-1] + (self.n_out,))), rx

    def rbackward(self, p, x, rx, ybar, rybar, *, need_input=True, ws=None, summed=False):
        # With summed=True, rybar is already summed over directions (base module
        # docstring); the formulas are the same, as every term is either paired per
        # direction (ȳ with R{x}) or linear in R{ȳ}.
        W, _ = self._unpack(p)
        rpbar, rW, rb = self._grad(ws, "rpbar", _dtype(ybar, rx, x, rybar))
        dense_rgrads(ybar, rx, rybar, x, rW, rb, scratch(ws, "rW2", rW.shape))
        rxbar = None
        if need_input and rybar is not None:
            rxbar = times(rybar, W, scratch(ws, "rxbar", rybar.shape[:-1] + (self.n_in,)))
        return rxbar, rpbar


def _dtype(*arrays):
    """The result dtype of the products (complex in the complex-step checks)."""
    return np.result_type(*[a for a in arrays if a is not None])
