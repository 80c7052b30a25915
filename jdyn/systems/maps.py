"""Built-in maps with analytic Jacobians and vectorised batch evaluation.

Reference values (``system.reference``) come from the literature (Sprott 2003;
Grassberger & Procaccia 1983) and are attached only at the literature parameters;
exact identities (sums of exponents) are attached at any parameters.

Keys of ``reference`` (each present only when known): ``lyapunov_exponents`` (tuple,
descending, natural log, per iteration), ``lyapunov_sum`` (exact), ``kaplan_yorke``,
``correlation_dim`` and ``correlation_dim_uncertainty``, ``source``.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from jdyn._validation import as_float_array
from jdyn.systems.base import Map

__all__ = ["Henon", "Logistic", "Tent", "Ikeda", "real_param"]


def real_param(value, name: str) -> float:
    """A finite real parameter as float, or ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"parameter {name} must be a finite real number; got {value!r}")
    return float(value)


class _Builtin:
    """Mixin of the built-in systems: vectorised ``_f(X)``/``_J(X)`` on (k, d) arrays.

    Used as ``class _BuiltinMap(_Builtin, Map)`` and ``class _BuiltinFlow(_Builtin, Flow)``.
    """

    _registry_name = ""
    defaults: dict = {}
    default_x0: tuple = ()

    def __init__(self, x0, **params):
        params = {key: real_param(value, key) for key, value in params.items()}
        for key, value in params.items():
            setattr(self, key, value)
        d = len(self.default_x0)
        x0 = self.default_x0 if x0 is None else as_float_array(x0, "x0", shape=(d,))
        super().__init__(self._fn_one, self._jac_one, x0,
                         name=self._registry_name, params=params, _trusted=True)
        literature = all(params[k] == v for k, v in self.defaults.items())
        #: Literature values and exact identities; see the module docstring for the keys.
        self.reference = self._reference(literature)

    def _fn_one(self, x):
        return self._f(x[None, :])[0]

    def _jac_one(self, x):
        return self._J(x[None, :])[0]

    def _batch(self, X):
        return as_float_array(X, "X", shape=(None, self.dim), finite=False)

    def jacobian_batch(self, X):
        """Jacobians, vectorised: ``X`` of shape (k, d) -> (k, d, d)."""
        return self._J(self._batch(X))

    def _reference(self, literature: bool) -> dict:
        return {}

    def delay_logdet(self, dim: int, lag: int):
        """Pointwise ``log|det J|`` of the delay map (``dim``, ``lag``) of an observed
        coordinate when the physics fixes it, else None."""
        return None


class _BuiltinMap(_Builtin, Map):
    def step_batch(self, X):
        """Next states, vectorised: ``X`` of shape (k, d) -> (k, d)."""
        return self._f(self._batch(X))


class Henon(_BuiltinMap):
    """Hénon map ``(x, y) -> (1 - a x^2 + y, b x)``; ``det J = -b`` everywhere.

    Parameters
    ----------
    a, b : float
        Defaults 1.4 and 0.3 (Hénon 1976).
    x0 : array_like of shape (2,), optional
        Defaults to a point on the attractor.

    Notes
    -----
    The attractor lies close to its basin boundary: with dynamical noise of std 0.005
    most orbits escape (to -inf) within a few thousand iterations, at 0.01 within a few
    hundred; 0.003 and below survive 10^4 iterations in our runs.
    """

    _registry_name = "henon"
    defaults = {"a": 1.4, "b": 0.3}
    default_x0 = (-0.20214346951087642, 0.29057510420634125)

    def __init__(self, a=1.4, b=0.3, *, x0=None):
        super().__init__(x0, a=a, b=b)

    def _fn_one(self, x):
        x0, x1 = float(x[0]), float(x[1])
        return np.array((1.0 - self.a * x0 * x0 + x1, self.b * x0))

    def _f(self, X):
        return np.stack([1.0 - self.a * X[:, 0] * X[:, 0] + X[:, 1], self.b * X[:, 0]], axis=1)

    def _J(self, X):
        J = np.zeros((X.shape[0], 2, 2))
        J[:, 0, 0] = -2.0 * self.a * X[:, 0]
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = self.b
        return J

    def delay_logdet(self, dim, lag):
        """``log|b|`` for dim 2, lag 1: the x-series obeys ``x[t+1] = 1 - a x[t]^2 +
        b x[t-1]`` (the y-series a map of the same form); None otherwise."""
        if dim == 2 and lag == 1 and self.b != 0:
            return math.log(abs(self.b))
        return None

    def _reference(self, literature):
        ref = {"lyapunov_sum": math.log(abs(self.b)) if self.b != 0 else -math.inf}
        if literature:
            ref.update(lyapunov_exponents=(0.41922, -1.62319), kaplan_yorke=1.25827,
                       correlation_dim=1.21, correlation_dim_uncertainty=0.01,
                       source="Sprott 2003 (exponents, D_KY); Grassberger & Procaccia "
                              "1983 (D2 1.21 +- 0.01; Sprott gives 1.220 +- 0.036)")
        return ref


class Logistic(_BuiltinMap):
    """Logistic map ``x -> r x (1 - x)``.

    Parameters
    ----------
    r : float
        Default 4 (fully chaotic on [0, 1], exponent ln 2). Orbits that leave [0, 1]
        (r > 4, or dynamical noise near the ends) run off to -inf.
    x0 : array_like of shape (1,), optional
    """

    _registry_name = "logistic"
    defaults = {"r": 4.0}
    default_x0 = (0.3,)

    def __init__(self, r=4.0, *, x0=None):
        super().__init__(x0, r=r)

    def _fn_one(self, x):
        v = float(x[0])
        return np.array((self.r * v * (1.0 - v),))

    def _f(self, X):
        return self.r * X * (1.0 - X)

    def _J(self, X):
        return (self.r * (1.0 - 2.0 * X))[:, :, None]

    def _reference(self, literature):
        if not literature:
            return {}
        return {"lyapunov_exponents": (math.log(2.0),), "lyapunov_sum": math.log(2.0),
                "kaplan_yorke": 1.0, "correlation_dim": 1.0,
                "source": "exact (conjugate to the tent map with slope 2); D2 converges slowly"}


class Tent(_BuiltinMap):
    """Tent map ``x -> mu min(x, 1 - x)``; ``|f'| = mu`` everywhere, exponent ``ln mu``.

    Parameters
    ----------
    mu : float
        Slope, default 1.99. At ``mu = 2`` every floating-point orbit collapses onto 0
        within about 55 iterations (each step shifts one bit out of the mantissa), so
        the default stays just below 2; ``mu = 2`` is allowed but warns.
    x0 : array_like of shape (1,), optional
    """

    _registry_name = "tent"
    defaults = {"mu": 1.99}
    default_x0 = (0.3,)

    def __init__(self, mu=1.99, *, x0=None):
        super().__init__(x0, mu=mu)
        if self.mu == 2.0:
            warnings.warn("tent map with mu = 2: floating-point orbits collapse to 0 within "
                          "about 55 iterations; use mu slightly below 2", RuntimeWarning,
                          stacklevel=2)

    def _fn_one(self, x):
        v = float(x[0])
        return np.array((self.mu * min(v, 1.0 - v),))

    def _f(self, X):
        return self.mu * np.minimum(X, 1.0 - X)

    def _J(self, X):
        return np.where(X < 0.5, self.mu, -self.mu)[:, :, None]

    def _reference(self, literature):
        if self.mu == 0:
            return {}
        lam = math.log(abs(self.mu))
        ref = {"lyapunov_exponents": (lam,), "lyapunov_sum": lam,
               "source": "exact: |f'| = mu everywhere"}
        if 1.0 < self.mu <= 2.0:
            ref["kaplan_yorke"] = 1.0
        return ref


class Ikeda(_BuiltinMap):
    """Ikeda map, in Sprott's form.

    ``t = k - p / (1 + x^2 + y^2)``,
    ``x -> a + u (x cos t - y sin t)``, ``y -> u (x sin t + y cos t)``.
    ``det J = u^2`` everywhere, so the exponents sum to ``2 ln u`` exactly.

    Parameters
    ----------
    u, a, k, p : float
        Defaults 0.9, 1.0, 0.4, 6.0 (chaotic attractor).
    x0 : array_like of shape (2,), optional
    """

    _registry_name = "ikeda"
    defaults = {"u": 0.9, "a": 1.0, "k": 0.4, "p": 6.0}
    default_x0 = (0.2253222572563749, -1.670890122348669)

    def __init__(self, u=0.9, a=1.0, k=0.4, p=6.0, *, x0=None):
        super().__init__(x0, u=u, a=a, k=k, p=p)

    def _fn_one(self, x):
        x0, x1 = float(x[0]), float(x[1])
        t = self.k - self.p / (1.0 + x0 * x0 + x1 * x1)
        c, s = math.cos(t), math.sin(t)
        return np.array((self.a + self.u * (x0 * c - x1 * s), self.u * (x0 * s + x1 * c)))

    def _f(self, X):
        x, y = X[:, 0], X[:, 1]
        t = self.k - self.p / (1.0 + x * x + y * y)
        c, s = np.cos(t), np.sin(t)
        return np.stack([self.a + self.u * (x * c - y * s), self.u * (x * s + y * c)], axis=1)

    def _J(self, X):
        x, y = X[:, 0], X[:, 1]
        q = 1.0 + x * x + y * y
        t = self.k - self.p / q
        c, s = np.cos(t), np.sin(t)
        tx, ty = 2.0 * self.p * x / q**2, 2.0 * self.p * y / q**2
        v, w = x * c - y * s, x * s + y * c
        J = np.empty((X.shape[0], 2, 2))
        J[:, 0, 0] = self.u * (c - tx * w)
        J[:, 0, 1] = self.u * (-s - ty * w)
        J[:, 1, 0] = self.u * (s + tx * v)
        J[:, 1, 1] = self.u * (c + ty * v)
        return J

    def _reference(self, literature):
        if self.u == 0:
            return {}
        ref = {"lyapunov_sum": 2.0 * math.log(abs(self.u)), "source": "exact: det J = u^2"}
        if literature:   # jdyn measures 0.5063 +- 0.0012, -0.7170 +- 0.0012 (2e4 steps)
            ref.update(lyapunov_exponents=(0.5076, -0.7183), kaplan_yorke=1.7067,
                       source="Sprott 2003 (exponents, D_KY); exact: det J = u^2 (sum)")
        return ref
