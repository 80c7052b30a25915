"""The fused runner of a stack made only of dense and elementwise layers (the MLP).

:class:`Sequential` runs each layer's pass methods in turn, which costs per-layer
Python dispatch (keyword dicts, parameter unpacking, direction bookkeeping) that
dominated small batches: about two thirds of a 2-10-10-1 gradient at B = 100. For a
chain of :class:`~jdyn.layers.Dense` and built-in :class:`~jdyn.layers.Activation`
layers, :class:`Chain` runs the four passes as one loop over pre-bound weight views,
writing gradients straight into the flat vector. The arithmetic is the layers' own:
both call the kernels of :mod:`jdyn.layers._kernels` (and the activations' ``g``,
``g'``, ``g''``), so there is one spelling of each pass.

Tapes use the layers' cache layout (a dense layer keeps its input, an activation
``[x, y, g', g'']``), with one entry per *step*; identity activations are no steps.
"""

from __future__ import annotations

import numpy as np

from ..layers import Activation, Dense, Identity, Tanh
from ..layers._kernels import affine, dense_grads, dense_rgrads, gate, times, times_t
from ..layers.activations import _bshape
from ..layers.workspace import scratch

__all__ = ["Chain", "fusable"]

_PASSES = ("backward", "rforward", "rbackward")


def fusable(layer) -> bool:
    """Whether ``layer`` is a dense or elementwise layer whose passes are the built-in ones
    (a subclass that overrides a pass runs layer by layer)."""
    cls = type(layer)
    if isinstance(layer, Dense):
        return all(getattr(cls, m) is getattr(Dense, m) for m in _PASSES + ("forward",))
    if cls is Identity:
        return True
    return isinstance(layer, Activation) and not isinstance(layer, Identity) \
        and all(getattr(cls, m) in (getattr(Activation, m), getattr(Tanh, m))
                for m in _PASSES + ("forward",)) \
        and cls._second in (Activation._second, Tanh._second)


class Chain:
    """Forward, backward, R-forward and R-backward passes of a dense/elementwise stack.

    Parameters
    ----------
    layers : sequence of Layer
        Each one :func:`fusable`.
    views : sequence of ndarray
        Each layer's parameter view into the model's flat vector (kept: the passes see
        later in-place changes of the parameters).
    slices : sequence of slice
        Each layer's place in the flat vector (where its gradient goes).
    n_params : int
    """

    def __init__(self, layers, views, slices, n_params):
        self.n_params = n_params
        #: One step per non-identity layer: (W, b, gradient slice, None) for a dense
        #: layer, (None, None, layer index, activation) for an elementwise one.
        self.steps = []
        for l, (layer, p, s) in enumerate(zip(layers, views, slices)):
            if isinstance(layer, Dense):
                W, b = layer._unpack(p)
                self.steps.append((W, b, (s.start, s.start + W.size, s.stop), None, l))
            elif not isinstance(layer, Identity):
                self.steps.append((None, None, None, layer, l))

    @staticmethod
    def _grad_views(grad, bounds, shape):
        a, k, e = bounds
        return grad[a:k].reshape(shape), grad[k:e]

    def forward(self, X, ws=None):
        """``X`` (B, n_in) → ``(Y, caches)``; ``ws`` the model's per-layer workspaces or None."""
        caches = []
        z = X
        for W, b, _, act, l in self.steps:
            w = None if ws is None else ws[l]
            if act is None:
                caches.append(z)
                z = affine(z, W, b, scratch(w, "y", (len(z), W.shape[0])))
            else:
                z, cache = act.forward(None, z, ws=w)
                caches.append(cache)
        return z, caches

    def backward(self, caches, ws, ybar, need_input, need_params):
        """``ȳ`` (…, B, n_out) → ``(x̄ or None, gradient or None, ybars)``."""
        grad = np.empty(self.n_params) if need_params else None
        ybars = [None] * len(self.steps)
        for i in range(len(self.steps) - 1, -1, -1):
            W, _, bounds, act, l = self.steps[i]
            w = None if ws is None else ws[l]
            ybars[i] = ybar
            wanted = need_input or i > 0
            if act is not None:
                d1 = caches[i][2]
                ybar = gate(ybar, d1, scratch(w, "xbar", _bshape(ybar, d1))) if wanted \
                    else None
                continue
            if need_params:
                dense_grads(ybar, caches[i], *self._grad_views(grad, bounds, W.shape))
            ybar = times(ybar, W, scratch(w, "xbar", ybar.shape[:-1] + (W.shape[1],))) \
                if wanted else None
        return ybar, grad, ybars

    def rforward(self, caches, ws, rx):
        """``R{x}`` (…, B, n_in) → ``(R{y}, rcaches)``."""
        rcaches = []
        for i, (W, _, _, act, l) in enumerate(self.steps):
            w = None if ws is None else ws[l]
            rcaches.append(rx)
            if act is None:
                rx = times_t(rx, W, scratch(w, "ry", rx.shape[:-1] + (W.shape[0],)))
            else:
                rx = gate(rx, caches[i][2], scratch(w, "ry", _bshape(rx, caches[i][2])))
        return rx, rcaches

    def rbackward(self, caches, rcaches, ybars, ws, rybar, need_input):
        """``R{ȳ}`` (None: zero) → ``(R{x̄} or None, R{gradient})``.

        When only the gradient is wanted and the seeds carry a direction axis, the pass
        carries ``R{ȳ}`` summed over the directions (:mod:`jdyn.layers.base`, "Optional
        fast paths"): every step's ``R{x̄}`` is affine in it with a direction-free
        coefficient, so one (B, ·) product replaces K of them.
        """
        top = ybars[-1]
        summed = (not need_input and top.ndim == 3 and top.shape[0] > 1
                  and (rybar is None or rybar.ndim == 3))
        if summed and rybar is not None:
            rybar = rybar.sum(axis=0)
        grad = np.empty(self.n_params)
        for i in range(len(self.steps) - 1, -1, -1):
            W, _, bounds, act, l = self.steps[i]
            w = None if ws is None else ws[l]
            ybar, rx = ybars[i], rcaches[i]
            if act is not None:
                rybar = act.rbackward(None, caches[i], rx, ybar, rybar, ws=w, summed=summed)[0]
                continue
            gW, gb = self._grad_views(grad, bounds, W.shape)
            dense_rgrads(ybar, rx, rybar, caches[i], gW, gb, scratch(w, "rW2", W.shape))
            if rybar is not None and (need_input or i > 0):
                rybar = times(rybar, W, scratch(w, "rxbar", rybar.shape[:-1] + (W.shape[1],)))
            else:
                rybar = None
        return rybar, grad
