"""Turning user data (arrays, lists, pandas, xarray) into float arrays and a sampling step."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from .._validation import as_float_array, check_positive
from ..datafile import TIME_RTOL, coordinate_seconds, time_spacing

__all__ = ["as_series"]


def as_series(data, name="series", *, ndim=1, dt=None):
    """Values of a time series and its sampling interval.

    Parameters
    ----------
    data : array_like, pandas.Series/DataFrame or xarray.DataArray
        Shape ``(n,)`` (``ndim=1``) or ``(n, d)`` (``ndim=2``; ``ndim=None``: either),
        time along the first axis. A ``numpy.ma`` masked array must have no masked
        values; sparse and complex arrays are refused.
    dt : float, optional
        Sampling interval given by the user; wins over one read from the data.

    Returns
    -------
    values : ndarray, float64
    dt : float or None
        ``dt`` if given, else the median spacing of an xarray time coordinate or a
        pandas index (datetimes in seconds), else None.

    Raises
    ------
    ValueError
        Masked values; sparse or complex data; a time coordinate or index whose spacings are irregular (one
        departs from the typical spacing by more than ``TIME_RTOL`` relative plus float
        rounding, or is not positive), also when ``dt`` is given.
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
        values = _unmasked(_dense(data, name), name)
    values = as_float_array(values, name)
    if ndim is not None and values.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, time along the first axis; got shape "
                         f"{values.shape}" + (". Reshape your data: one coordinate of shape "
                                              "(n,) is x[:, None]" if ndim == 2 else ""))
    step = _spacing(coord, name, dt_given=dt is not None)
    if dt is not None:
        return values, check_positive(dt, "dt")
    return values, step


def _dense(data, name):
    """``data``, refused with a clear message when it is sparse or complex (the messages
    also carry the phrases scikit-learn's estimator checks look for)."""
    if scipy.sparse.issparse(data):
        raise ValueError(f"{name} is a sparse {type(data).__name__}: sparse input is not "
                         "supported (a time series is dense); pass data.toarray()")
    if np.iscomplexobj(data):
        raise ValueError(f"Complex data not supported: {name} has a complex dtype; pass its "
                         "real part or its modulus")
    return data


def _unmasked(data, name):
    """The data of a masked array without masked values (other inputs unchanged)."""
    if not np.ma.isMaskedArray(data):
        return data
    n_masked = int(np.ma.count_masked(data))
    if n_masked:
        first = tuple(int(i) for i in np.argwhere(np.ma.getmaskarray(data))[0])
        first = first[0] if len(first) == 1 else first
        raise ValueError(
            f"{name} is a masked array with {n_masked} masked value(s) (first at index "
            f"{first}); masked values are not allowed: fill them (e.g. {name}.filled(...) "
            "or interpolate) or pass a slice without masked values")
    return np.ma.getdata(data)


def _spacing(coord, name, dt_given=False):
    if coord is None or coord.size < 2:
        return None
    found = coordinate_seconds(coord)
    if found is None:
        return None
    t, quantum = found
    step = float(np.median(np.diff(t)))
    typical, bad = time_spacing(t, quantum)
    if not step > 0:
        if dt_given:
            return None      # as before: with dt given, a decreasing coordinate is ignored
        raise ValueError(f"the time coordinate must increase; median spacing is {step}")
    if bad is not None:
        raise ValueError(_irregular(name, coord, t, typical, bad))
    if coord.dtype.kind in "iu" and step == 1.0:
        return None          # a plain integer index says nothing about time
    return step


def _irregular(name, coord, t, step, i):
    unit = " s" if np.issubdtype(coord.dtype, np.datetime64) else ""
    stamps = f"{_stamp(coord[i])} - {_stamp(coord[i - 1])} = {t[i] - t[i - 1]:.6g}{unit}"
    if t[i] <= t[i - 1]:
        return (f"{name} has a time coordinate that does not increase at index {i} "
                f"({stamps}); sort it or drop duplicate time stamps")
    return (f"{name} has irregular time stamps: the spacing at index {i} ({stamps}) "
            f"departs from the typical spacing {step:.6g}{unit} by more than "
            f"{TIME_RTOL:g} relative; resample to a regular grid, or pass the plain values "
            "(.to_numpy()) and dt if the samples are evenly spaced")


def _stamp(value):
    if isinstance(value, np.datetime64):
        return str(value)
    return f"{value:.10g}" if isinstance(value, (float, np.floating)) else str(value)
