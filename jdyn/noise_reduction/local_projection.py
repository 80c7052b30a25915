"""Local-projection noise reduction (Grassberger, Hegger, Kantz, Schaffrath & Schreiber 1993).

Written from the published algorithm as TISEAN implements it (``ghkss.c``, R. Hegger;
``project.f``, Kantz & Schreiber, *Nonlinear Time Series Analysis*, 1997, §10.3.2).
One sweep, for every delay window ``x_n``:

1. find its ``k`` nearest windows and their centroid ``x̄``;
2. diagonalise the covariance of ``r ⊙ (x − x̄)`` over them, with the metric ``r``
   large (10³) at the window's two ends and 1 inside;
3. the correction is the part of ``r ⊙ (x_n − x̄)`` along the ``m − q`` smallest
   eigenvectors (the local normals), mapped back by ``1/r``;
4. subtract from it the mean correction of the neighbours (the "trend": projecting
   onto a flat local space biases points on a curved manifold towards its outside);
5. each sample moves by the ``1/r``-weighted average of the corrections of the
   windows it belongs to.

Sweeps are repeated on the corrected series. Differences from ``ghkss``: the
neighbourhood is the ``k`` nearest windows (maximum norm) instead of the smallest box
of side ``ε·√2^j`` holding at least ``k``, which is the same rule without the
``ε`` ladder; and no rescaling to [0, 1] (every step is scale-free).
"""

from __future__ import annotations

import numpy as np

from ._windows import end_metric, spread, windows
from .tangents import local_frames

__all__ = ["local_projection_sweep", "local_projection_filter"]


def local_projection_sweep(series, dim, lag, manifold_dim, n_neighbours):
    """One GHKSS sweep: the correction to subtract from ``series``, shape (N,)."""
    X = windows(series, dim, lag)
    r = end_metric(dim)
    frames = local_frames(X, n_neighbours, metric=r)
    normals = frames.eigenvectors[:, :, manifold_dim:]
    y = (X - frames.centroids) * r
    corr = np.einsum("bij,bj->bi", normals, np.einsum("bji,bj->bi", normals, y)) / r
    corr -= corr[frames.neighbours].mean(axis=1)
    return spread(corr, series.size, lag, r)


def local_projection_filter(series, dim, lag, manifold_dim, n_neighbours, n_iter):
    """``n_iter`` sweeps of :func:`local_projection_sweep`; returns the cleaned series (N,).

    Arguments are checked by :func:`jdyn.noise_reduction.denoise`.
    """
    clean = np.array(series, dtype=float)
    for _ in range(n_iter):
        clean -= local_projection_sweep(clean, dim, lag, manifold_dim, n_neighbours)
    return clean
