"""One compiled call per J-prop objective of a small tanh MLP (imports numba).

At small widths a J-prop gradient is mostly interpreter and NumPy dispatch (about two
thirds at 2-10-10-1, B = 100), so here the four passes run inside one compiled loop
over blocks of :data:`BLOCK` samples. Work arrays are ``(level, unit, sample)``, so
every inner loop runs over the samples of a block, contiguous and vectorised (the
weights are scalars there). The passes are the
layers' (``docs/concepts/jprop.md``), written per sample for a stack
``Dense, Tanh, …, Dense`` with an identity output:

* forward ``z_{l+1} = tanh(W_l z_l + b_l)`` (the last layer linear), ``d_l = 1 − z_l²``;
* backward from an output adjoint: ``g_l = W_lᵀ δ_{l+1}``, ``δ_l = g_l ⊙ d_l``;
* R-forward: ``ρ_{l+1} = W_l r_l`` (pre-activation), ``r_{l+1} = ρ_{l+1} ⊙ d_{l+1}``;
* R-backward with ``R{δ_L} = 0``: ``R{W_l} += δ_{l+1} r_lᵀ + R{δ_{l+1}} z_lᵀ``,
  ``R{b_l} += R{δ_{l+1}}``, ``R{δ_l} = g_l ⊙ (−2 z_l d_l) ⊙ ρ_l + (W_lᵀ R{δ_{l+1}}) ⊙ d_l``.

Parameters are the model's flat vector ``p``: layer ``l``'s ``W`` (row-major) at
``wo[l]``, its ``b`` at ``bo[l]``; ``sizes`` are the widths ``[n_0, …, n_L]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._tanh import tanh

_jit = njit(cache=True, error_model="numpy", nogil=True)
# Sums over the samples of a block may be reordered (so they vectorise); nothing else
# may: the tanh's range reduction depends on the order of its operations.
_jit_sum = njit(cache=True, error_model="numpy", nogil=True, fastmath={"reassoc", "contract"})

DATA, VJP, JVP = 0, 1, 2
BLOCK = 64


@_jit
def _affine(p, wo, bo, sizes, l, src, dst, nb, bias):
    """``dst[l+1] = W_l src[l] (+ b_l)`` over the block."""
    ni, no = sizes[l], sizes[l + 1]
    for i in range(no):
        b = p[bo[l] + i] if bias else 0.0
        for s in range(nb):
            dst[l + 1, i, s] = b
        base = wo[l] + i * ni
        for j in range(ni):
            w = p[base + j]
            for s in range(nb):
                dst[l + 1, i, s] += w * src[l, j, s]


@_jit
def _transpose_apply(p, wo, sizes, l, src, dst, nb):
    """``dst[l] = W_lᵀ src[l+1]`` over the block."""
    ni, no = sizes[l], sizes[l + 1]
    for j in range(ni):
        for s in range(nb):
            dst[l, j, s] = 0.0
    for i in range(no):
        base = wo[l] + i * ni
        for j in range(ni):
            w = p[base + j]
            for s in range(nb):
                dst[l, j, s] += w * src[l + 1, i, s]


@_jit
def _forward(p, wo, bo, sizes, z, d, nb):
    L = sizes.size - 1
    for l in range(L):
        _affine(p, wo, bo, sizes, l, z, z, nb, True)
        if l < L - 1:
            for i in range(sizes[l + 1]):
                for s in range(nb):
                    t = tanh(z[l + 1, i, s])
                    z[l + 1, i, s] = t
                    d[l + 1, i, s] = 1.0 - t * t


@_jit
def _backward(p, wo, sizes, d, g, delta, nb):
    """From ``delta[L]`` (the output adjoint): ``g`` and ``delta`` at every level."""
    L = sizes.size - 1
    for l in range(L - 1, -1, -1):
        _transpose_apply(p, wo, sizes, l, delta, g, nb)
        for j in range(sizes[l]):
            for s in range(nb):
                delta[l, j, s] = g[l, j, s] * d[l, j, s]


@_jit
def _rforward(p, wo, bo, sizes, d, r, rho, nb):
    """From ``r[0]`` (the input direction): ``rho`` and ``r`` at every level."""
    L = sizes.size - 1
    for l in range(L):
        _affine(p, wo, bo, sizes, l, r, rho, nb, False)
        for i in range(sizes[l + 1]):
            for s in range(nb):
                r[l + 1, i, s] = rho[l + 1, i, s] * d[l + 1, i, s] if l < L - 1 \
                    else rho[l + 1, i, s]


@_jit_sum
def _outer(wo, bo, sizes, l, a, x, c, y, grad, nb):
    """``W_l`` gradient ``+= Σ_s a[l+1] x[l]ᵀ + c[l+1] y[l]ᵀ`` and ``b_l`` ``+= Σ_s c[l+1]``."""
    ni, no = sizes[l], sizes[l + 1]
    for i in range(no):
        acc = 0.0
        for s in range(nb):
            acc += c[l + 1, i, s]
        grad[bo[l] + i] += acc
        base = wo[l] + i * ni
        for j in range(ni):
            acc = 0.0
            for s in range(nb):
                acc += a[l + 1, i, s] * x[l, j, s] + c[l + 1, i, s] * y[l, j, s]
            grad[base + j] += acc


@_jit
def _rbackward(p, wo, bo, sizes, z, d, g, delta, r, rho, rdelta, grad, nb):
    """Accumulate the R-gradient into ``grad``, with ``R{δ_L} = 0``."""
    L = sizes.size - 1
    rdelta[L, :, :] = 0.0
    for l in range(L - 1, -1, -1):
        _outer(wo, bo, sizes, l, delta, r, rdelta, z, grad, nb)
        if l == 0:
            break
        _transpose_apply(p, wo, sizes, l, rdelta, rdelta, nb)
        for j in range(sizes[l]):
            for s in range(nb):
                rdelta[l, j, s] = g[l, j, s] * (-2.0 * z[l, j, s] * d[l, j, s]) \
                    * rho[l, j, s] + rdelta[l, j, s] * d[l, j, s]


@_jit
def _load(A, k, b0, nb, dst, level):
    """``dst[level, :, s] = A[k, b0 + s]`` for the samples of the block."""
    for s in range(nb):
        for j in range(A.shape[2]):
            dst[level, j, s] = A[k, b0 + s, j]


@_jit
def _residual(dst, level, width, T, k, b0, nb, has_t):
    """``dst[level] −= T[k, block]`` (when there are targets); returns ``½ Σ dst[level]²``."""
    value = 0.0
    for s in range(nb):
        for j in range(width):
            e = dst[level, j, s] - T[k, b0 + s, j] if has_t else dst[level, j, s]
            dst[level, j, s] = e
            value += 0.5 * e * e
    return value


@_jit
def objective(mode, p, wo, bo, sizes, X, S, T, grad):
    """Value of one J-prop objective, its gradient accumulated into ``grad`` (zeroed).

    ``mode``: DATA (``T`` (1, B, m) the targets, ``S`` unused), VJP (``S`` = u (K, B, m),
    ``T`` = a (K, B, n)) or JVP (``S`` = v (K, B, n), ``T`` = b (K, B, m)); ``T`` with a
    zero-length first axis means zero.
    """
    L = sizes.size - 1
    shape = (L + 1, sizes.max(), BLOCK)
    z, d, g, delta = np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape)
    r, rho, rdelta = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    n, m = sizes[0], sizes[L]
    has_t = T.shape[0] > 0
    X3 = X.reshape((1,) + X.shape)
    value = 0.0
    for b0 in range(0, X.shape[0], BLOCK):
        nb = min(BLOCK, X.shape[0] - b0)
        _load(X3, 0, b0, nb, z, 0)
        _forward(p, wo, bo, sizes, z, d, nb)
        if mode == DATA:
            for i in range(m):
                for s in range(nb):
                    delta[L, i, s] = z[L, i, s]
            value += _residual(delta, L, m, T, 0, b0, nb, True)
            _backward(p, wo, sizes, d, g, delta, nb)
            for l in range(L):       # rdelta is zero here: the plain Σ δ zᵀ, Σ δ
                _outer(wo, bo, sizes, l, rdelta, z, delta, z, grad, nb)
            continue
        for k in range(S.shape[0]):
            if mode == VJP:
                _load(S, k, b0, nb, delta, L)
                _backward(p, wo, sizes, d, g, delta, nb)
                for j in range(n):
                    for s in range(nb):
                        r[0, j, s] = g[0, j, s]
                value += _residual(r, 0, n, T, k, b0, nb, has_t)
                _rforward(p, wo, bo, sizes, d, r, rho, nb)
            else:
                _load(S, k, b0, nb, r, 0)
                _rforward(p, wo, bo, sizes, d, r, rho, nb)
                for i in range(m):
                    for s in range(nb):
                        delta[L, i, s] = r[L, i, s]
                value += _residual(delta, L, m, T, k, b0, nb, has_t)
                _backward(p, wo, sizes, d, g, delta, nb)
            _rbackward(p, wo, bo, sizes, z, d, g, delta, r, rho, rdelta, grad, nb)
    return value
