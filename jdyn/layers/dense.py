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

    def __init__(self, n_in: int, n_out: int):
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.n_out = check_int(n_out, "n_out", minimum=1)
        self.n_params = self.n_out * (self.n_in + 1)

    def init_params(self, rng):
        W = rng.normal(0.0, 1.0 / np.sqrt(self.n_in), size=(self.n_out, self.n_in))
        return np.concatenate([W.ravel(), np.zeros(self.n_out)])

    def _unpack(self, p):
        k = self.n_out * self.n_in
        return p[:k].reshape(self.n_out, self.n_in), p[k:]

    def _pack(self, gW, gb):
        return np.concatenate([gW.ravel(), gb])

    def forward(self, p, x):
        W, b = self._unpack(p)
        y = x @ W.T
        y += b
        return y, x

    def backward(self, p, x, ybar, *, need_input=True, need_params=True):
        W, _ = self._unpack(p)
        xbar = ybar @ W if need_input else None
        pbar = None
        if need_params:
            gb = ybar.reshape(-1, self.n_out).sum(axis=0)
            pbar = self._pack(contract(ybar, x), gb)
        return xbar, pbar

    def rforward(self, p, x, rx):
        W, _ = self._unpack(p)
        return rx @ W.T, rx

    def rbackward(self, p, x, rx, ybar, rybar, *, need_input=True):
        W, _ = self._unpack(p)
        rW = contract(ybar, rx)
        if rybar is None:
            return None, self._pack(rW, np.zeros(self.n_out))
        rW += contract(rybar, x)
        rb = rybar.reshape(-1, self.n_out).sum(axis=0)
        rxbar = rybar @ W if need_input else None
        return rxbar, self._pack(rW, rb)
