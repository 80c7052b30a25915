"""Turning user data (arrays, lists, pandas, xarray) into float arrays and a sampling step."""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_positive

__all__ = ["as_series"]


def as_series(data, name="series", *, ndim=1, dt=None):
    """Values of a time series and its sampling interval.

    Parameters
    ----------
    data : array_like, pandas.Series/DataFrame or xarray.DataArray
        Shape ``(n,)`` (``ndim=1``) or ``(n, d)`` (``ndim=2``), time along the first axis.
    dt : float, optional
        Sampling interval given by the user; wins over one read from the data.

    Returns
    -------
    values : ndarray, float64
    dt : float or None
        ``dt`` if given, else the median spacing of an xarray time coordinate or a
        pandas index (datetimes in seconds), else None.
    """
    coord = None
    if hasattr(data, "dims") and hasattr(data, "coords"):       # xarray.DataArray
        if data.dims and data.dims[0] in data.coords:
            coord = np.asarray(data.coords[data.dims[0]].values)
        values = data.values
    elif hasattr(data, "index") and hasattr(data, "to_numpy"):  # pandas
        coord = np.asarray(data.index)
        values = data.to_numpy()
    else:
        values = data
    values = as_float_array(values, name, ndim=ndim)
    if dt is not None:
        return values, check_positive(dt, "dt")
    return values, _spacing(coord)


def _spacing(coord):
    if coord is None or coord.size < 2:
        return None
    if np.issubdtype(coord.dtype, np.datetime64):
        coord = (coord - coord[0]) / np.timedelta64(1, "s")
    elif coord.dtype.kind not in "iuf":
        return None
    step = float(np.median(np.diff(coord.astype(float))))
    if coord.dtype.kind in "iu" and step == 1.0:
        return None          # a plain integer index says nothing about time
    if not step > 0:
        raise ValueError(f"the time coordinate must increase; median spacing is {step}")
    return step
