"""Delay vectors of a scalar series, and the series checks the lag and dimension
choices share."""

from __future__ import annotations

import numbers
import operator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from jdyn._validation import as_float_array, check_int

__all__ = ["delay_embed"]

# Fewest overlapping pairs a lag/dimension statistic is computed from.
_MIN_POINTS = 10


def _series(series, name="series"):
    x = as_float_array(series, name, ndim=1)
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError(f"{name} must be a non-constant series of at least 2 samples; "
                         f"got {x.size} samples" + (" all equal" if x.size else ""))
    return x


def _int(value, name, minimum=None):
    """``check_int`` that also takes integer-like objects (``__index__``), e.g. a
    :class:`LagChoice` or :class:`DimChoice`."""
    if not isinstance(value, numbers.Integral) and hasattr(type(value), "__index__"):
        value = operator.index(value)
    return check_int(value, name, minimum=minimum)


def _need(x, needed, what):
    if x.size < needed:
        raise ValueError(f"series is too short: {x.size} samples, but {what} needs at least "
                         f"{needed}")


def delay_embed(series, dim, lag):
    """Delay vectors of a scalar series.

    Parameters
    ----------
    series : array_like, shape (n,)
        Finite, non-constant.
    dim : int or DimChoice
        Embedding dimension m >= 1.
    lag : int or LagChoice
        Delay tau >= 1, in samples.

    Returns
    -------
    numpy.ndarray, shape (n - (m-1) tau, m)
        Row ``i`` is ``[x[s], x[s - tau], ..., x[s - (m-1) tau]]`` with
        ``s = i + (m-1) tau``: most recent value first.

    Examples
    --------
    >>> delay_embed(np.arange(6.0), dim=3, lag=2)
    array([[4., 2., 0.],
           [5., 3., 1.]])
    """
    x = _series(series)
    dim = _int(dim, "dim", minimum=1)
    lag = _int(lag, "lag", minimum=1)
    span = (dim - 1) * lag
    _need(x, span + 1, f"dim={dim}, lag={lag}")
    return np.ascontiguousarray(sliding_window_view(x, span + 1)[:, ::lag][:, ::-1])
