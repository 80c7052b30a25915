"""Second-order (sigma-pi) layer: trainable weights on pairwise products of the inputs.

``y_o = Σ_{i≤j} W_{o,(ij)} x_i x_j + Σ_i V_{o,i} x_i + b_o``. With the pair-product
matrix ``P`` (one column per pair ``i ≤ j``, ``P_(ij) = x_i x_j``) the layer is the
affine map ``y = P Wᵀ + x Vᵀ + b``, and the passes follow from those of a dense layer
plus the pair products' own rules:

=============  ================================================================
backward       ``P̄ = ȳ W``; ``x̄ = ȳ V + Σ_(ij) P̄_(ij) (x_j e_i + x_i e_j)``
R-forward      ``R{P_(ij)} = R{x_i} x_j + x_i R{x_j}``
R-backward     the backward rules are bilinear in (adjoint, x), so
               ``R{x̄} = R{ȳ} V + adj(R{ȳ} W, x) + adj(ȳ W, R{x})``
=============  ================================================================

The scatter ``Σ_(ij) P̄_(ij) (x_j e_i + x_i e_j)`` is two products with fixed one-hot
matrices of shape ``(P, n_in)``, so every pass is batched matrix products. The forward
and R-forward passes keep the gathered columns ``x_i, x_j`` (and their R-values) for
the later passes.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from .base import Layer, contract

__all__ = ["SigmaPi"]


class SigmaPi(Layer):
    """Sigma-pi units ``y = Σ_{i≤j} W_(ij) x_i x_j + V x + b``.

    Parameters
    ----------
    n_in, n_out : int

    Parameter layout
    ----------------
    ``W`` of shape ``(n_out, n_pairs)`` in row-major order, with
    ``n_pairs = n_in (n_in + 1) / 2`` and the pairs ``(i, j), i ≤ j`` in the order of
    ``numpy.triu_indices(n_in)`` (``(0,0), (0,1), …, (0,n−1), (1,1), …``; also the
    attribute ``pairs``); then ``V`` of shape ``(n_out, n_in)`` in row-major order;
    then ``b`` of shape ``(n_out,)``. ``n_params = n_out * (n_pairs + n_in + 1)``.
    Initialisation: ``W, V ~ N(0, 1 / (n_pairs + n_in))``, ``b = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from jdyn.layers import SigmaPi
    >>> layer = SigmaPi(2, 1)              # pairs (0,0), (0,1), (1,1)
    >>> p = np.array([1.0, 2.0, 3.0,  0.5, 0.0,  1.0])   # W, V, b
    >>> layer.forward(p, np.array([[1.0, 2.0]]))[0]       # 1 + 2·2 + 3·4 + 0.5 + 1
    array([[18.5]])
    """

    def __init__(self, n_in: int, n_out: int):
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.n_out = check_int(n_out, "n_out", minimum=1)
        self._i, self._j = np.triu_indices(self.n_in)
        self.n_pairs = self._i.size
        self.pairs = np.stack([self._i, self._j], axis=1)
        self.n_params = self.n_out * (self.n_pairs + self.n_in + 1)
        rows = np.arange(self.n_pairs)
        self._Ei = np.zeros((self.n_pairs, self.n_in))
        self._Ei[rows, self._i] = 1.0
        self._Ej = np.zeros((self.n_pairs, self.n_in))
        self._Ej[rows, self._j] = 1.0

    def init_params(self, rng):
        k = self.n_out * (self.n_pairs + self.n_in)
        scale = 1.0 / np.sqrt(self.n_pairs + self.n_in)
        return np.concatenate([rng.normal(0.0, scale, size=k), np.zeros(self.n_out)])

    def _unpack(self, p):
        kW = self.n_out * self.n_pairs
        kV = kW + self.n_out * self.n_in
        return (p[:kW].reshape(self.n_out, self.n_pairs),
                p[kW:kV].reshape(self.n_out, self.n_in), p[kV:])

    def _adjoint(self, pbar, xi, xj):
        """``Σ_(ij) P̄_(ij) (x_j e_i + x_i e_j)``.

        ``pbar`` (…, B, n_pairs) and the gathered ``xi = x[..., i]``, ``xj = x[..., j]``
        (…, B, n_pairs), broadcast → (…, B, n_in).
        """
        out = (pbar * xj) @ self._Ei
        out += (pbar * xi) @ self._Ej
        return out

    def forward(self, p, x):
        W, V, b = self._unpack(p)
        # the gathered factors are kept: every later pass needs them again
        xi, xj = x[:, self._i], x[:, self._j]
        P = xi * xj
        y = P @ W.T
        y += x @ V.T
        y += b
        return y, (x, xi, xj, P)

    def backward(self, p, cache, ybar, *, need_input=True, need_params=True):
        x, xi, xj, P = cache
        W, V, _ = self._unpack(p)
        xbar = None
        if need_input:
            xbar = ybar @ V
            xbar += self._adjoint(ybar @ W, xi, xj)
        pbar = None
        if need_params:
            pbar = np.concatenate([contract(ybar, P).ravel(), contract(ybar, x).ravel(),
                                   ybar.reshape(-1, self.n_out).sum(axis=0)])
        return xbar, pbar

    def rforward(self, p, cache, rx):
        _, xi, xj, _ = cache
        W, V, _ = self._unpack(p)
        rxi, rxj = rx[..., self._i], rx[..., self._j]
        rP = rxi * xj
        rP += xi * rxj
        ry = rP @ W.T
        ry += rx @ V.T
        return ry, (rx, rxi, rxj, rP)

    def rbackward(self, p, cache, rcache, ybar, rybar, *, need_input=True):
        x, xi, xj, P = cache
        rx, rxi, rxj, rP = rcache
        W, V, _ = self._unpack(p)
        gW = contract(ybar, rP)
        gV = contract(ybar, rx)
        rxbar = self._adjoint(ybar @ W, rxi, rxj) if need_input else None
        if rybar is None:
            gb = np.zeros(self.n_out)
        else:
            gW += contract(rybar, P)
            gV += contract(rybar, x)
            gb = rybar.reshape(-1, self.n_out).sum(axis=0)
            if need_input:
                # not in place: ybar, rybar and rx may differ in their direction axes
                rxbar = rxbar + rybar @ V + self._adjoint(rybar @ W, xi, xj)
        return rxbar, np.concatenate([gW.ravel(), gV.ravel(), gb])
