"""Affine (dense) layer ``y = x Wᵀ + b``."""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from .base import Layer, contract

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

    def _pack(self, gW, gb):
        return np.concatenate([gW.ravel(), gb])

    def _grad(self, ws, name):
        """A workspace ``(n_params,)`` gradient and its ``W`` and ``b`` views, filled in
        place (no concatenation)."""
        g = ws.get(name, (self.n_params,))
        k = self.n_out * self.n_in
        return g, g[:k].reshape(self.n_out, self.n_in), g[k:]

    # Each pass has two spellings of the same arithmetic: into workspace arrays, or,
    # without a workspace, plain expressions (fewer NumPy call overheads at small sizes,
    # and any dtype, e.g. the complex steps of the layer checks).
    def forward(self, p, x, ws=None):
        W, b = self._unpack(p)
        y = x @ W.T if ws is None else np.matmul(x, W.T, out=ws.get("y", (len(x), self.n_out)))
        y += b
        return y, x

    def backward(self, p, x, ybar, *, need_input=True, need_params=True, ws=None):
        W, _ = self._unpack(p)
        xbar = pbar = None
        if need_input:
            xbar = ybar @ W if ws is None else \
                np.matmul(ybar, W, out=ws.get("xbar", ybar.shape[:-1] + (self.n_in,)))
        if need_params and ws is None:
            pbar = self._pack(contract(ybar, x), ybar.reshape(-1, self.n_out).sum(axis=0))
        elif need_params:
            pbar, gW, gb = self._grad(ws, "pbar")
            contract(ybar, x, out=gW)
            np.sum(ybar.reshape(-1, self.n_out), axis=0, out=gb)
        return xbar, pbar

    def rforward(self, p, x, rx, ws=None):
        W, _ = self._unpack(p)
        ry = rx @ W.T if ws is None else \
            np.matmul(rx, W.T, out=ws.get("ry", rx.shape[:-1] + (self.n_out,)))
        return ry, rx

    def rbackward(self, p, x, rx, ybar, rybar, *, need_input=True, ws=None, summed=False):
        # With summed=True, rybar is already summed over directions (base module
        # docstring); the formulas are the same, as every term is either paired per
        # direction (ȳ with R{x}) or linear in R{ȳ}.
        W, _ = self._unpack(p)
        if ws is None:
            rW = contract(ybar, rx)
            if rybar is None:
                return None, self._pack(rW, np.zeros(self.n_out))
            rW += contract(rybar, x)
            rb = rybar.reshape(-1, self.n_out).sum(axis=0)
            rxbar = rybar @ W if need_input else None
            return rxbar, self._pack(rW, rb)
        rpbar, rW, rb = self._grad(ws, "rpbar")
        contract(ybar, rx, out=rW)
        if rybar is None:
            rb[...] = 0.0
            return None, rpbar
        rW += contract(rybar, x, out=ws.get("rW2", rW.shape))
        np.sum(rybar.reshape(-1, self.n_out), axis=0, out=rb)
        rxbar = None
        if need_input:
            rxbar = np.matmul(rybar, W, out=ws.get("rxbar", rybar.shape[:-1] + (self.n_in,)))
        return rxbar, rpbar
