"""Which exponents of a delay model are spurious: the time-reversal test (Parlitz 1992).

A delay map in dimension D has D exponents, but an attractor that needs fewer
dimensions has fewer true ones; the rest describe how the fitted map behaves off the
data (Gencay & Dechert 1992) and are artefacts. Reversing time turns every true
exponent λ into −λ, while the spurious ones, set by the model's extrapolation in
directions the data never explore, have no reason to follow. So we fit the same
estimator to the reversed series and call an exponent *trusted* when its negative
matches one of the reversed model's exponents within ``atol + rtol·|λ|`` (one-to-one,
closest pairs first), and *spurious* otherwise. The tolerance defaults allow for the
estimation error of noisy fits; widen them for short or noisy series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_positive

__all__ = ["SpuriousTest", "time_reversal_test"]


@dataclass(frozen=True)
class SpuriousTest:
    """forward : (D,) exponents; backward : (D,) the reversed model's exponents, negated
    and sorted descending; spurious : (D,) bool; tolerance : (D,) the match tolerance."""

    forward: np.ndarray
    backward: np.ndarray
    spurious: np.ndarray
    tolerance: np.ndarray


def time_reversal_test(estimator, data, *, atol=0.1, rtol=0.1):
    """Flag spurious exponents of a fitted delay-map estimator (see the module docstring).

    Parameters
    ----------
    estimator : fitted DelayMapEstimator (its parameters are reused for the reversed fit;
        a log-determinant target changes sign with time).
    data : the series it was fitted on, shape (n,).
    atol, rtol : match tolerance ``atol + rtol·|λ|`` (per unit time if ``dt_`` is set).

    Returns
    -------
    SpuriousTest
    """
    atol = check_positive(atol, "atol", allow_zero=True)
    rtol = check_positive(rtol, "rtol", allow_zero=True)
    estimator._check_fitted()
    params = estimator.get_params()
    if params.get("logdet_target") is not None:
        params["logdet_target"] = -params["logdet_target"]
    if params.get("dt") is None and estimator.dt_ is not None:
        # dt read from the data's time coordinate, which reversing as an array drops:
        # keep both spectra per unit time.
        params["dt"] = estimator.dt_
    series = np.asarray(data, dtype=float)[::-1].copy()
    reverse = type(estimator)(**params).fit(series)
    fwd = estimator.lyapunov_spectrum(data).exponents
    bwd = np.sort(-reverse.lyapunov_spectrum(series).exponents)[::-1]
    tol = atol + rtol * np.abs(fwd)
    return SpuriousTest(fwd, bwd, ~_matched(fwd, bwd, tol), tol)


def _matched(fwd, bwd, tol):
    """One-to-one greedy matching of closest pairs within ``tol[i]``."""
    gap = np.abs(fwd[:, None] - bwd[None, :])
    matched = np.zeros(fwd.size, dtype=bool)
    free = np.ones(bwd.size, dtype=bool)
    for flat in np.argsort(gap, axis=None):
        i, j = np.unravel_index(flat, gap.shape)
        if not matched[i] and free[j] and gap[i, j] <= tol[i]:
            matched[i], free[j] = True, False
    return matched
