"""The functions behind a user-defined :class:`~jdyn.systems.Map` or ``Flow``: checked
once at construction, then wrapped so that every later failure names the function and
the state, with batch forms and a Jacobian supplied where the user gave none."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from jdyn.systems._numerical_jacobian import NumericalJacobian
from jdyn.systems._vectorise import vectorise

__all__ = ["UserFunctionError", "SystemFunctions", "build_functions", "check_signature",
           "describe_state"]

#: Relative size of the offsets from x0 of the test states (batch layouts, Jacobian
#: method): small enough to stay in the function's domain near x0.
_TEST_OFFSET = 1e-3


class UserFunctionError(ValueError):
    """A user's step/rhs/jacobian raised, or returned the wrong shape or NaN/inf."""


def describe_state(x, t=()):
    """``x = [...]`` (at most 8 coordinates, repr precision) and ``t`` if given."""
    x = np.asarray(x).ravel()
    coords = ", ".join(repr(float(v)) for v in x[:8].real) + (", ..." if x.size > 8 else "")
    return f"x = [{coords}]" + (f", t = {float(t[0])!r}" if t else "")


def _binds(sig, n):
    try:
        sig.bind(*range(n))
    except TypeError:
        return False
    return True


def check_signature(fn, what, time_dependent):
    """``TypeError`` at construction if ``fn`` cannot take ``(x, t)`` (time-dependent) or
    needs ``(x, t)`` when the flow is said to be autonomous."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: checked by calling
        return
    if time_dependent and not _binds(sig, 2):
        raise TypeError(f"{what} of a time-dependent system must accept (x, t); "
                        f"its signature is {what}{sig}")
    if not time_dependent and not _binds(sig, 1) and _binds(sig, 2):
        raise TypeError(f"{what}{sig} needs two arguments: for a forced flow "
                        f"rhs(x, t) pass time_dependent=True")


class _Guarded:
    """``fn`` with its exceptions and output shape turned into errors naming it (a class,
    not a closure, so that systems of module-level functions pickle)."""

    def __init__(self, fn, system, what, out_shape, batch):
        self.fn, self.system, self.what = fn, system, what
        self.out_shape, self.batch = out_shape, batch

    def __call__(self, x, *t):
        try:
            out = self.fn(x, *t)
        except (OverflowError, FloatingPointError):  # divergence, handled by callers
            raise
        # Re-raised with the function and the state named (the cause is chained).
        except Exception as exc:
            where = (f"a batch of {len(x)} states (first {describe_state(x[0], t)})"
                     if self.batch else describe_state(x, t))
            raise UserFunctionError(f"{self.system}: {self.what} raised "
                                    f"{type(exc).__name__} ({exc}) at {where}") from exc
        try:
            out = np.asarray(out)
        except ValueError:  # ragged nested sequences
            out = np.asarray(out, dtype=object)
        expected = ((len(x),) if self.batch else ()) + self.out_shape
        if out.dtype.kind not in "biufc":
            raise UserFunctionError(f"{self.system}: {self.what} must return a real array of "
                                    f"shape {expected}; got {type(out).__name__} of dtype "
                                    f"{out.dtype}")
        if out.shape != expected:
            raise UserFunctionError(f"{self.system}: {self.what} returned shape {out.shape} "
                                    f"for {'states' if self.batch else 'a state'} of shape "
                                    f"{np.shape(x)}; expected {expected}")
        return out


class _OneOfBatch:
    """A single-state function from a batch one: ``x`` (d,) -> ``batch(x[None])[0]``."""

    def __init__(self, batch):
        self.batch = batch

    def __call__(self, x, *t):
        return self.batch(x[None], *t)[0]


def _first_value(fn, x0, extra, what, system):
    """Evaluate at x0 (as the start of every orbit, it must be finite there)."""
    out = fn(x0, *extra)
    if not np.isfinite(out).all():
        raise UserFunctionError(f"{system}: {what} returned NaN or inf at "
                                f"{describe_state(x0, extra)} (its first evaluation, at x0)")
    return out


@dataclass
class SystemFunctions:
    """Checked single-state and batch forms of a system's function and Jacobian.

    ``f1(x, *t)``: (d,) -> (d,); ``fb(X, *t)``: (k, d) -> (k, d); ``j1``/``jb`` the
    same with (d, d) outputs. ``modes`` says how each batch form was obtained
    ("given", "columns", "lanes", "loop", "numerical").
    """

    f1: object
    fb: object
    j1: object
    jb: object
    modes: dict
    numerical_jacobian: NumericalJacobian | None


def _test_states(x0):
    d = x0.size
    m = d + 2
    offsets = np.random.default_rng(0).standard_normal((m, d))
    return x0 + _TEST_OFFSET * np.maximum(1.0, np.abs(x0)) * offsets


def _pair(one, batch, x0, extra, what, system, out_shape):
    """(single-state, batch, mode) from whichever of ``one``/``batch`` is given."""
    g1 = _Guarded(one, system, what, out_shape, False) if one is not None else None
    gb = _Guarded(batch, system, f"{what}_batch", out_shape, True) if batch is not None else None
    if gb is not None:
        first = _first_value(_OneOfBatch(gb), x0, extra, f"{what}_batch", system)
        if g1 is None:
            return _OneOfBatch(gb), gb, "given"
        single = _first_value(g1, x0, extra, what, system)
        if not np.allclose(single, first, rtol=1e-10, atol=1e-12):
            raise UserFunctionError(f"{system}: {what} and {what}_batch disagree at "
                                    f"{describe_state(x0, extra)}")
        return g1, gb, "given"
    _first_value(g1, x0, extra, what, system)
    X = _test_states(x0)
    with np.errstate(all="ignore"):
        try:
            reference = np.array([one(x, *extra) for x in X], dtype=np.float64)
        # Test states off x0 that the function refuses only rule out batch layouts.
        except Exception:
            reference = None
    if reference is None or reference.shape != (X.shape[0],) + out_shape:
        fb, mode = vectorise(one, X, None, extra, loop_fn=g1, out_shape=out_shape)
    else:
        fb, mode = vectorise(one, X, reference, extra, loop_fn=g1)
    return g1, (_Guarded(fb, system, what, out_shape, True) if mode != "loop" else fb), mode


def build_functions(fn, fn_batch, jac, jac_batch, x0, system, fn_name, time_dependent):
    """Checked functions of a user system (see :class:`SystemFunctions`).

    Raises ``UserFunctionError`` (a ``ValueError``) if a function fails at ``x0``: wrong
    shape, NaN/inf, or an exception; ``TypeError`` for a wrong signature.
    """
    for f, what in ((fn, fn_name), (fn_batch, f"{fn_name}_batch"), (jac, "jacobian"),
                    (jac_batch, "jacobian_batch")):
        if f is not None:
            check_signature(f, what, time_dependent)
    d = x0.size
    extra = (0.0,) if time_dependent else ()
    f1, fb, fmode = _pair(fn, fn_batch, x0, extra, fn_name, system, (d,))
    if jac is None and jac_batch is None:
        numerical = NumericalJacobian(fb, _test_states(x0), extra)
        jb = _Guarded(numerical, system, "numerical jacobian", (d, d), True)
        _first_value(_OneOfBatch(jb), x0, extra, "numerical jacobian", system)
        return SystemFunctions(f1, fb, _OneOfBatch(jb), jb,
                               {fn_name: fmode, "jacobian": "numerical"}, numerical)
    j1, jb, jmode = _pair(jac, jac_batch, x0, extra, "jacobian", system, (d, d))
    return SystemFunctions(f1, fb, j1, jb, {fn_name: fmode, "jacobian": jmode}, None)
