"""The layer interface: one differentiable stage and its four passes.

A layer maps a batch ``x`` of shape ``(B, n_in)`` to ``y`` of shape ``(B, n_out)``
given its own slice ``p`` of the model's flat parameter vector. To take part in
J-prop it implements four passes (``docs/concepts/jprop.md`` derives them):

=============  =======================================================================
forward        ``y = f(x; p)``; returns ``y`` and a cache for the other passes
backward       ``x̄ = (∂y/∂x)ᵀ ȳ`` and ``p̄ = (∂y/∂p)ᵀ ȳ`` (summed over the batch)
R-forward      ``R{y} = (∂y/∂x) R{x}``: the directional derivative along ``R{x}``
R-backward     ``R{x̄}`` and ``R{p̄}``: the derivatives of the backward pass's outputs
               along the same input-space direction, given ``ȳ`` and ``R{ȳ}``
=============  =======================================================================

Direction axis
--------------
Arrays from the forward pass (``x``, the cache) have shape ``(B, ·)``. Adjoints and
R-values may carry one extra leading *direction* axis, ``(K, B, ·)``, so that K
seeds (the m unit vectors of an exact Frobenius norm, K random probes, ...) run as
one batched pass. Layers broadcast the forward cache against that axis; parameter
gradients are summed over both the direction and the batch axes. The helper
:func:`contract` does that sum for the common ``aᵀ b`` case.

Optional fast paths
-------------------
The four passes above are all a layer needs. Built-in layers also opt in to two
speed-ups that the pass runners use only when a layer declares them:

* ``uses_workspace = True``: every pass accepts a keyword ``ws`` (a
  :class:`~jdyn.layers.workspace.Workspace` or None) and writes its outputs into
  arrays from it instead of fresh ones (see :mod:`jdyn.layers.workspace` for why).
* ``sums_directions = True``: ``rbackward`` accepts a keyword ``summed``. With
  ``summed=True``, ``ybar`` and the R-cache carry the direction axis but ``rybar``
  is the *sum* over directions of ``R{ȳ}`` (shape ``(B, n_out)`` or None) and the
  layer returns ``R{x̄}`` summed over directions, ``(B, n_in)``. This is exact because
  ``R{x̄}`` is affine in ``R{ȳ}`` with a direction-free coefficient; it lets a runner
  that only wants the parameter gradient skip a product per direction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

__all__ = ["Layer", "contract"]


def contract(a: np.ndarray, b: np.ndarray, out=None) -> np.ndarray:
    """``Σ aᵀ b`` over every leading axis: ``(…, B, p)`` and ``(…, B, q)`` → ``(p, q)``.

    When only one operand has the direction axis, it is summed first, so the
    product is one ``(p, B) @ (B, q)`` matrix product instead of K of them.
    ``out``: optional ``(p, q)`` array to write into.
    """
    if a.ndim == b.ndim == 2:
        return np.matmul(a.T, b, out=out)
    if a.ndim > b.ndim:
        a = a.sum(axis=0)
    elif b.ndim > a.ndim:
        b = b.sum(axis=0)
    a = a.reshape(-1, a.shape[-1]).T
    b = b.reshape(-1, b.shape[-1])
    return a @ b if out is None else np.matmul(a, b, out=out)


class Layer(ABC):
    """Base class of every layer.

    Subclasses set ``n_in``, ``n_out`` and ``n_params`` in ``__init__`` and
    implement the four passes. ``p`` is always this layer's slice of the model's
    flat parameter vector, shape ``(n_params,)``; the layer documents its layout.
    ``jdyn.check_layer`` tests a new layer's passes against finite differences.
    """

    n_in: int
    n_out: int
    n_params: int = 0
    #: Optional fast paths (module docstring); a user layer leaves both False.
    uses_workspace: bool = False
    sums_directions: bool = False

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """Initial parameters, shape ``(n_params,)``."""
        return np.zeros(self.n_params)

    @abstractmethod
    def forward(self, p, x):
        """``x`` (B, n_in) → ``(y, cache)`` with ``y`` (B, n_out)."""

    @abstractmethod
    def backward(self, p, cache, ybar, *, need_input=True, need_params=True):
        """``ȳ`` (…, B, n_out) → ``(x̄, p̄)``: x̄ (…, B, n_in) or None, p̄ (n_params,) or None."""

    @abstractmethod
    def rforward(self, p, cache, rx):
        """``R{x}`` (…, B, n_in) → ``(R{y}, rcache)`` with R{y} (…, B, n_out)."""

    @abstractmethod
    def rbackward(self, p, cache, rcache, ybar, rybar, *, need_input=True):
        """``(ȳ, R{ȳ})`` → ``(R{x̄}, R{p̄})``.

        ``ybar`` is the adjoint this layer received in the backward pass and
        ``rybar`` its R-value, or ``None`` when that is zero (the usual seed at the
        model's output), which lets layers skip work.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_in={self.n_in}, n_out={self.n_out})"
