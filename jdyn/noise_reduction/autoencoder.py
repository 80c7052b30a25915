"""Autoencoders with prescribed input–output sensitivities (J-prop, Eq. 2).

An autoencoder ``f: R^m → R^m`` trained on points near a q-dimensional manifold is a
noise filter when it maps each point to the nearest point of the manifold. The
Jacobian of that projection at the manifold is the orthogonal projector onto the
tangent space: ``J t = t`` along every tangent ``t`` (the paper's "identical
input–output sensitivities") and ``J n = 0`` along every normal ``n``. The objective
here asks for exactly that, beside reconstruction:

``½ mean ‖f(x) − x‖²  +  α · ½ mean ‖J t − t‖²  +  β · ½ mean ‖J n‖²``,

the second and third terms being :class:`~jdyn.objectives.TangentProp` (Eq. 2 with
``v = b = t``, and with ``v = n, b = 0``) on the data, each (window, direction) pair
one sample. Without them (``α = β = 0``) this is the plain autoencoder.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_int, check_positive
from ..layers import Dense, Tanh
from ..models.sequential import Sequential
from ..objectives import MeanSquaredError, Objective, TangentProp
from ..training import train
from ._windows import end_metric, spread, windows
from .tangents import tangent_spaces

__all__ = ["build_autoencoder", "sensitivity_objective", "fit_autoencoder",
           "autoencoder_filter"]


def build_autoencoder(dim, hidden=32, bottleneck=None, rng=None) -> Sequential:
    """A tanh autoencoder ``dim → hidden → [bottleneck → hidden →] dim``.

    Parameters
    ----------
    dim : int
        Input and output width.
    hidden : int
        Width of the tanh layer(s).
    bottleneck : int, optional
        Width of a linear code layer between an encoder and a decoder, each with
        one tanh layer; ``None``: one tanh layer and no code layer.
    rng : None, int or Generator
        Initial weights.
    """
    dim = check_int(dim, "dim", minimum=1)
    h = check_int(hidden, "hidden", minimum=1)
    if bottleneck is None:
        return Sequential([Dense(dim, h), Tanh(h), Dense(h, dim)], rng=rng)
    q = check_int(bottleneck, "bottleneck", minimum=1)
    return Sequential([Dense(dim, h), Tanh(h), Dense(h, q), Dense(q, h), Tanh(h),
                       Dense(h, dim)], rng=rng)


def sensitivity_objective(X, tangents, normals, tangent_weight=1.0,
                          normal_weight=1.0) -> Objective:
    """Reconstruction plus the sensitivity targets at the points ``X``.

    Parameters
    ----------
    X : array_like, shape (M, m)
        The points (the training inputs; reconstruction targets are the same points).
    tangents : array_like, shape (M, q, m)
        Directions to pass unchanged: ``½ mean ‖J t − t‖²``.
    normals : array_like, shape (M, m − q, m)
        Directions to damp: ``½ mean ‖J n‖²``.
    tangent_weight, normal_weight : float ≥ 0
        ``α`` and ``β``; a zero weight leaves its term out.

    Returns
    -------
    Objective
        Terms ``mse`` and, when weighted, ``tangent_pass`` and ``normal_damp``.
    """
    X = as_float_array(X, "X", ndim=2)
    terms = [MeanSquaredError()]
    for name, what, dirs, weight in (("tangent_pass", "tangent", tangents, tangent_weight),
                                     ("normal_damp", "normal", normals, normal_weight)):
        weight = check_positive(weight, f"{what}_weight", allow_zero=True)
        dirs = as_float_array(dirs, f"{what}s", shape=(X.shape[0], None, X.shape[1]))
        if weight == 0 or dirs.shape[1] == 0:
            continue
        P, V = np.repeat(X, dirs.shape[1], axis=0), dirs.reshape(-1, X.shape[1])
        targets = V if what == "tangent" else None
        terms.append(TangentProp(V, targets, points=P, weight=weight, name=name))
    return Objective(terms)


def fit_autoencoder(model, X, objective, max_iter=300, rng=None):
    """Train ``model`` in place on reconstructing ``X`` (M, m) under ``objective`` (L-BFGS).

    Returns the :class:`~jdyn.training.TrainingResult`.
    """
    return train(model, objective, X, X, method="lbfgs", max_iter=max_iter,
                 progress=False, rng=rng)


def autoencoder_filter(series, dim, lag, manifold_dim, n_neighbours, n_iter,
                       tangent_weight, normal_weight, *, hidden, max_iter, rng):
    """Noise reduction by an autoencoder with a ``manifold_dim``-wide code; returns (N,).

    Every sweep estimates tangents on the current series, trains the autoencoder
    (warm-started from the previous sweep) on its standardised windows and moves each
    sample by the weighted average of ``f(x) − x`` over its windows. With both weights
    zero it is the plain autoencoder. Arguments are checked by
    :func:`jdyn.noise_reduction.denoise`.
    """
    mean, scale = float(np.mean(series)), float(np.std(series))
    s = (np.asarray(series, dtype=float) - mean) / scale
    model = build_autoencoder(dim, hidden, manifold_dim, rng=rng)
    for _ in range(n_iter):
        X = np.ascontiguousarray(windows(s, dim, lag))
        tangents, normals = tangent_spaces(X, manifold_dim, n_neighbours)
        objective = sensitivity_objective(X, tangents, normals, tangent_weight,
                                          normal_weight)
        fit_autoencoder(model, X, objective, max_iter=max_iter, rng=rng)
        s = s + spread(model(X) - X, s.size, lag, end_metric(dim))
    return s * scale + mean
