"""Reading one time series from a file: delimited text, NumPy ``.npy`` and netCDF.

:func:`read_series` is what ``jdyn analyse FILE [--column NAME] [--dt DT]`` calls. It
returns a :class:`SeriesFile` holding the values, the sampling interval (from ``dt`` or
the file's time stamps) and where they came from. Every problem with the file is a
``ValueError`` whose one-line message names the file and, where it applies, the line
(text files; the header counts) or the 1-based row (``.npy``, netCDF), the column and
what was expected. Nothing here writes a file, and memory use is linear in the series
length (only the chosen column and the time column are kept).

Time stamps must increase and be regular: every spacing ``t[i] - t[i-1]`` must lie
within ``TIME_RTOL * |h| + min(q, |h| / 2)`` of the typical spacing ``h`` (see
:func:`time_spacing`), where ``q`` is the resolution the two stamps were stored with.
For text files ``q`` is one unit in the last written digit of the coarser stamp
(``0.123457`` → ``1e-6``, ``12.35`` → ``0.01``; a date-time without fractional seconds
is exact); for binary coordinates it is ``4 * eps * |t|`` of their float type. So
``0.01`` steps written with six significant digits, or with ``%.6f``, pass, while a
missing sample (one spacing twice the others), a change of rate, or jitter larger than
the written precision is refused.
"""

from ._read import SUFFIXES, read_series
from ._series import MIN_SAMPLES, SeriesFile
from ._time import TIME_RTOL, coordinate_seconds, is_time_name, time_spacing

__all__ = ["MIN_SAMPLES", "SUFFIXES", "TIME_RTOL", "SeriesFile", "coordinate_seconds",
           "is_time_name", "read_series", "time_spacing"]
