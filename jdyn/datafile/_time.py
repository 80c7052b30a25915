"""Time stamps: names that mean time, ISO 8601 date-times, the resolution stamps were
written with, and the regularity of their spacing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np

__all__ = ["TIME_RTOL", "coordinate_seconds", "is_time_name", "time_spacing"]

#: Relative tolerance on time-stamp spacings (added to the stamps' own resolution).
TIME_RTOL = 1e-6

_TIME_NAME = re.compile(
    r"(t|times?|timestamps?|time_?stamps?|dates?|date_?times?|date-time|epoch)"
    r"([\s_\-.\[(].*)?", re.IGNORECASE)
_DECIMAL = re.compile(r"\s*[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*")
_FRACTION = re.compile(r"\d:\d\d[.,](\d+)")
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def is_time_name(name: str) -> bool:
    """Whether a column or dimension name means time (``t``, ``Time (s)``, ``date``, ...)."""
    return bool(_TIME_NAME.fullmatch(name.strip()))


def time_spacing(t, quantum=None):
    """Typical spacing of time stamps and the first sample where the spacing is wrong.

    Parameters
    ----------
    t : ndarray, shape (n,), float64
        Time stamps, ``n >= 2``.
    quantum : ndarray, shape (n,), optional
        Resolution each stamp was stored with (e.g. one unit in its last written
        digit); never taken below ``4 * eps * |t|`` (float64 rounding).

    Returns
    -------
    step : float
        The median of ``(t[i+k] - t[i]) / k`` over ``i``, with ``k = max(1, (n-1)//10)``:
        robust to a few gaps like the median spacing, but with the stamps' rounding
        divided by ``k``.
    first : int or None
        The first ``i >= 1`` whose spacing ``t[i] - t[i-1]`` is ``<= 0`` or departs from
        ``step`` by more than ``TIME_RTOL * |step| + min(q, |step| / 2)`` (``q`` the
        coarser resolution of the two stamps), plus the rounding error of ``step``
        (``2 * median(q) / k``); None when the stamps are regular.
    """
    floor = 4 * np.finfo(np.float64).eps * np.abs(t)
    quantum = floor if quantum is None else np.maximum(quantum, floor)
    q = np.maximum(quantum[1:], quantum[:-1])
    k = max(1, (t.shape[0] - 1) // 10)
    step = float(np.median((t[k:] - t[:-k]) / k))
    q = np.minimum(q, 0.5 * abs(step))
    slack = TIME_RTOL * abs(step) + 2 * float(np.median(q)) / k + q
    d = np.diff(t)
    bad = np.flatnonzero((d <= 0) | (np.abs(d - step) > slack))
    return step, (int(bad[0]) + 1 if bad.size else None)


def coordinate_seconds(coord):
    """Numeric or datetime64 coordinate values as float time stamps with their resolution.

    Parameters
    ----------
    coord : ndarray, shape (n,)

    Returns
    -------
    (t, quantum) : pair of ndarray, shape (n,), float64, or None
        Datetimes become seconds since the first stamp; other dtypes (strings,
        objects) give None.
    """
    if np.issubdtype(coord.dtype, np.datetime64):
        t = (coord - coord[0]) / np.timedelta64(1, "s")
        eps = np.finfo(np.float64).eps
    elif coord.dtype.kind in "iuf":
        t = coord.astype(np.float64)
        eps = np.finfo(coord.dtype if coord.dtype.kind == "f" else np.float64).eps
    else:
        return None
    return t, 4 * eps * np.abs(t)


def _as_datetime(cell):
    try:
        return datetime.fromisoformat(cell)
    except ValueError:
        return None


def _decimal_quantum(cell):
    """One unit in the last written digit of a decimal number (0 when unrecognised)."""
    m = _DECIMAL.fullmatch(cell)
    if m is None:
        return 0.0
    return 10.0 ** min(int(m.group(2) or 0) - len(m.group(1) or ""), 300)


def _stamp_text(value):
    if isinstance(value, np.datetime64):
        return str(value)
    return f"{float(value):.10g}"
