"""Delay windows of a series and the way corrections of windows go back to the series."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["windows", "end_metric", "spread"]

#: Weight of the first and last window coordinates in TISEAN's ``ghkss`` metric: the
#: ends of a delay window are poorly constrained (an error there grows along the
#: unstable or, backwards, the stable direction), so corrections avoid them.
END_WEIGHT = 1.0e3


def windows(series, dim, lag):
    """Forward delay windows ``X[n] = (s[n], s[n + lag], …, s[n + (dim − 1) lag])``.

    series : (N,) → (N − (dim − 1) lag, dim), a read-only view.
    """
    return sliding_window_view(series, (dim - 1) * lag + 1)[:, ::lag]


def end_metric(dim):
    """Grassberger et al.'s weights ``r_i``, shape (dim,): large at the two ends."""
    r = np.ones(dim)
    if dim > 2:
        r[[0, -1]] = END_WEIGHT
    return r


def spread(corrections, n, lag, metric):
    """Series correction from window corrections, weighted ``1 / (r_i Σ_j 1/r_j)``.

    Each sample gets the weighted sum of the corrections of every window coordinate
    it sits in; an interior sample sits once at each position, so its weights sum
    to one (TISEAN ``ghkss``: ``delta += corr / (trace · metric)``).

    corrections : (M, dim); n : series length → (n,).
    """
    M, dim = corrections.shape
    w = 1.0 / (metric * np.sum(1.0 / metric))
    delta = np.zeros(n)
    for i in range(dim):
        delta[i * lag: i * lag + M] += w[i] * corrections[:, i]
    return delta
