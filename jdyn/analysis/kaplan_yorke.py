"""Kaplan–Yorke (Lyapunov) dimension from a Lyapunov spectrum."""

from __future__ import annotations

import numpy as np

from jdyn._validation import as_float_array

__all__ = ["kaplan_yorke_dim"]


def kaplan_yorke_dim(exponents) -> float:
    """Kaplan–Yorke dimension ``D = k + (λ1 + … + λk) / |λ_{k+1}|``.

    Parameters
    ----------
    exponents : array_like, shape (d,)
        Lyapunov exponents in any order (they are sorted into descending order here).
        ``-inf`` is allowed (a direction contracted to a point); NaN gives NaN.

    Returns
    -------
    float
        ``k`` is the largest index whose partial sum ``λ1 + … + λk`` is non-negative.
        Edge cases: if ``λ1 < 0`` (every partial sum negative, a stable fixed point or
        cycle) the result is ``0.0``; if every partial sum is non-negative (volume not
        contracted, e.g. a conservative or expanding system) it is ``d``. A partial sum
        of exactly zero counts as non-negative, so ``(0.5, -0.5)`` gives ``2.0``.

    Raises
    ------
    ValueError
        If ``exponents`` is empty, not 1-D, not real, or contains ``+inf``.
    """
    lam = as_float_array(exponents, "exponents", ndim=1, finite=False)
    if lam.size == 0:
        raise ValueError("exponents must contain at least one exponent; got shape (0,)")
    if np.isnan(lam).any():
        return float("nan")
    if np.isposinf(lam).any():
        raise ValueError("exponents contains +inf; a Kaplan-Yorke dimension needs finite "
                         "positive exponents")
    lam = np.sort(lam)[::-1]
    partial = np.cumsum(lam)
    nonneg = np.flatnonzero(partial >= 0)
    if nonneg.size == 0:
        return 0.0
    k = int(nonneg[-1]) + 1
    if k == lam.size:
        return float(lam.size)
    return float(k + partial[k - 1] / abs(lam[k]))
