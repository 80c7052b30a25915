"""Local principal frames of a cloud of delay vectors, from their nearest neighbours.

Near a point ``x`` of a smooth q-dimensional manifold sampled with small noise, the
covariance of the ``k`` nearest samples has q large eigenvalues, whose eigenvectors
span the tangent space, and ``m − q`` small ones, the normal directions. Both the
local-projection filter (which projects out the normals) and the autoencoder's
sensitivity targets (which pass tangents and damp normals) start from this frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .._validation import as_float_array, check_int

__all__ = ["LocalFrames", "local_frames", "tangent_spaces"]


@dataclass(frozen=True)
class LocalFrames:
    """The neighbourhood frame of every point.

    Attributes
    ----------
    neighbours : ndarray of int, shape (M, k)
        Indices of each point's ``k`` nearest points (itself included).
    centroids : ndarray, shape (M, m)
        Neighbourhood means.
    eigenvalues : ndarray, shape (M, m)
        Eigenvalues of the (metric-weighted) neighbourhood covariance, largest first.
    eigenvectors : ndarray, shape (M, m, m)
        ``eigenvectors[b, :, j]`` is the unit eigenvector of ``eigenvalues[b, j]``.
    """

    neighbours: np.ndarray
    centroids: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray


def local_frames(X, n_neighbours, metric=None) -> LocalFrames:
    """Principal axes of the ``n_neighbours`` nearest points of every point of ``X``.

    Parameters
    ----------
    X : array_like, shape (M, m)
        Points (delay vectors), finite.
    n_neighbours : int
        ``k``, at least ``m + 1`` and at most ``M``; neighbours are nearest in the
        maximum norm (as TISEAN's box search), the point itself counted.
    metric : array_like, shape (m,), optional
        Positive weights ``r_i``: the covariance is that of ``r ⊙ (x − centroid)``
        (Grassberger et al.'s metric). Default all ones (Euclidean).

    Returns
    -------
    LocalFrames
    """
    X = as_float_array(X, "X", ndim=2)
    M, m = X.shape
    k = check_int(n_neighbours, "n_neighbours", minimum=m + 1)
    if k > M:
        raise ValueError(f"n_neighbours={k} exceeds the {M} points available")
    r = np.ones(m) if metric is None else as_float_array(metric, "metric", shape=(m,))
    _, idx = cKDTree(X).query(X, k=k, p=np.inf)
    P = X[idx]
    centroids = P.mean(axis=1)
    D = (P - centroids[:, None, :]) * r
    cov = np.einsum("bki,bkj->bij", D, D) / k
    values, vectors = np.linalg.eigh(cov)
    return LocalFrames(idx, centroids, values[:, ::-1], vectors[:, :, ::-1])


def tangent_spaces(X, manifold_dim, n_neighbours):
    """Unit tangent and normal directions of the manifold the points of ``X`` sample.

    Parameters
    ----------
    X : array_like, shape (M, m)
    manifold_dim : int
        ``q``, the manifold's dimension, ``1 ≤ q < m``.
    n_neighbours : int
        See :func:`local_frames`.

    Returns
    -------
    tangents : ndarray, shape (M, q, m)
        Orthonormal tangent directions (the q leading local principal axes).
    normals : ndarray, shape (M, m − q, m)
        The remaining axes, orthonormal to the tangents.
    """
    X = as_float_array(X, "X", ndim=2)
    q = check_manifold_dim(manifold_dim, X.shape[1])
    frames = local_frames(X, n_neighbours)
    axes = np.swapaxes(frames.eigenvectors, 1, 2)
    return axes[:, :q], axes[:, q:]


def check_manifold_dim(manifold_dim, dim):
    """``manifold_dim`` as an int in ``1 .. dim − 1``, or a ValueError naming it."""
    q = check_int(manifold_dim, "manifold_dim", minimum=1)
    if q >= dim:
        raise ValueError(f"manifold_dim must be smaller than the embedding dimension "
                         f"dim={dim}; got {q}")
    return q
