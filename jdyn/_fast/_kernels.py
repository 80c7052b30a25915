"""Compiled loops of the tanh layer's passes (imports numba: see :mod:`jdyn._fast`).

Arrays are float64 and C-contiguous; the callers (:class:`jdyn.layers.Tanh`) check.
"""

from __future__ import annotations

from numba import njit

from ._tanh import tanh

_jit = njit(cache=True, error_model="numpy", nogil=True)


@_jit
def tanh_forward(x, y, d1):
    """``y = tanh x`` and ``d1 = 1 − y²``, elementwise over flat arrays."""
    for i in range(x.size):
        t = tanh(x[i])
        y[i] = t
        d1[i] = 1.0 - t * t


@_jit
def tanh_rbackward(ybar, rx, y, d1, out):
    """``out = −2 y d1 ⊙ Σ_k ȳ_k ⊙ R{x}_k`` over K stacked blocks of size n = y.size
    (K = ybar.size / n; K = 1 without a direction axis)."""
    n = y.size
    K = ybar.size // n
    for i in range(n):
        out[i] = 0.0
    for k in range(K):
        o = k * n
        for i in range(n):
            out[i] += ybar[o + i] * rx[o + i]
    for i in range(n):
        out[i] *= -2.0 * y[i] * d1[i]


@_jit
def tanh_rbackward_each(ybar, rx, y, d1, out):
    """``out_k = −2 y d1 ⊙ ȳ_k ⊙ R{x}_k`` for each of the K stacked blocks (not summed)."""
    n = y.size
    for k in range(ybar.size // n):
        o = k * n
        for i in range(n):
            out[o + i] = -2.0 * y[i] * d1[i] * ybar[o + i] * rx[o + i]


@_jit
def add_gated(out, rybar, d1):
    """``out += R{ȳ} ⊙ d1`` with ``d1`` repeated over the K stacked blocks of ``rybar``."""
    n = d1.size
    for k in range(rybar.size // n):
        o = k * n
        for i in range(n):
            out[o + i] += rybar[o + i] * d1[i]
