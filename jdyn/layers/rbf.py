"""Gaussian radial-basis layer with trainable centres and widths.

Unit ``j`` responds to ``x`` as ``y_j = exp(−β_j d_j)`` with the squared distance
``d_j = ‖x − c_j‖²`` and ``β_j = ½ e^{−2 s_j} = 1 / (2 σ_j²)``: ``s_j = log σ_j`` is a
log-width, so every real parameter vector gives a positive width.

With ``q_j = 2 β_j y_j ȳ_j`` the passes are (per sample; sums over the batch and the
direction axis for the parameters)

=============  ================================================================
backward       ``x̄ = q C − x Σ_j q_j``, ``C̄_j = q_j (x − c_j)``, ``s̄_j = q_j d_j``
R-forward      ``R{d_j} = 2 (x − c_j)·R{x}``, ``R{y_j} = −β_j y_j R{d_j}``
R-backward     ``R{q_j} = 2 β_j (R{y_j} ȳ_j + y_j R{ȳ_j})``, then the backward
               rules differentiated term by term (they are bilinear in ``q`` and
               ``x``, and ``R{C} = R{s} = 0``)
=============  ================================================================

``d`` is formed as ``‖x‖² − 2 x·c + ‖c‖²`` so that the layer is a few matrix
products over the batch; every pass is also analytic in its inputs, so it can be
checked by complex steps.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_int, check_positive
from .base import Layer, contract

__all__ = ["RBF"]


def _sum_leading(a: np.ndarray) -> np.ndarray:
    """Sum ``(…, B, k)`` over the direction axes → ``(B, k)``."""
    return a if a.ndim == 2 else a.reshape((-1,) + a.shape[-2:]).sum(axis=0)


class RBF(Layer):
    """Gaussian radial-basis units ``y_j = exp(−‖x − c_j‖² / (2 σ_j²))``.

    Parameters
    ----------
    n_in : int
        Input dimension.
    n_out : int
        Number of units (centres).
    centres : array_like, shape (n_out, n_in), optional
        Initial centres; drawn from ``N(0, 1)`` by ``init_params`` when omitted.
    width : float
        Initial width ``σ`` of every unit (default 1).

    Parameter layout
    ----------------
    The centres ``C`` of shape ``(n_out, n_in)`` in row-major order (row ``j`` is
    ``c_j``), then the log-widths ``s`` of shape ``(n_out,)`` with ``σ_j = exp(s_j)``;
    ``n_params = n_out * (n_in + 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from jdyn.layers import RBF
    >>> layer = RBF(2, 3, centres=np.zeros((3, 2)))
    >>> p = layer.init_params(np.random.default_rng(0))
    >>> y, _ = layer.forward(p, np.array([[0.0, 0.0], [1.0, 1.0]]))
    >>> np.round(y, 4).tolist()
    [[1.0, 1.0, 1.0], [0.3679, 0.3679, 0.3679]]
    """

    def __init__(self, n_in: int, n_out: int, *, centres=None, width: float = 1.0):
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.n_out = check_int(n_out, "n_out", minimum=1)
        self.n_params = self.n_out * (self.n_in + 1)
        self.centres = None if centres is None else as_float_array(
            centres, "centres", shape=(self.n_out, self.n_in)).copy()
        self.width = check_positive(width, "width")

    def init_params(self, rng):
        C = (rng.standard_normal((self.n_out, self.n_in)) if self.centres is None
             else self.centres)
        return np.concatenate([C.ravel(), np.full(self.n_out, np.log(self.width))])

    def _unpack(self, p):
        """``(C (n_out, n_in), 2β (n_out,))``."""
        k = self.n_out * self.n_in
        return p[:k].reshape(self.n_out, self.n_in), np.exp(-2.0 * p[k:])

    def forward(self, p, x):
        C, beta2 = self._unpack(p)
        d = x @ C.T
        d *= -2.0
        d += np.einsum("bi,bi->b", x, x)[:, None]
        d += np.einsum("ji,ji->j", C, C)
        y = d * (-0.5 * beta2)
        np.exp(y, out=y)
        return y, (x, d, y)

    def backward(self, p, cache, ybar, *, need_input=True, need_params=True):
        x, d, y = cache
        C, beta2 = self._unpack(p)
        q = ybar * y
        q *= beta2
        xbar = None
        if need_input:
            xbar = q @ C
            xbar -= x * q.sum(axis=-1, keepdims=True)
        pbar = None
        if need_params:
            qs = _sum_leading(q)
            gC = qs.T @ x
            gC -= C * qs.sum(axis=0)[:, None]
            pbar = np.concatenate([gC.ravel(), np.einsum("bj,bj->j", qs, d)])
        return xbar, pbar

    def rforward(self, p, cache, rx):
        x, d, y = cache
        C, beta2 = self._unpack(p)
        rd = rx @ C.T
        rd -= np.einsum("...bi,bi->...b", rx, x)[..., None]
        rd *= -2.0
        ry = rd * y
        ry *= -0.5 * beta2
        return ry, (rx, rd, ry)

    def rbackward(self, p, cache, rcache, ybar, rybar, *, need_input=True):
        x, d, y = cache
        rx, rd, ry = rcache
        C, beta2 = self._unpack(p)
        q = ybar * y
        q *= beta2
        rq = ybar * ry
        if rybar is not None:
            t = rybar * y
            if t.shape == rq.shape:
                rq += t
            else:  # rybar carries a direction axis that ybar and R{x} lack
                rq = rq + t
        rq *= beta2
        rxbar = None
        if need_input:
            # rq's leading shape is the broadcast of every seed's, so these fit in place
            rxbar = rq @ C
            rxbar -= rx * q.sum(axis=-1, keepdims=True)
            rxbar -= x * rq.sum(axis=-1, keepdims=True)
        rqs = _sum_leading(rq)
        gC = rqs.T @ x
        gC += contract(q, rx)
        gC -= C * rqs.sum(axis=0)[:, None]
        gs = np.einsum("bj,bj->j", rqs, d)
        gs += (q * rd).reshape(-1, self.n_out).sum(axis=0)
        return rxbar, np.concatenate([gC.ravel(), gs])
