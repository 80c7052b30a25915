"""Batch forms of per-state user functions, found once at construction.

A function written for one state ``x`` of shape (d,) often works unchanged on ``d``
coordinates that are each a vector of ``k`` states, because it only does arithmetic and
numpy ufuncs on ``x[i]``. Two such layouts are tried, in order, and kept only if they
reproduce the per-state loop on a few test states (to 1e-13 relative):

* ``"columns"``: ``fn(X.T)`` with ``X.T`` of shape (d, k), the output's last axis the
  batch (``np.array([1 - a * x[0]**2 + x[1], b * x[0]])`` does this);
* ``"lanes"``: ``fn(x)`` with ``x`` an object array of ``d`` :class:`Lanes` (each holds
  ``k`` values and behaves like a scalar), so an output that mixes constants and
  state-dependent entries (``np.array([[-2 * a * x[0], 1.0], [b, 0.0]])``) still builds;
* ``"loop"``: a Python loop over the states, for everything else (``float(x[0])``,
  ``math.cos``, branches on the state).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = ["Lanes", "vectorise"]

_TOLERANCE = 1e-13


class Lanes(NDArrayOperatorsMixin):
    """``k`` values of one coordinate that act as a single scalar in user code.

    Arithmetic and numpy ufuncs act elementwise on the values; truth tests, ``float()``
    and indexing are refused (the per-state code then falls back to a loop).
    """

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        if any(isinstance(x, np.ndarray) and x.ndim for x in inputs):
            # An array operand (np.array([...]) * x[0]): let numpy loop over its
            # elements as objects, with this Lanes boxed as one object.
            return ufunc(*(x.astype(object) if isinstance(x, np.ndarray) else _boxed(x)
                           for x in inputs))
        out = ufunc(*(x.v if isinstance(x, Lanes) else x for x in inputs))
        return tuple(Lanes(o) for o in out) if isinstance(out, tuple) else Lanes(out)

    def __getattr__(self, name):
        # numpy applies a ufunc to an object array by calling the method of that name
        # on each element (np.sin(x) -> x[i].sin()).
        ufunc = getattr(np, name, None)
        if isinstance(ufunc, np.ufunc) and ufunc.nin == 1:
            return lambda: Lanes(ufunc(self.v))
        raise AttributeError(name)

    def __bool__(self):
        raise TypeError("a batch of states has no single truth value")


def _boxed(value):
    box = np.empty((), dtype=object)
    box[()] = value
    return box


class _Columns:
    """``fn(X.T)`` with the batch on the output's last axis."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, X, *extra):
        return np.moveaxis(np.asarray(self.fn(X.T, *extra)), -1, 0)


class _LanesBatch:
    """``fn`` on coordinates that are :class:`Lanes`, expanded to (k,) + out_shape."""

    def __init__(self, fn, out_shape):
        self.fn, self.out_shape = fn, out_shape

    def __call__(self, X, *extra):
        x = np.empty(X.shape[1], dtype=object)
        for i in range(X.shape[1]):
            x[i] = Lanes(X[:, i])
        out = np.asarray(self.fn(x, *extra), dtype=object)
        if out.shape != self.out_shape:
            raise ValueError(f"lanes output has shape {out.shape}")
        flat = [e.v if isinstance(e, Lanes) else e for e in out.ravel()]
        dtype = np.result_type(*(np.asarray(e).dtype for e in flat))
        res = np.empty((X.shape[0], len(flat)), dtype=dtype)
        for j, e in enumerate(flat):
            res[:, j] = e
        return res.reshape((X.shape[0],) + self.out_shape)


class _Loop:
    """A Python loop of ``fn`` over the states."""

    def __init__(self, fn, out_shape):
        self.fn, self.out_shape = fn, out_shape

    def __call__(self, X, *extra):
        first = np.asarray(self.fn(X[0], *extra)) if X.shape[0] else np.zeros(self.out_shape)
        out = np.empty((X.shape[0],) + self.out_shape, dtype=np.result_type(first, np.float64))
        for i, x in enumerate(X):
            out[i] = self.fn(x, *extra)
        return out


def _agrees(candidate, X, reference, extra):
    with np.errstate(all="ignore"):
        try:
            out = np.asarray(candidate(X, *extra), dtype=np.float64)
        # The candidate layouts are guesses: any failure of user code on them only
        # means "not this layout" (the per-state loop is used instead).
        except Exception:
            return False
    if out.shape != reference.shape or not np.isfinite(out).all():
        return False
    scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
    return bool(np.all(np.abs(out - reference) <= _TOLERANCE * scale))


def vectorise(fn, X_test, reference, extra=(), *, loop_fn=None, out_shape=None):
    """The fastest batch form of a per-state function that reproduces it.

    Parameters
    ----------
    fn : callable
        ``fn(x, *extra)`` on one state, shape (d,) -> ``out_shape``.
    X_test : numpy.ndarray, shape (m, d)
        Distinct test states (``m != d``, so that a transposed output cannot pass).
    reference : numpy.ndarray of shape (m,) + out_shape, or None
        ``fn`` evaluated state by state at ``X_test``; ``None`` (the function failed
        there) leaves the loop.
    extra : tuple
        Further arguments at the test states (the time of a forced flow); the batch
        form takes them at every call, ``batch(X, *extra)``.
    loop_fn : callable, optional
        What the loop calls per state (default ``fn``; e.g. a checked wrapper).
    out_shape : tuple, optional
        Needed only when ``reference`` is None.

    Returns
    -------
    batch : callable
        ``batch(X, *extra)``, (k, d) -> (k,) + out_shape; real or complex like X.
    mode : str
        ``"columns"``, ``"lanes"`` or ``"loop"`` (see the module docstring).
    """
    loop_fn = fn if loop_fn is None else loop_fn
    if reference is None:
        return _Loop(loop_fn, tuple(out_shape)), "loop"
    out_shape = reference.shape[1:]
    for mode, candidate in (("columns", _Columns(fn)), ("lanes", _LanesBatch(fn, out_shape))):
        if _agrees(candidate, X_test, reference, extra):
            return candidate, mode
    return _Loop(loop_fn, out_shape), "loop"
