"""Built-in flows with analytic Jacobians and vectorised batch evaluation.

Exponents in ``reference`` are per unit time (natural log); see :mod:`jdyn.systems.maps`
for the keys.
"""

from __future__ import annotations

import numpy as np

from jdyn.systems.base import Flow
from jdyn.systems.maps import _Builtin

__all__ = ["Lorenz", "Rossler"]


class _BuiltinFlow(_Builtin, Flow):
    def rhs_batch(self, X):
        """Time derivatives, vectorised: ``X`` of shape (k, d) -> (k, d)."""
        return self._f(self._batch(X))


class Lorenz(_BuiltinFlow):
    """Lorenz (1963) flow.

    ``x' = sigma (y - x)``, ``y' = x (rho - z) - y``, ``z' = x y - beta z``;
    ``div f = -(sigma + 1 + beta)`` everywhere.

    Parameters
    ----------
    sigma, rho, beta : float
        Defaults 10, 28, 8/3.
    x0 : array_like of shape (3,), optional
        Defaults to a point on the attractor.
    """

    _registry_name = "lorenz"
    defaults = {"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0}
    default_x0 = (12.75031402, 16.58236564, 27.99189936)

    def __init__(self, sigma=10.0, rho=28.0, beta=8.0 / 3.0, *, x0=None):
        super().__init__(x0, sigma=sigma, rho=rho, beta=beta)

    def _fn_one(self, x):
        a, b, c = float(x[0]), float(x[1]), float(x[2])
        return np.array((self.sigma * (b - a), a * (self.rho - c) - b, a * b - self.beta * c))

    def _f(self, X):
        x, y, z = X[:, 0], X[:, 1], X[:, 2]
        return np.stack([self.sigma * (y - x), x * (self.rho - z) - y, x * y - self.beta * z],
                        axis=1)

    def _J(self, X):
        x, y, z = X[:, 0], X[:, 1], X[:, 2]
        J = np.zeros((X.shape[0], 3, 3))
        J[:, 0, 0] = -self.sigma
        J[:, 0, 1] = self.sigma
        J[:, 1, 0] = self.rho - z
        J[:, 1, 1] = -1.0
        J[:, 1, 2] = -x
        J[:, 2, 0] = y
        J[:, 2, 1] = x
        J[:, 2, 2] = -self.beta
        return J

    def divergence(self, x):
        """``-(sigma + 1 + beta)``, the same at every state ``x`` of shape (3,)."""
        self._state(x)
        return -(self.sigma + 1.0 + self.beta)

    def _reference(self, literature):
        ref = {"lyapunov_sum": -(self.sigma + 1.0 + self.beta)}
        if literature:
            ref.update(lyapunov_exponents=(0.9056, 0.0, -14.5723), kaplan_yorke=2.06215,
                       correlation_dim=2.055, correlation_dim_uncertainty=0.004,
                       source="Sprott 2003 (exponents, D_KY; D2 2.068 +- 0.086); "
                              "D2 2.055 +- 0.004 from a long run (jdyn's measured baseline)")
        return ref


class Rossler(_BuiltinFlow):
    """Rössler (1976) flow.

    ``x' = -y - z``, ``y' = x + a y``, ``z' = b + z (x - c)``; ``div f = a + x - c``.

    Parameters
    ----------
    a, b, c : float
        Defaults 0.2, 0.2, 5.7.
    x0 : array_like of shape (3,), optional
        Defaults to a point on the attractor.

    Notes
    -----
    ``reference`` at the defaults: Sprott (2003), whose last digit is a best estimate.
    Their sum, -5.3229, is the time average of ``div f`` (-5.323 +- 0.004 over 10^4 time
    units in jdyn); jdyn's default spectrum over 500 time units gives a mean of 0.0696
    for the first and a sum of -5.3226 over 20 seeds. A bounded non-stationary orbit has
    one exponent exactly 0.
    """

    _registry_name = "rossler"
    defaults = {"a": 0.2, "b": 0.2, "c": 5.7}
    default_x0 = (-3.04178357, 6.06007579, 0.06830734)

    def __init__(self, a=0.2, b=0.2, c=5.7, *, x0=None):
        super().__init__(x0, a=a, b=b, c=c)

    def _reference(self, literature):
        if not literature:
            return {}
        return {"lyapunov_exponents": (0.0714, 0.0, -5.3943), "kaplan_yorke": 2.0132,
                "source": "Sprott 2003 (exponents, D_KY)"}

    def _fn_one(self, x):
        p, q, r = float(x[0]), float(x[1]), float(x[2])
        return np.array((-q - r, p + self.a * q, self.b + r * (p - self.c)))

    def _f(self, X):
        x, y, z = X[:, 0], X[:, 1], X[:, 2]
        return np.stack([-y - z, x + self.a * y, self.b + z * (x - self.c)], axis=1)

    def _J(self, X):
        x, z = X[:, 0], X[:, 2]
        J = np.zeros((X.shape[0], 3, 3))
        J[:, 0, 1] = -1.0
        J[:, 0, 2] = -1.0
        J[:, 1, 0] = 1.0
        J[:, 1, 1] = self.a
        J[:, 2, 0] = z
        J[:, 2, 2] = x - self.c
        return J
