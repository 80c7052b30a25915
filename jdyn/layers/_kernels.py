"""The arithmetic of the dense and elementwise passes, as functions of plain arrays.

:class:`~jdyn.layers.Dense` and :class:`~jdyn.layers.Activation` call these for their
passes, and so does the fused runner of dense/elementwise chains
(:mod:`jdyn.models._chain`): one spelling of each formula, whichever runs it. Every
function takes an optional ``out`` array (or workspace arrays) so that callers decide
where results go; ``None`` lets NumPy allocate (and keep e.g. complex dtypes, which
the complex-step layer checks pass in).

Shapes: ``W`` is ``(n_out, n_in)``; activations ``a`` may carry a leading direction
axis, ``(…, B, ·)``.
"""

from __future__ import annotations

import numpy as np

from .base import contract

__all__ = ["affine", "times", "times_t", "dense_grads", "dense_rgrads", "gate",
           "gate_r"]


def affine(x, W, b, out=None):
    """``x Wᵀ + b``: (B, n_in) → (B, n_out)."""
    y = times_t(x, W, out)
    y += b
    return y


def times(a, W, out=None):
    """``a W``: (…, B, n_out) → (…, B, n_in), the input adjoint of a dense layer.

    With one output row this is an outer product, which ``matmul`` runs as a slow
    non-BLAS loop (inner dimension 1); the broadcast multiply gives the same numbers
    (each entry is one product either way) in about two thirds of the time.
    """
    if W.shape[0] == 1:
        return np.multiply(a, W[0], out=out)
    return np.matmul(a, W, out=out)


def times_t(a, W, out=None):
    """``a Wᵀ``: (…, B, n_in) → (…, B, n_out); one input column is a broadcast multiply
    (see :func:`times`)."""
    if W.shape[1] == 1:
        return np.multiply(a, W[:, 0], out=out)
    return np.matmul(a, W.T, out=out)


def dense_grads(ybar, x, gW, gb):
    """Weight and bias gradients ``Σ ȳᵀ x`` and ``Σ ȳ`` written into ``gW`` (n_out, n_in)
    and ``gb`` (n_out,); ``ybar`` may carry the direction axis (summed over)."""
    contract(ybar, x, out=gW)
    _column_sums(ybar, gb)


def dense_rgrads(ybar, rx, rybar, x, gW, gb, tmp=None):
    """R-gradients ``Σ ȳᵀ R{x} + Σ R{ȳ}ᵀ x`` and ``Σ R{ȳ}`` into ``gW``, ``gb``.

    ``rybar`` None means zero; it may be summed over directions already (the terms are
    linear in it). ``tmp``: optional (n_out, n_in) scratch for the second product.
    """
    contract(ybar, rx, out=gW)
    if rybar is None:
        gb[...] = 0.0
        return
    gW += contract(rybar, x, out=tmp)
    _column_sums(rybar, gb)


def _column_sums(a, out):
    """Sums of ``a`` (…, B, n) over every leading axis into ``out`` (n,)."""
    np.add.reduce(a if a.ndim == 2 else a.reshape(-1, out.shape[0]), axis=0, out=out)


def gate(a, d, out=None):
    """``a ⊙ g'``: the backward and R-forward passes of an elementwise layer."""
    return np.multiply(a, d, out=out)


def gate_r(ybar, rx, d2, rybar, d1, *, summed=False, out=None, sum_out=None, term_out=None):
    """``R{x̄} = ȳ ⊙ g'' ⊙ R{x} + R{ȳ} ⊙ g'`` of an elementwise layer.

    With ``summed=True`` the first product is summed over the direction axis before
    the (direction-free) ``g''`` factor and ``rybar`` is already summed, so the result
    is the direction sum, (B, n). ``rybar`` None means zero. ``out``, ``sum_out``,
    ``term_out``: optional arrays for the product, its direction sum and the second term.
    """
    r = np.multiply(ybar, rx, out=out)
    if summed and r.ndim == 3:
        r = np.sum(r, axis=0, out=sum_out)
    r *= d2
    if rybar is None:
        return r
    term = np.multiply(rybar, d1, out=term_out)
    # In place when shapes agree (the usual case); a new array when only one of the
    # seeds carries a direction axis.
    return r.__iadd__(term) if term.shape == r.shape else r + term
