"""Jacobians of user functions that come without one: complex step, else central
differences.

The complex step ``J[:, j] = Im f(x + i h e_j) / h`` (Squire & Trapp 1998) has no
subtraction, so with ``h = 1e-20`` it is exact to rounding for any function that is
analytic and written with complex-safe operations. Whether ``f`` is, is found once, at
probe states: it must accept complex input and agree with central differences there.
Functions that take ``abs``, branch on the state, cast to ``float`` or drop the
imaginary part fail that test and get central differences instead.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["NumericalJacobian"]

_EPS = float(np.finfo(np.float64).eps)
#: Central-difference step relative to max(1, |x_j|): eps^(1/3) balances the truncation
#: error ~ h^2 |f'''| / 6 against the rounding error ~ eps |f| / h (both ~ 4e-11).
CENTRAL_STEP = _EPS ** (1 / 3)
COMPLEX_STEP = 1e-20
#: Largest disagreement (relative to max(1, |J|)) between the complex step and central
#: differences at the probes that still counts as agreement: central differences are
#: good to ~1e-9 here, a complex-unsafe function is off by O(1).
_AGREE = 1e-6


class NumericalJacobian:
    """``d f / d x`` of a batch function, by complex step or central differences.

    Parameters
    ----------
    f_batch : callable
        ``f_batch(X, *extra)``: states (k, d) -> (k, d).
    X_probe : numpy.ndarray, shape (m, d)
        States at which the method is chosen and its error estimated.
    extra : tuple
        Arguments after ``X`` at the probes (the time of a forced flow).

    Attributes
    ----------
    method : str
        ``"complex-step"`` or ``"central"``.
    error_estimate : float
        Estimated largest error of an entry relative to ``max(1, max |J|)`` at the
        probes: machine epsilon for the complex step; for central differences the
        Richardson estimate of the truncation error, ``|D(h) - D(2h)| / 3``, plus the
        rounding error ``eps max|f| / h`` (typically 1e-11 to 1e-9).
    fallback_reason : str or None
        Why the complex step was not used.
    """

    def __init__(self, f_batch, X_probe, extra=()):
        self._f = f_batch
        central = self._central(X_probe, extra, CENTRAL_STEP)
        scale = max(1.0, float(np.abs(central).max()))
        self.fallback_reason = self._complex_failure(X_probe, extra, central, scale)
        self.method = "central" if self.fallback_reason else "complex-step"
        if self.method == "complex-step":
            self.error_estimate = _EPS
        else:
            coarse = self._central(X_probe, extra, 2 * CENTRAL_STEP)
            f_scale = float(np.abs(self._f(X_probe, *extra)).max())
            truncation = float(np.abs(central - coarse).max()) / 3
            self.error_estimate = (truncation + _EPS * f_scale / CENTRAL_STEP) / scale

    def __call__(self, X, *extra):
        """Jacobians at ``X`` of shape (k, d): returns (k, d, d), ``[:, i, j] = df_i/dx_j``."""
        if self.method == "complex-step":
            return self._complex(X, extra)
        return self._central(X, extra, CENTRAL_STEP)

    def _complex(self, X, extra):
        k, d = X.shape
        Z = X[:, None, :] + 1j * COMPLEX_STEP * np.eye(d)[None]        # (k, j, d)
        F = np.asarray(self._f(Z.reshape(k * d, d), *extra)).reshape(k, d, d)
        return np.swapaxes(F.imag, 1, 2) / COMPLEX_STEP

    def _central(self, X, extra, rel):
        k, d = X.shape
        h = rel * np.maximum(1.0, np.abs(X))                              # (k, d)
        E = h[:, :, None] * np.eye(d)[None]                               # (k, j, d)
        Z = np.concatenate([X[:, None, :] + E, X[:, None, :] - E]).reshape(2 * k * d, d)
        with np.errstate(all="ignore"):
            F = np.asarray(self._f(Z, *extra), dtype=np.float64).reshape(2, k, d, d)
            return np.swapaxes(F[0] - F[1], 1, 2) / (2 * h[:, None, :])

    def _complex_failure(self, X, extra, central, scale):
        """None if the complex step works at the probes, else why not."""
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            try:
                J = self._complex(X, extra)
            # Any failure of user code on complex input means only that the complex
            # step is unavailable; the reason is kept in fallback_reason.
            except Exception as exc:
                return f"complex input raised {type(exc).__name__}: {exc}"
        if not np.isfinite(J).all():
            return "complex input gave NaN or inf"
        err = float(np.abs(J - central).max()) / scale
        if err > _AGREE:
            return (f"the complex step disagrees with central differences by {err:.2g} "
                    "(relative): the function is not complex-safe (abs, branches, casts)")
        return None
