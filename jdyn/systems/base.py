"""User-definable dynamical systems: :class:`Map` (discrete time) and :class:`Flow` (ODE).

A system is a function of a single state of shape ``(d,)`` plus its Jacobian of shape
``(d, d)``. The analysis layer only ever talks to this interface (``step``/``rhs``,
``jacobian`` and their ``*_batch`` forms), so built-in, user-defined and learned systems
all go through the same code.
"""

from __future__ import annotations

import warnings

import numpy as np

from jdyn._validation import as_float_array, as_rng, check_int, check_positive
from jdyn.systems._integrate import integrate_sampled

__all__ = ["Map", "Flow"]

# Divergence is looked for once per block of this many iterations: checking every
# iteration would cost as much as a cheap map itself.
_BLOCK = 1024


class _System:
    """Shared machinery of :class:`Map` and :class:`Flow` (``_fn_name`` is "step"/"rhs")."""

    _fn_name = "fn"
    is_flow = False

    def __init__(self, fn, jacobian, x0, name, params, trusted=False):
        if not callable(fn):
            raise ValueError(f"{self._fn_name} must be callable; got {type(fn).__name__}")
        if not callable(jacobian):
            raise ValueError(f"jacobian must be callable; got {type(jacobian).__name__}")
        x0 = as_float_array(x0, "x0", ndim=1)
        if x0.size == 0:
            raise ValueError("x0 must have at least one coordinate; got shape (0,)")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string; got {name!r}")
        if params is not None and not isinstance(params, dict):
            raise ValueError(f"params must be a dict or None; got {type(params).__name__}")
        self._fn = fn
        self._jac = jacobian
        self.x0 = x0.copy()
        self.dim = int(x0.size)
        self.name = name
        self._params = dict(params or {})
        #: Known invariants (literature values, exact identities); built-ins fill it in.
        self.reference = {}
        # Built-ins are known to be right; user functions get checked on first use.
        self._trusted = trusted
        self._fn_ok = trusted
        self._jac_ok = trusted

    @property
    def params(self) -> dict:
        """The parameters, as a copy (build a new system to change them)."""
        return dict(self._params)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}{', ' if params else ''}{params})"

    # -- single-state evaluation, with checks on user functions ---------------------
    def _state(self, x, name="x"):
        return as_float_array(x, name, shape=(self.dim,), finite=False)

    def _checked(self, value, what, shape, first):
        try:
            out = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name}: {what} must return a real array of shape {shape}; "
                             f"got {type(value).__name__}") from None
        if out.shape != shape:
            raise ValueError(f"{self.name}: {what} returned shape {out.shape} for a state of "
                             f"shape ({self.dim},); expected {shape}")
        if first and not np.all(np.isfinite(out)):
            raise ValueError(f"{self.name}: {what} returned NaN or inf at its first call")
        return out

    def _eval_fn(self, x):
        if self._trusted:
            return self._fn(x)
        out = self._checked(self._fn(x), self._fn_name, (self.dim,), not self._fn_ok)
        self._fn_ok = True
        return out

    def _eval_jac(self, x):
        if self._trusted:
            return self._jac(x)
        out = self._checked(self._jac(x), "jacobian", (self.dim, self.dim), not self._jac_ok)
        self._jac_ok = True
        return out

    def _validate_at(self, x):
        """Check both user functions at ``x`` (the start of an orbit) once."""
        if not self._fn_ok:
            self._eval_fn(x)
        if not self._jac_ok:
            self._eval_jac(x)

    def jacobian(self, x):
        """Jacobian at one state: ``x`` of shape (d,) -> (d, d)."""
        return np.array(self._eval_jac(self._state(x)), dtype=np.float64)

    def jacobian_batch(self, X):
        """Jacobians at ``k`` states: ``X`` of shape (k, d) -> (k, d, d)."""
        X = as_float_array(X, "X", shape=(None, self.dim), finite=False)
        out = np.empty((X.shape[0], self.dim, self.dim))
        for i, x in enumerate(X):
            out[i] = self._eval_jac(x)
        return out

    def _fn_batch(self, X):
        X = as_float_array(X, "X", shape=(None, self.dim), finite=False)
        out = np.empty_like(X)
        for i, x in enumerate(X):
            out[i] = self._eval_fn(x)
        return out

    def _start(self, x0):
        x = self.x0 if x0 is None else as_float_array(x0, "x0", shape=(self.dim,))
        self._validate_at(x)
        return x.copy()


class Map(_System):
    """A discrete-time system ``x[t+1] = step(x[t])``.

    Parameters
    ----------
    step : callable
        ``step(x)`` maps a state of shape (d,) to the next state, shape (d,).
    jacobian : callable
        ``jacobian(x)`` returns ``d step / d x`` at ``x``, shape (d, d); entry ``[i, j]``
        is the derivative of output ``i`` with respect to input ``j``.
    x0 : array_like, shape (d,)
        Default initial condition (``d`` is taken from it).
    name : str
        Used in messages and reports.
    params : dict, optional
        Parameters, for the record only.

    Notes
    -----
    User functions are checked at their first call: a wrong output shape or a NaN/inf
    there raises ``ValueError`` naming the function. Output shapes are checked at every
    call. ``step_batch``/``jacobian_batch`` loop over the single-state functions here;
    built-in maps override them with vectorised numpy. So can you: a subclass whose
    ``step_batch(X)`` maps states (k, d) → (k, d) and ``jacobian_batch(X)`` gives
    (k, d, d) makes trajectories of many orbits and Lyapunov spectra run at NumPy speed
    (notebook 05 does this for a flow).
    """

    _fn_name = "step"
    is_flow = False

    def __init__(self, step, jacobian, x0, name="map", params=None, *, _trusted=False):
        super().__init__(step, jacobian, x0, name, params, _trusted)

    def step(self, x):
        """Next state: ``x`` of shape (d,) -> (d,). NaN/inf in ``x`` propagate."""
        return np.array(self._eval_fn(self._state(x)), dtype=np.float64)

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
        fn = self._fn if self._trusted else self._eval_fn
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
    """A continuous-time system ``dx/dt = rhs(x)`` (autonomous).

    Parameters
    ----------
    rhs : callable
        ``rhs(x)`` maps a state of shape (d,) to its time derivative, shape (d,).
    jacobian : callable
        ``jacobian(x)`` returns ``d rhs / d x``, shape (d, d).
    x0 : array_like, shape (d,)
        Default initial condition.
    name : str
    params : dict, optional

    Notes
    -----
    Same checking rules as :class:`Map`. Trajectories use scipy's ``solve_ivp`` with
    DOP853. As for maps, a subclass may override ``rhs_batch(X)`` ((k, d) → (k, d)) and
    ``jacobian_batch(X)`` ((k, d) → (k, d, d)) with vectorised code; the variational
    equations of many orbits then cost a few array operations per right-hand side call
    instead of a Python loop over states.
    """

    _fn_name = "rhs"
    is_flow = True

    def __init__(self, rhs, jacobian, x0, name="flow", params=None, *, _trusted=False):
        super().__init__(rhs, jacobian, x0, name, params, _trusted)

    def rhs(self, x):
        """Time derivative at one state: ``x`` of shape (d,) -> (d,)."""
        return np.array(self._eval_fn(self._state(x)), dtype=np.float64)

    def rhs_batch(self, X):
        """Time derivatives at ``k`` states: ``X`` of shape (k, d) -> (k, d)."""
        return self._fn_batch(X)

    def divergence(self, x):
        """``div rhs`` at ``x`` (shape (d,)): the trace of the Jacobian, a float."""
        return float(np.trace(self.jacobian(x)))

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
        fn = self._fn if self._trusted else self._eval_fn
        out, failure = integrate_sampled(lambda t, y: fn(y), x, n, dt, transient,
                                         rtol, atol, sigma, rng)
        if failure is not None:
            row, t = failure
            where = (f"sample {row} (t = {t:.6g})" if row >= 0
                     else f"the transient (t = {t:.6g})")
            warnings.warn(f"{self.name}: orbit diverged or integration failed at {where}; "
                          f"rows {max(row, 0)}..{n - 1} of the trajectory are NaN",
                          RuntimeWarning, stacklevel=2)
        return out
