"""User-definable dynamical systems: :class:`Map` (discrete time) and :class:`Flow` (ODE).

A system is a function of a single state of shape ``(d,)`` plus its Jacobian of shape
``(d, d)``. The analysis layer only ever talks to this interface (``step``/``rhs``,
``jacobian`` and their ``*_batch`` forms), so built-in, user-defined and learned systems
all go through the same code.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from jdyn._validation import as_float_array, as_rng, check_int, check_positive
from jdyn.systems._functions import SystemFunctions, build_functions
from jdyn.systems._integrate import integrate_sampled

__all__ = ["Map", "Flow"]

# Divergence is looked for once per block of this many iterations: checking every
# iteration would cost as much as a cheap map itself.
_BLOCK = 1024


def _finite_real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    return float(value)


class _System:
    """Shared machinery of :class:`Map` and :class:`Flow` (``_fn_name`` is "step"/"rhs")."""

    _fn_name = "fn"
    is_flow = False

    def __init__(self, fn, jacobian, x0, name, params, *, fn_batch=None, jacobian_batch=None,
                 time_dependent=False, trusted=False):
        self._check_callables(fn, jacobian, fn_batch, jacobian_batch, x0)
        if x0 is None:
            raise ValueError("x0 is required: the default initial condition, shape (d,)")
        x0 = as_float_array(x0, "x0", ndim=1)
        if x0.size == 0:
            raise ValueError("x0 must have at least one coordinate; got shape (0,)")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string; got {name!r}")
        if params is not None and not isinstance(params, dict):
            raise ValueError(f"params must be a dict or None; got {type(params).__name__}")
        if not isinstance(time_dependent, bool):
            raise ValueError(f"time_dependent must be True or False; got {time_dependent!r}")
        self.x0 = x0.copy()
        self.dim = int(x0.size)
        self.name = name
        self.time_dependent = time_dependent
        self._params = dict(params or {})
        #: Known invariants (literature values, exact identities); built-ins fill it in.
        self.reference = {}
        if trusted:  # built-ins: right by construction, vectorised by their subclass
            fns = SystemFunctions(fn, None, jacobian, None, {}, None)
        else:
            fns = build_functions(fn, fn_batch, jacobian, jacobian_batch, self.x0, name,
                                  self._fn_name, time_dependent)
        self._f1, self._fb, self._j1, self._jb = fns.f1, fns.fb, fns.j1, fns.jb
        #: How each batch form was obtained: "given", "columns"/"lanes" (the per-state
        #: function applied to a whole batch, checked against it at construction),
        #: "loop" or "numerical". Empty for built-ins (vectorised by hand).
        self.batch_modes = fns.modes
        #: The :class:`NumericalJacobian` used when no Jacobian was given (its
        #: ``method`` and ``error_estimate``), else None.
        self.numerical_jacobian = fns.numerical_jacobian

    def _check_callables(self, fn, jacobian, fn_batch, jacobian_batch, x0):
        what = self._fn_name
        for f, label in ((fn, what), (fn_batch, f"{what}_batch"), (jacobian, "jacobian"),
                         (jacobian_batch, "jacobian_batch")):
            if f is not None and not callable(f):
                hint = (f" (x0 is the third argument: {type(self).__name__}({what}, "
                        "jacobian=None, x0=...))" if label == "jacobian" and x0 is None else "")
                raise ValueError(f"{label} must be callable or None; got "
                                 f"{type(f).__name__}{hint}")
        if fn is None and fn_batch is None:
            raise ValueError(f"{what} or {what}_batch must be given (a callable)")

    @property
    def params(self) -> dict:
        """The parameters, as a copy (build a new system to change them)."""
        return dict(self._params)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        sep = ", " if params else ""
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}{sep}{params})"

    # -- evaluation ---------------------------------------------------------------------
    def _state(self, x, name="x"):
        return as_float_array(x, name, shape=(self.dim,), finite=False)

    def _states(self, X):
        return as_float_array(X, "X", shape=(None, self.dim), finite=False)

    def _time(self, t):
        """``(t,)`` for a time-dependent system (``t`` required), ``()`` otherwise."""
        if not self.time_dependent:
            return ()
        if t is None:
            raise TypeError(f"{self.name} is time-dependent: pass the time t")
        return (_finite_real(t, "t"),)

    @staticmethod
    def _batch(fb, f1, X, t):
        if fb is not None:
            return fb(X, *t)
        return np.array([f1(x, *t) for x in X])  # a built-in without its batch override

    def jacobian(self, x, t=None):
        """Jacobian at one state: ``x`` of shape (d,) -> (d, d). ``t``: the time, for a
        time-dependent flow only."""
        return np.array(self._j1(self._state(x), *self._time(t)), dtype=np.float64)

    def jacobian_batch(self, X, t=None):
        """Jacobians at ``k`` states: ``X`` of shape (k, d) -> (k, d, d)."""
        X = self._states(X)
        if X.shape[0] == 0:
            return np.empty((0, self.dim, self.dim))
        return np.asarray(self._batch(self._jb, self._j1, X, self._time(t)), dtype=np.float64)

    def _fn_batch(self, X, t=None):
        X = self._states(X)
        if X.shape[0] == 0:
            return np.empty((0, self.dim))
        return np.asarray(self._batch(self._fb, self._f1, X, self._time(t)), dtype=np.float64)

    def _start(self, x0):
        return (self.x0 if x0 is None else as_float_array(x0, "x0", shape=(self.dim,))).copy()


class Map(_System):
    """A discrete-time system ``x[t+1] = step(x[t])``.

    Parameters
    ----------
    step : callable, optional
        ``step(x)`` maps a state of shape (d,) to the next state, shape (d,).
    jacobian : callable or None
        ``jacobian(x)`` returns ``d step / d x`` at ``x``, shape (d, d); entry ``[i, j]``
        is the derivative of output ``i`` with respect to input ``j``. ``None``: computed
        numerically (see Notes).
    x0 : array_like, shape (d,)
        Default initial condition (``d`` is taken from it). Required.
    name : str
        Used in messages and reports.
    params : dict, optional
        Parameters, for the record only.
    step_batch : callable, optional
        The vectorised form: ``step_batch(X)`` maps states (k, d) to (k, d). Given
        alone (``step=None``), it also serves single states.
    jacobian_batch : callable, optional
        ``jacobian_batch(X)``: (k, d) -> (k, d, d).

    Attributes
    ----------
    batch_modes : dict
        How the batch forms were obtained (see Notes).
    numerical_jacobian : NumericalJacobian or None
        Set when no Jacobian was given: its ``method`` ("complex-step" or "central")
        and ``error_estimate`` (relative).

    Notes
    -----
    **Checks.** Every given function is evaluated once at ``x0`` when the system is
    built: an exception, a wrong output shape or a NaN/inf there raises
    ``UserFunctionError`` (a ``ValueError``) naming the function and the state. Later
    calls check output shapes, and an exception names the function and the state too
    (overflow is left to the iteration, which treats it as divergence).

    **Batches.** Lyapunov spectra and many-orbit runs evaluate batches of states. A
    given ``step_batch``/``jacobian_batch`` is used as it is. Otherwise the per-state
    function is tried once on a whole batch, laid out as coordinates ``x[i]`` of
    ``k`` values each ("columns": ``step(X.T)``; or "lanes": each ``x[i]`` a scalar-like
    object, for outputs that mix constants and state-dependent entries), and that form
    is kept only if it reproduces the per-state function at test states near ``x0``
    to 1e-13; functions that branch on the state, call ``float()`` or ``math`` get a
    Python loop ("loop").

    **Numerical Jacobian** (``jacobian=None``): the complex step
    ``Im step(x + i h e_j) / h`` with ``h = 1e-20``, exact to rounding, if ``step``
    accepts complex input and agrees with central differences at test states near
    ``x0``; else central differences with ``h_j = eps^(1/3) max(1, |x_j|)``, whose
    error (truncation ``h^2 |third derivative| / 6`` plus rounding ``eps |f| / h``) is
    typically 1e-11 to 1e-9 relative; ``numerical_jacobian.error_estimate`` gives the
    estimate at the test states.
    """

    _fn_name = "step"
    is_flow = False

    def __init__(self, step=None, jacobian=None, x0=None, name="map", params=None, *,
                 step_batch=None, jacobian_batch=None, _trusted=False):
        super().__init__(step, jacobian, x0, name, params, fn_batch=step_batch,
                         jacobian_batch=jacobian_batch, trusted=_trusted)

    def step(self, x):
        """Next state: ``x`` of shape (d,) -> (d,). NaN/inf in ``x`` propagate."""
        return np.array(self._f1(self._state(x)), dtype=np.float64)

    def step_batch(self, X):
        """Next states of ``k`` states at once: ``X`` of shape (k, d) -> (k, d)."""
        return self._fn_batch(X)

    def trajectory(self, n, x0=None, transient=1000, rng=None, dynamical_noise=0.0):
        """Iterate the map.

        Parameters
        ----------
        n : int
            Number of states returned (>= 1).
        x0 : array_like of shape (d,), optional
            Initial condition; defaults to ``self.x0``.
        transient : int
            Iterations discarded first; row 0 of the result is the state after them
            (``x0`` itself when ``transient=0``).
        rng : None, int or numpy.random.Generator
            Source of the dynamical noise.
        dynamical_noise : float
            Standard deviation of Gaussian noise added to the state after every
            iteration, transient included: ``x[t+1] = step(x[t]) + dynamical_noise * e[t]``.

        Returns
        -------
        numpy.ndarray, shape (n, d)
            If the orbit becomes non-finite the remaining rows are NaN and a
            ``RuntimeWarning`` names the iteration.
        """
        n = check_int(n, "n", minimum=1)
        transient = check_int(transient, "transient", minimum=0)
        sigma = check_positive(dynamical_noise, "dynamical_noise", allow_zero=True)
        rng = as_rng(rng)
        x = self._start(x0)
        out = np.full((n, self.dim), np.nan)
        with np.errstate(all="ignore"):
            x, bad = self._iterate(x, transient, None, sigma, rng)
            if bad is None:
                out[0] = x
                _, bad = self._iterate(x, n - 1, out[1:], sigma, rng)
                if bad is not None:
                    bad = ("iteration", transient + bad + 1, bad + 1)
            else:
                bad = ("transient iteration", bad + 1, 0)
        if bad is not None:
            kind, step, row = bad
            warnings.warn(f"{self.name}: orbit diverged (non-finite state) at {kind} {step}; "
                          f"rows {row}..{n - 1} of the trajectory are NaN",
                          RuntimeWarning, stacklevel=2)
        return out

    def _iterate(self, x, steps, out, sigma, rng):
        """Apply the map ``steps`` times; store states in ``out`` if given.

        Returns the final state and ``None``, or the index of the first non-finite state.
        """
        fn = self._f1
        for start in range(0, steps, _BLOCK):
            m = min(_BLOCK, steps - start)
            buf = np.empty((m, self.dim))
            noise = sigma * rng.standard_normal((m, self.dim)) if sigma > 0 else None
            try:
                for j in range(m):
                    x = fn(x)
                    if noise is not None:
                        x = x + noise[j]
                    buf[j] = x
            except (OverflowError, FloatingPointError):
                buf[j:] = np.nan
            finite = np.isfinite(buf).all(axis=1)
            if out is not None:
                out[start:start + m] = buf
            if not finite.all():
                first = int(np.argmin(finite))
                if out is not None:
                    out[start + first:] = np.nan
                return x, start + first
            x = buf[-1].copy()
        return x, None


class Flow(_System):
    """A continuous-time system ``dx/dt = rhs(x)``, or ``rhs(x, t)`` if forced.

    Parameters
    ----------
    rhs : callable, optional
        ``rhs(x)`` (or ``rhs(x, t)`` with ``time_dependent=True``) maps a state of
        shape (d,) to its time derivative, shape (d,).
    jacobian : callable or None
        ``jacobian(x)`` (or ``jacobian(x, t)``) returns ``d rhs / d x``, shape (d, d).
        ``None``: computed numerically, as for :class:`Map`.
    x0 : array_like, shape (d,)
        Default initial condition (at ``t = 0``). Required.
    name : str
    params : dict, optional
    time_dependent : bool
        The functions take the time as a second argument. The state stays ``x``: a
        Lyapunov spectrum has ``d`` exponents, with no extra zero one for the phase of
        the forcing. A function that cannot take ``(x, t)`` raises ``TypeError`` here.
    rhs_batch : callable, optional
        The vectorised form, ``rhs_batch(X)`` or ``rhs_batch(X, t)``: (k, d) -> (k, d).
    jacobian_batch : callable, optional
        ``jacobian_batch(X)`` or ``jacobian_batch(X, t)``: (k, d) -> (k, d, d).

    Attributes
    ----------
    batch_modes, numerical_jacobian, time_dependent
        See :class:`Map`.

    Notes
    -----
    Same checks, batch forms and numerical Jacobian as :class:`Map`; the variational
    equations of ``k`` orbits then cost a few array operations per right-hand side
    call. Trajectories use scipy's ``solve_ivp`` with DOP853, time running from 0 at
    the initial condition.
    """

    _fn_name = "rhs"
    is_flow = True

    def __init__(self, rhs=None, jacobian=None, x0=None, name="flow", params=None, *,
                 time_dependent=False, rhs_batch=None, jacobian_batch=None, _trusted=False):
        super().__init__(rhs, jacobian, x0, name, params, fn_batch=rhs_batch,
                         jacobian_batch=jacobian_batch, time_dependent=time_dependent,
                         trusted=_trusted)

    def rhs(self, x, t=None):
        """Time derivative at one state: ``x`` of shape (d,) -> (d,); ``t`` for a
        time-dependent flow."""
        return np.array(self._f1(self._state(x), *self._time(t)), dtype=np.float64)

    def rhs_batch(self, X, t=None):
        """Time derivatives at ``k`` states (one time): ``X`` of shape (k, d) -> (k, d)."""
        return self._fn_batch(X, t)

    def divergence(self, x, t=None):
        """``div rhs`` at ``x`` (shape (d,)): the trace of the Jacobian, a float."""
        return float(np.trace(self.jacobian(x, t)))

    def trajectory(self, n, dt, x0=None, transient=100.0, rng=None, dynamical_noise=0.0,
                   rtol=1e-10, atol=1e-12):
        """Integrate the flow and sample it every ``dt``.

        Parameters
        ----------
        n : int
            Number of samples returned (>= 1).
        dt : float
            Sampling interval (> 0), in time units.
        x0 : array_like of shape (d,), optional
            Initial condition; defaults to ``self.x0``.
        transient : float
            Time discarded first (>= 0); row 0 is the state at ``t = transient``.
        rng : None, int or numpy.random.Generator
            Source of the dynamical noise.
        dynamical_noise : float
            Standard deviation of Gaussian noise added to the state at every sample,
            between deterministic integrations over ``dt``:
            ``x[k+1] = phi_dt(x[k]) + dynamical_noise * e[k]``. This is a noisy flow
            map, not an SDE: the noise does not scale with ``sqrt(dt)``. With noise the
            transient is ``ceil(transient / dt)`` such noisy steps.
        rtol, atol : float
            Tolerances of DOP853.

        Returns
        -------
        numpy.ndarray, shape (n, d)
            If integration fails or the state becomes non-finite, the remaining rows
            are NaN and a ``RuntimeWarning`` names the sample and time.
        """
        n = check_int(n, "n", minimum=1)
        dt = check_positive(dt, "dt")
        transient = check_positive(transient, "transient", allow_zero=True)
        sigma = check_positive(dynamical_noise, "dynamical_noise", allow_zero=True)
        rtol = check_positive(rtol, "rtol")
        atol = check_positive(atol, "atol")
        rng = as_rng(rng)
        x = self._start(x0)
        fn = self._f1
        fun = (lambda t, y: fn(y, t)) if self.time_dependent else (lambda t, y: fn(y))
        out, failure = integrate_sampled(fun, x, n, dt, transient, rtol, atol, sigma, rng)
        if failure is not None:
            row, t = failure
            where = (f"sample {row} (t = {t:.6g})" if row >= 0
                     else f"the transient (t = {t:.6g})")
            warnings.warn(f"{self.name}: orbit diverged or integration failed at {where}; "
                          f"rows {max(row, 0)}..{n - 1} of the trajectory are NaN",
                          RuntimeWarning, stacklevel=2)
        return out
