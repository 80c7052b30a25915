"""What :func:`read_series` returns (:class:`SeriesFile`) and what each format reader
hands it (a column and its time stamps)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["MIN_SAMPLES", "SeriesFile"]

#: Fewest samples :func:`read_series` accepts.
MIN_SAMPLES = 100


@dataclass(frozen=True)
class SeriesFile:
    """One time series read from a file.

    Attributes
    ----------
    values : ndarray, shape (n,), float64
        The samples, finite, at least :data:`MIN_SAMPLES` of them, not constant.
    dt : float or None
        Sampling interval: the ``dt`` given to :func:`read_series`, else the spacing of
        the file's time stamps (seconds for date-times), else None.
    name : str
        The column or variable name (``"column 1"`` for a text file without header).
    path : str
        The file, as given.
    time : ndarray, shape (n,), or None
        The time stamps: float64, or ``datetime64[us]`` for date-times (UTC when the
        stamps carry a time zone); None when the file has no time column.
    """

    values: np.ndarray = field(repr=False)
    dt: float | None
    name: str
    path: str
    time: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.values.shape[0]


@dataclass(frozen=True)
class _Column:
    """What a format reader found, before the checks common to all formats."""

    values: np.ndarray
    name: str
    where: str                     # "column 'x'", "variable 'x'": used in messages
    time: np.ndarray | None = None
    step: float | None = None      # spacing of the time stamps
    step_error: float = 0.0        # its uncertainty from the stamps' written precision
    time_where: str = ""
