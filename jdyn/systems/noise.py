"""Observation of trajectories: choosing coordinates and adding measurement noise.

Dynamical noise (added to the state at every step) is an argument of
``Map.trajectory`` / ``Flow.trajectory``, since it changes the orbit itself.
"""

from __future__ import annotations

import numbers


from jdyn._validation import as_float_array, as_rng, check_positive

__all__ = ["add_observational_noise", "observe"]


def add_observational_noise(X, level, rng=None):
    """Add Gaussian measurement noise scaled to each coordinate's spread.

    Parameters
    ----------
    X : array_like, shape (n,) or (n, d)
        Clean observations (finite).
    level : float
        Noise standard deviation as a fraction of each coordinate's standard deviation
        (over the n samples, ``ddof=0``): column ``j`` gets ``N(0, (level * std_j)^2)``.
        A constant column gets no noise.
    rng : None, int or numpy.random.Generator
        Seed or generator; the only source of randomness.

    Returns
    -------
    numpy.ndarray, same shape as ``X``
        A new array (a copy of ``X`` when ``level == 0``).
    """
    X = as_float_array(X, "X")
    if X.ndim not in (1, 2) or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty array of shape (n,) or (n, d); got shape {X.shape}")
    level = check_positive(level, "level", allow_zero=True)
    rng = as_rng(rng)
    if level == 0.0:
        return X.copy()
    scale = level * X.std(axis=0)
    return X + scale * rng.standard_normal(X.shape)


def observe(X, coords):
    """Pick coordinates of a trajectory.

    Parameters
    ----------
    X : array_like, shape (n, d)
    coords : int or sequence of int
        Column indices, each in ``0 .. d-1``.

    Returns
    -------
    numpy.ndarray
        Shape (n,) for a single int, (n, len(coords)) for a sequence (a copy).
    """
    X = as_float_array(X, "X", ndim=2, finite=False)
    d = X.shape[1]
    single = isinstance(coords, numbers.Integral) and not isinstance(coords, bool)
    items = [coords] if single else coords
    try:
        items = list(items)
    except TypeError:
        raise ValueError(f"coords must be an int or a sequence of ints; got {coords!r}") from None
    if not items:
        raise ValueError("coords must name at least one coordinate; got an empty sequence")
    for c in items:
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or not 0 <= c < d:
            raise ValueError(f"coords must be integers in 0..{d - 1} for X of shape {X.shape}; "
                             f"got {coords!r}")
    idx = [int(c) for c in items]
    return X[:, idx[0]].copy() if single else X[:, idx].copy()
