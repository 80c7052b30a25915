""":func:`read_series`: the file's type, its format reader, and the checks common to
every format (sample count, constant series, a given ``dt`` against the stamps)."""

from __future__ import annotations

import os
from pathlib import Path

from .._validation import check_positive
from ._binary import _read_netcdf, _read_npy
from ._series import MIN_SAMPLES, SeriesFile
from ._text import _read_text

__all__ = ["SUFFIXES", "read_series"]

#: Relative difference above which a given ``dt`` and the file's spacing disagree
#: (plus the spacing's own uncertainty, for stamps written with few digits).
DT_RTOL = 1e-6
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".dat")
SUFFIXES = TEXT_SUFFIXES + (".npy", ".nc")


def read_series(path, column=None, dt=None) -> SeriesFile:
    """Read one time series from a text, ``.npy`` or netCDF file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``, ``.tsv``, ``.txt``, ``.dat`` (delimited text: comma, tab, semicolon
        or whitespace, sniffed; ``#`` lines are comments), ``.npy`` (a 1-D array, or a
        2-D array of shape ``(n, k)``), or ``.nc`` (netCDF, read with xarray).
    column : str or int, optional
        Text: a header name or a 0-based index (a string of digits that is not a header
        name counts as an index). ``.npy``: the column index of a 2-D array. netCDF:
        the variable name. Needed when the file has several value columns.
    dt : float, optional
        Sampling interval. Wins over the file's time stamps, but must agree with their
        spacing to within ``1e-6`` relative (widened by the spacing's uncertainty when
        the stamps were written with few digits).

    Returns
    -------
    SeriesFile
        ``values`` of shape ``(n,)``, ``dt``, ``name``, ``path`` and ``time``.

    Raises
    ------
    ValueError
        One line naming the file (and line or row, and column) and what was expected.

    Notes
    -----
    Text files: a first row with no number in it is a header. With a header, the first
    column named like time (``t``, ``time``, ``Time (s)``, ``timestamp``, ``date``, ...)
    holds the time stamps (numbers, or ISO 8601 date-times converted to seconds), and an
    unnamed first column (a pandas index) is skipped. Without a header, one column is
    the series and two columns are time and value. A ``#`` comment line just before the
    data whose fields match the data's (as ``numpy.savetxt(header=...)`` writes) is the
    header. netCDF: by default the only data variable whose first dimension is
    time-like; the coordinate of that dimension gives ``dt``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> t = 0.01 * np.arange(200)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "data.csv")
    ...     np.savetxt(path, np.c_[t, np.sin(t)], delimiter=",", header="t,x",
    ...                comments="", fmt="%.6g")
    ...     series = read_series(path)
    >>> series.name, series.dt, series.values.shape
    ('x', 0.01, (200,))
    """
    label = os.fspath(path)
    if not isinstance(label, str):
        label = os.fsdecode(label)
    if dt is not None:
        dt = check_positive(dt, "dt")
    found = _READERS[_file_type(Path(label), label)](Path(label), column, label)
    _check_samples(found, label)
    return SeriesFile(values=found.values, dt=_reconcile_dt(dt, found, label),
                      name=found.name, path=label, time=found.time)


def _file_type(path, label):
    if not path.exists():
        raise ValueError(f"{label}: file does not exist")
    if path.is_dir():
        raise ValueError(f"{label}: is a directory, not a file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        what = f"extension {path.suffix!r}" if suffix else "no extension"
        raise ValueError(f"{label}: unknown file type ({what}); expected one of "
                         + ", ".join(SUFFIXES))
    return suffix


def _check_samples(found, label):
    n = found.values.shape[0]
    if n < MIN_SAMPLES:
        raise ValueError(f"{label}, {found.where}: {n} samples; at least {MIN_SAMPLES} "
                         "are needed")
    if found.values.min() == found.values.max():
        raise ValueError(f"{label}, {found.where}: the series is constant (every value is "
                         f"{found.values[0]:.10g}); there is nothing to analyse")


def _reconcile_dt(dt, found, label):
    if dt is None or found.step is None:
        return found.step if dt is None else dt
    rel = abs(dt - found.step) / found.step
    if rel > DT_RTOL + found.step_error / found.step:
        raise ValueError(
            f"{label}: dt={dt:.10g} disagrees with the spacing {found.step:.10g} of "
            f"{found.time_where} (relative difference {rel:.2g} > {DT_RTOL:g}); omit dt to "
            "use the file's time stamps")
    return dt


_READERS = {**{s: _read_text for s in TEXT_SUFFIXES}, ".npy": _read_npy, ".nc": _read_netcdf}
