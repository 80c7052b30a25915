"""Binary files: NumPy ``.npy`` arrays and netCDF variables with their time coordinate."""

from __future__ import annotations

import numbers

import numpy as np

from ._series import _Column
from ._time import _stamp_text, coordinate_seconds, is_time_name, time_spacing

# ------------------------------------------------------------------------ .npy files

def _read_npy(path, column, label):
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{label}: cannot be read as a NumPy .npy file "
                         f"({_first_line(exc)})") from None
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise ValueError(f"{label}: is an .npz archive, not a .npy array")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{label}: holds dtype {arr.dtype}; expected real numbers")
    i = _npy_column(arr.shape, column, label)
    col = np.array(arr if i is None else arr[:, i], dtype=np.float64)
    del arr
    where = "column 0" if i is None else f"column {i}"
    _check_finite_rows(col, label, where)
    return _Column(values=col, name=where, where=where)


def _npy_column(shape, column, label):
    """Column index of a 2-D array (None for 1-D)."""
    if isinstance(column, str) and column.strip().isdigit():
        column = int(column)
    if column is not None and (isinstance(column, bool)
                               or not isinstance(column, numbers.Integral)):
        raise ValueError(f"{label}: columns of a .npy array are chosen by 0-based index; "
                         f"got {column!r}")
    if len(shape) == 1:
        if column not in (None, 0):
            raise ValueError(f"{label}: holds a 1-D array of shape {shape}; there is no "
                             f"column {column}")
        return None
    if len(shape) != 2:
        raise ValueError(f"{label}: holds an array of shape {shape}; expected 1-D (n,) or "
                         "2-D (n, k)")
    k = shape[1]
    if column is None:
        if k == 1:
            return 0
        raise ValueError(f"{label}: holds an array of shape {shape}, {k} columns (0 to "
                         f"{k - 1}); choose one with column (a 0-based index)")
    if not 0 <= column < k:
        raise ValueError(f"{label}: no column {column} in an array of shape {shape} "
                         f"(columns 0 to {k - 1})")
    return int(column)


def _check_finite_rows(values, label, where):
    if values.size and np.isfinite(values.sum()):
        return
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        what = (f"missing value ({values[i]})" if np.isnan(values[i])
                else f"{values[i]} is not a finite number")
        raise ValueError(f"{label}, row {i + 1}, {where}: {what}; the series must be "
                         "complete and finite")


def _first_line(exc):
    """The first sentence of an exception's message."""
    text = str(exc).strip()
    return text.splitlines()[0].split(". ")[0] if text else type(exc).__name__


# --------------------------------------------------------------------- netCDF files

def _read_netcdf(path, column, label):
    import xarray as xr

    try:
        ds = xr.open_dataset(path)
    except (ValueError, OSError) as exc:
        hint = ("; netCDF-4 files need the netCDF4 or h5netcdf package"
                if _magic(path) == b"\x89HDF" else "")
        raise ValueError(f"{label}: cannot be opened as netCDF ({_first_line(exc)}{hint})"
                         ) from None
    with ds:
        var = ds[_netcdf_variable(ds, column, label)]
        return _netcdf_column(ds, var, label)


def _magic(path):
    try:
        with open(path, "rb") as f:
            return f.read(4)
    except OSError:
        return b""


def _netcdf_variable(ds, column, label):
    names = [str(n) for n in ds.data_vars]
    listing = ", ".join(repr(n) for n in names) or "none"
    if column is not None:
        if isinstance(column, numbers.Integral) and not isinstance(column, bool) \
                and 0 <= column < len(names):
            return names[column]
        if isinstance(column, str) and column in names:
            return column
        raise ValueError(f"{label}: no data variable {column!r}; data variables are "
                         f"{listing}")
    timed = [n for n in names if ds[n].ndim and _is_time_dim(ds, ds[n].dims[0])]
    candidates = timed or [n for n in names if ds[n].ndim == 1]
    if len(candidates) == 1:
        return candidates[0]
    which = "with a time dimension" if timed else "that are 1-D"
    raise ValueError(f"{label}: {len(candidates) or 'no'} data variables {which} (data "
                     f"variables are {listing}); choose one with column (its name)")


def _is_time_dim(ds, dim):
    if is_time_name(str(dim)):
        return True
    if dim not in ds.coords:
        return False
    coord = ds.coords[dim]
    return (np.issubdtype(coord.dtype, np.datetime64) or coord.attrs.get("axis") == "T"
            or coord.attrs.get("standard_name") == "time")


def _netcdf_column(ds, var, label):
    where = f"variable {var.name!r}"
    extra = [d for d, s in zip(var.dims[1:], var.shape[1:]) if s == 1]
    var = var.squeeze(extra) if extra else var
    if var.ndim != 1:
        raise ValueError(f"{label}, {where}: has dimensions {var.dims} with shape "
                         f"{var.shape}; expected one dimension (select a point first)")
    if var.dtype.kind not in "biuf":
        raise ValueError(f"{label}, {where}: holds dtype {var.dtype}; expected real numbers")
    values = np.array(var.values, dtype=np.float64)
    _check_finite_rows(values, label, where)
    dim = var.dims[0]
    if dim not in ds.coords:
        return _Column(values=values, name=str(var.name), where=where)
    time = np.array(ds.coords[dim].values)
    if time.shape[0] < 2 or coordinate_seconds(time) is None:
        return _Column(values=values, name=str(var.name), where=where)
    time_where = f"coordinate {str(dim)!r}"
    step = _netcdf_step(time, label, f"{where}, {time_where}")
    return _Column(values=values, name=str(var.name), where=where, time=time, step=step,
                   time_where=time_where)


def _netcdf_step(time, label, where):
    t, quantum = coordinate_seconds(time)
    typical, bad = time_spacing(t, quantum)
    if bad is not None:
        unit = " s" if np.issubdtype(time.dtype, np.datetime64) else ""
        head = f"{label}, row {bad + 1}, {where}: time {_stamp_text(time[bad])}"
        if t[bad] <= t[bad - 1]:
            raise ValueError(f"{head} does not increase (row {bad} has "
                             f"{_stamp_text(time[bad - 1])}); the time stamps must increase")
        raise ValueError(f"{head} is irregular: the spacing {t[bad] - t[bad - 1]:.6g}{unit} "
                         f"from row {bad} departs from the typical spacing {typical:.6g}{unit}; "
                         "resample the series to a regular time grid")
    step = float(np.median(np.diff(t)))     # as estimators read an xarray coordinate
    if time.dtype.kind in "iu" and step == 1.0:
        return None          # a plain integer index says nothing about time
    return step
