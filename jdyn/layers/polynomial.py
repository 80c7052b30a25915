"""Fixed polynomial basis expansion: every monomial of total degree ≤ ``degree``.

A monomial of degree ``d ≥ 2`` is written as a sorted index tuple ``(i_1 ≤ … ≤ i_d)``
(``itertools.combinations_with_replacement`` order); it is its *parent*, the monomial
``(i_1, …, i_{d−1})`` of degree ``d − 1``, times ``x_{i_d}``. The layer evaluates that
recursion one degree at a time, and its four passes are those of a chain of
elementwise products ``m = m_parent · x_last``:

=============  ================================================================
R-forward      ``R{m} = R{m_parent} x_last + m_parent R{x_last}``
backward       ``m̄_parent += m̄ x_last`` and ``x̄_last += m̄ m_parent``, from the
               highest degree down
R-backward     the same recursion differentiated along ``R{x}``: first and second
               derivatives of every monomial without forming the Hessian tensor
=============  ================================================================

All children of one parent are contiguous in that order, so the sum into the parents
is ``numpy.add.reduceat``; the sum into ``x̄`` is a product with a fixed one-hot matrix.
The loops run over the degrees only (``degree − 1`` steps), never over samples. The
forward pass keeps each step's gathered factors ``(m_parent, x_last)`` (and the
R-forward pass their R-values), so the later passes do no gathering of their own.
"""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np

from .._validation import check_int
from .base import Layer

__all__ = ["PolynomialFeatures"]


class PolynomialFeatures(Layer):
    """All monomials of the inputs of total degree 1..``degree`` (and 0 if asked).

    Parameters
    ----------
    n_in : int
        Input dimension.
    degree : int
        Highest total degree, ≥ 1.
    include_bias : bool
        Put the constant monomial 1 first (default False: a following dense layer
        has its own bias).

    Attributes
    ----------
    powers : ndarray of int, shape (n_out, n_in)
        Exponent matrix: output ``t`` is ``Π_i x_i ** powers[t, i]``. The order is by
        degree, then ``combinations_with_replacement(range(n_in), d)`` within degree
        ``d``: for two inputs and degree 2, ``[1,] x0, x1, x0², x0 x1, x1²``.

    ``n_params = 0``; ``n_out = C(n_in + degree, degree)``, minus one without the
    constant.

    Examples
    --------
    >>> import numpy as np
    >>> from jdyn.layers import PolynomialFeatures
    >>> layer = PolynomialFeatures(2, degree=2)
    >>> layer.powers.tolist()
    [[1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    >>> layer.forward(np.empty(0), np.array([[2.0, 3.0]]))[0]
    array([[2., 3., 4., 6., 9.]])
    """

    n_params = 0

    def __init__(self, n_in: int, degree: int = 2, *, include_bias: bool = False):
        self.n_in = n = check_int(n_in, "n_in", minimum=1)
        self.degree = check_int(degree, "degree", minimum=1)
        self.include_bias = bool(include_bias)
        start = int(self.include_bias)
        combos = [(i,) for i in range(n)]
        all_combos = list(combos)
        self._first = slice(start, start + n)
        # per degree d ≥ 2: (parent block, own block, parent index, last index,
        # reduceat starts of each parent's children, one-hot (T_d, n_in) of last)
        self._steps = []
        prev = self._first
        for d in range(2, self.degree + 1):
            index = {c: k for k, c in enumerate(combos)}
            combos = list(combinations_with_replacement(range(n), d))
            parent = np.array([index[c[:-1]] for c in combos])
            last = np.array([c[-1] for c in combos])
            starts = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
            onehot = np.zeros((len(combos), n))
            onehot[np.arange(len(combos)), last] = 1.0
            block = slice(prev.stop, prev.stop + len(combos))
            self._steps.append((prev, block, parent, last, starts, onehot))
            all_combos += combos
            prev = block
        self._last_block = prev
        self.n_out = start + len(all_combos)
        powers = np.zeros((self.n_out, n), dtype=int)
        for t, c in enumerate(all_combos, start=start):
            np.add.at(powers[t], list(c), 1)
        self.powers = powers

    def __repr__(self) -> str:
        return (f"PolynomialFeatures(n_in={self.n_in}, degree={self.degree}, "
                f"include_bias={self.include_bias}, n_out={self.n_out})")

    def forward(self, p, x):
        y = np.empty(x.shape[:-1] + (self.n_out,), dtype=np.result_type(x, float))
        if self.include_bias:
            y[..., 0] = 1.0
        y[..., self._first] = x
        # the gathered factors are kept: every later pass needs them again
        factors = []
        for prev, block, parent, last, _, _ in self._steps:
            mp, xl = y[..., prev][..., parent], x[..., last]
            np.multiply(mp, xl, out=y[..., block])
            factors.append((mp, xl))
        return y, (x, factors)

    def _top_down(self, ybar, factors):
        """Adjoint ``m̄`` of each degree's block from the top: yields ``(k, m̄)`` for step
        ``k`` (degree ``k + 2``), then ``(None, m̄)`` for the degree-1 block."""
        mbar = ybar[..., self._last_block]
        for k in range(len(self._steps) - 1, -1, -1):
            yield k, mbar
            prev, _, _, _, starts, _ = self._steps[k]
            mbar = ybar[..., prev] + np.add.reduceat(mbar * factors[k][1], starts, axis=-1)
        yield None, mbar

    def backward(self, p, cache, ybar, *, need_input=True, need_params=True):
        pbar = np.empty(0) if need_params else None
        if not need_input:
            return None, pbar
        factors = cache[1]
        xbar = None
        for k, mbar in self._top_down(ybar, factors):
            term = mbar.copy() if k is None else (mbar * factors[k][0]) @ self._steps[k][5]
            xbar = term if xbar is None else xbar + term
        return xbar, pbar

    def rforward(self, p, cache, rx):
        x, factors = cache
        ry = np.empty(rx.shape[:-1] + (self.n_out,), dtype=np.result_type(rx, x))
        if self.include_bias:
            ry[..., 0] = 0.0
        ry[..., self._first] = rx
        rfactors = []
        for (prev, block, parent, last, _, _), (mp, xl) in zip(self._steps, factors):
            rmp, rxl = ry[..., prev][..., parent], rx[..., last]
            out = ry[..., block]
            np.multiply(rmp, xl, out=out)
            out += mp * rxl
            rfactors.append((rmp, rxl))
        return ry, rfactors

    def rbackward(self, p, cache, rfactors, ybar, rybar, *, need_input=True):
        if not need_input:
            return None, np.empty(0)
        factors = cache[1]
        # R{m̄} of the current block, None while it is zero
        rmbar = None if rybar is None else rybar[..., self._last_block]
        rxbar = None
        for k, mbar in self._top_down(ybar, factors):
            if k is None:
                if rmbar is not None:
                    rxbar = rmbar.copy() if rxbar is None else rxbar + rmbar
                break
            prev, _, _, _, starts, onehot = self._steps[k]
            (mp, xl), (rmp, rxl) = factors[k], rfactors[k]
            # R of  x̄_last += m̄ m_parent
            term = mbar * rmp
            if rmbar is not None:
                term = term + rmbar * mp  # not in place: the seeds' direction axes may differ
            term = term @ onehot
            rxbar = term if rxbar is None else rxbar + term
            # R of  m̄_parent = ȳ_parent + Σ_children m̄ x_last
            inner = mbar * rxl
            if rmbar is not None:
                inner = inner + rmbar * xl
            rmbar = np.add.reduceat(inner, starts, axis=-1)
            if rybar is not None:
                rmbar += rybar[..., prev]  # rmbar already spans every seed's direction axis
        return rxbar, np.empty(0)
