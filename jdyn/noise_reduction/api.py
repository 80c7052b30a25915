"""``denoise(series, dim, …)``: nonlinear noise reduction of a scalar chaotic series."""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, as_rng, check_int, check_positive
from .autoencoder import autoencoder_filter
from .local_projection import local_projection_filter
from .tangents import check_manifold_dim

__all__ = ["denoise", "METHODS"]

METHODS = ("local_projection", "autoencoder", "plain_autoencoder")
"""The filters :func:`denoise` offers; the first is the default (the best measured, see
the user guide's noise-reduction page)."""

#: ``(n_neighbours, n_iter)`` when not given: the settings measured in the guide.
_DEFAULTS = {"local_projection": (20, 3), "autoencoder": (50, 1),
             "plain_autoencoder": (50, 1)}


def denoise(series, dim, *, method="local_projection", lag=1, manifold_dim=2,
            n_neighbours=None, n_iter=None, hidden=64, tangent_weight=0.1,
            normal_weight=0.1, max_iter=600, rng=None):
    """Remove observational noise from a scalar series sampled from a low-dimensional attractor.

    The series is cut into delay windows of ``dim`` samples, ``lag`` apart; near the
    attractor those windows lie close to a ``manifold_dim``-dimensional manifold, and
    each filter moves every window towards it, then gives each sample the weighted
    average of the moves of the windows containing it (TISEAN's weights: the two ends of
    a window move least). This is repeated ``n_iter`` times on the corrected series.

    Parameters
    ----------
    series : array_like, shape (N,)
        Finite, non-constant.
    dim : int
        Window length ``m ≥ 2``; ``(dim − 1)·lag + 1`` must not exceed ``N``.
    method : {"local_projection", "autoencoder", "plain_autoencoder"}
        ``"local_projection"`` (default, the best measured): Grassberger et al.'s
        locally linear projection. ``"autoencoder"``: a tanh autoencoder trained with
        reconstruction plus J-prop sensitivity targets, ``J t = t`` along local tangents
        and ``J n = 0`` along normals. ``"plain_autoencoder"``: the same network and
        training without the Jacobian terms.
    lag : int
        Delay between window samples, ``≥ 1``.
    manifold_dim : int
        ``q``, dimension of the local manifold, ``1 ≤ q < dim`` (2 for a map like Hénon
        and for a flow's section).
    n_neighbours : int, optional
        Windows per neighbourhood (local covariance, tangents), ``dim + 1 ≤ k ≤`` the
        number of windows. Default 20 for local projection, 50 for the autoencoders.
    n_iter : int, optional
        Sweeps, ``≥ 1``; each autoencoder sweep re-estimates the tangents and retrains
        (warm-started). Default 3 for local projection, 1 for the autoencoders.
    hidden : int
        Autoencoder methods: width of the tanh layers.
    tangent_weight, normal_weight : float ≥ 0
        ``"autoencoder"``: weights of ``½ mean ‖J t − t‖²`` and ``½ mean ‖J n‖²``
        relative to the reconstruction error (0.1 each: the best of 1, 0.1 and 0.01
        measured).
    max_iter : int
        Autoencoder methods: L-BFGS iterations per sweep.
    rng : None, int or numpy.random.Generator
        Autoencoder methods: initial weights.

    Returns
    -------
    ndarray, shape (N,)
        The cleaned series.

    Examples
    --------
    >>> import numpy as np, jdyn
    >>> from jdyn.systems import Henon, add_observational_noise
    >>> x = Henon().trajectory(2000, rng=0)[:, 0]
    >>> y = add_observational_noise(x, 0.05, rng=1)
    >>> clean = jdyn.denoise(y, dim=5)
    >>> clean.shape, bool(np.std(clean - x) < np.std(y - x) / 2)
    ((2000,), True)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    k_default, iter_default = _DEFAULTS[method]
    x, dim, lag, q, k = _checked(series, dim, lag, manifold_dim,
                                 k_default if n_neighbours is None else n_neighbours)
    n_iter = check_int(iter_default if n_iter is None else n_iter, "n_iter", minimum=1)
    if method == "local_projection":
        return local_projection_filter(x, dim, lag, q, k, n_iter)
    weights = (0.0, 0.0) if method == "plain_autoencoder" else (
        check_positive(tangent_weight, "tangent_weight", allow_zero=True),
        check_positive(normal_weight, "normal_weight", allow_zero=True))
    return autoencoder_filter(x, dim, lag, q, k, n_iter, *weights,
                              hidden=check_int(hidden, "hidden", minimum=1),
                              max_iter=check_int(max_iter, "max_iter", minimum=1),
                              rng=as_rng(rng))


def _checked(series, dim, lag, manifold_dim, n_neighbours):
    """``(series, dim, lag, q, k)`` checked, or a ValueError naming the bad argument."""
    x = as_float_array(series, "series", ndim=1)
    dim, lag = check_int(dim, "dim", minimum=2), check_int(lag, "lag", minimum=1)
    n_windows = x.size - (dim - 1) * lag
    if n_windows < 1:
        raise ValueError(f"dim={dim} with lag={lag} needs windows of {(dim - 1) * lag + 1} "
                         f"samples, longer than the series ({x.size} samples)")
    if np.ptp(x) == 0:
        raise ValueError("series is constant: there is nothing to denoise")
    q = check_manifold_dim(manifold_dim, dim)
    k = check_int(n_neighbours, "n_neighbours", minimum=dim + 1)
    if k > n_windows:
        raise ValueError(f"n_neighbours={k} exceeds the {n_windows} delay windows of the "
                         f"series (N={x.size}, dim={dim}, lag={lag})")
    return x, dim, lag, q, k
