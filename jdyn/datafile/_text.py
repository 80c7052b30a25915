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

from __future__ import annotations

import csv
import math
import numbers
import os
import re
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path

import numpy as np

from ._validation import check_positive

__all__ = ["MIN_SAMPLES", "SUFFIXES", "TIME_RTOL", "SeriesFile", "coordinate_seconds",
           "is_time_name", "read_series", "time_spacing"]

#: Fewest samples :func:`read_series` accepts.
MIN_SAMPLES = 100
#: Relative tolerance on time-stamp spacings (added to the stamps' own resolution).
TIME_RTOL = 1e-6
#: Relative difference above which a given ``dt`` and the file's spacing disagree
#: (plus the spacing's own uncertainty, for stamps written with few digits).
DT_RTOL = 1e-6
TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".dat")
SUFFIXES = TEXT_SUFFIXES + (".npy", ".nc")

_TIME_NAME = re.compile(
    r"(t|times?|timestamps?|time_?stamps?|dates?|date_?times?|date-time|epoch)"
    r"([\s_\-.\[(].*)?", re.IGNORECASE)
_MISSING = frozenset({"", "nan", "-nan", "+nan", "na", "n/a", "nat", "null", "none", "nil",
                      "missing", "-", "--", "?"})
_DECIMAL = re.compile(r"\s*[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*")
_FRACTION = re.compile(r"\d:\d\d[.,](\d+)")
_SNIFF_LINES = 50
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


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


# --------------------------------------------------------------------------- time stamps

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


# ----------------------------------------------------------------------- text files

def _read_text(path, column, label):
    _refuse_binary(path, label)
    delimiter, decimal_comma, header = _sniff(path, label)
    rows = _rows(path, delimiter, label)
    names, first, header_line = _header(rows, header)
    named = header_line is not None or header is not None
    value_i, time_i = _choose_columns(names, named, column, label)
    where = _column_where(names, named, value_i)
    time_where = _column_where(names, named, time_i) if time_i is not None else ""
    if time_i is not None and not named:
        time_where += (" (read as time: the first of two columns in a file without a header;"
                       " add a header row to change this)")
    parse = _TextColumns(label, len(names), value_i, time_i, where, time_where, decimal_comma)
    parse.read(first, rows, header_line)
    time, step, step_error = parse.time_and_step()
    return _Column(values=np.frombuffer(parse.values, dtype=np.float64), time=time,
                   name=_column_name(names, named, value_i), where=where,
                   step=step, step_error=step_error, time_where=time_where)


def _refuse_binary(path, label):
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise ValueError(f"{label}: cannot be opened ({exc.strerror})") from None
    if b"\0" in head:
        raise ValueError(f"{label}: is a binary file, not delimited text")


def _open_text(path, label):
    try:
        return open(path, newline="", encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise ValueError(f"{label}: cannot be opened ({exc.strerror})") from None


def _is_blank_or_comment(line):
    s = line.strip()
    return not s or s.startswith("#")


def _sniff(path, label):
    """Delimiter (None = whitespace), decimal comma, and the header comment if any."""
    with _open_text(path, label) as f:
        lines, comment = [], None
        for line in f:
            if _is_blank_or_comment(line):
                if not lines and line.strip():
                    comment = line.strip()[1:]
                continue
            lines.append(line)
            if len(lines) >= _SNIFF_LINES:
                break
    if not lines:
        raise ValueError(f"{label}: no data lines (the file is empty or all comments); at "
                         f"least {MIN_SAMPLES} samples are needed")
    delimiter, decimal_comma = _choose_delimiter(lines, path.suffix.lower())
    header = None
    if comment is not None and not _is_header(_split(lines[0], delimiter)):
        names = _split(comment, delimiter)
        if len(names) == len(_split(lines[0], delimiter)) and _is_header(names):
            header = names
    return delimiter, decimal_comma, header


def _split(line, delimiter):
    if delimiter is None:
        return line.split()
    return [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])]


def _choose_delimiter(lines, suffix):
    order = ["\t", ",", ";", None] if suffix == ".tsv" else [",", "\t", ";", None]
    candidates = []
    for d in order:
        counts = {len(_split(line, d)) for line in lines}
        if len(counts) == 1 and counts.pop() > 1:
            candidates.append(d)
    for d in candidates:
        data = [_split(line, d) for line in lines[1:]]
        if d != "," and _all_numeric(data, decimal_comma=True) and not _all_numeric(data):
            return d, True
        if _all_numeric(data):
            return d, False
    return (candidates[0] if candidates else ","), False


def _all_numeric(rows, decimal_comma=False):
    return all(_number_like(c.replace(",", ".") if decimal_comma else c)
               for row in rows for c in row)


def _number_like(cell):
    try:
        float(cell)
    except ValueError:
        return cell.lower() in _MISSING or _as_datetime(cell) is not None
    return True


def _as_datetime(cell):
    try:
        return datetime.fromisoformat(cell)
    except ValueError:
        return None


def _is_header(cells):
    return any(cells) and not any(c and _number_like(c) for c in cells)


def _rows(path, delimiter, label):
    """Yield ``(line, cells)`` for data lines, ``(line, None)`` for blank ones."""
    with _open_text(path, label) as f:
        if delimiter is None:
            for no, line in enumerate(f, 1):
                if not line.strip().startswith("#"):
                    yield no, (line.split() or None)
            return
        reader = csv.reader(f, delimiter=delimiter)
        try:
            for cells in reader:
                if cells and cells[0].lstrip().startswith("#"):
                    continue
                cells = [c.strip() for c in cells]
                yield reader.line_num, (cells if any(cells) or len(cells) > 1 else None)
        except csv.Error as exc:
            raise ValueError(f"{label}, line {reader.line_num}: cannot be parsed as "
                             f"delimited text ({exc})") from None


def _header(rows, comment_header):
    """Column names (None entries without header), the first data row, the header line.

    The first data row is None when it is still to be read (the header was a row); the
    header line is None without a header row.
    """
    for no, cells in rows:
        if cells is None:
            continue
        if comment_header is not None:
            return comment_header, (no, cells), None
        if _is_header(cells):
            return cells, None, no
        return [None] * len(cells), (no, cells), None
    return [], None, None


def _column_where(names, header, i):
    return f"column {names[i]!r}" if header and names[i] else f"column {i}"


def _column_name(names, header, i):
    return names[i] if header and names[i] else f"column {i}"


def _column_listing(names, header, indices):
    return ", ".join(_column_where(names, header, i).removeprefix("column ") for i in indices)


def _choose_columns(names, header, column, label):
    """Index of the value column and of the time column (or None)."""
    k = len(names)
    if header:
        time_i = next((i for i, n in enumerate(names) if n and is_time_name(n)), None)
        skip = {time_i} | ({0} if k > 1 and not names[0] else set())
    else:
        time_i = 0 if k == 2 else None
        skip = {time_i}
    if column is None:
        values = [i for i in range(k) if i not in skip]
        if len(values) == 1:
            return values[0], time_i
        if not values:
            raise ValueError(f"{label}: no value column (only "
                             f"{_column_listing(names, header, range(k))})")
        raise ValueError(f"{label}: {len(values)} value columns "
                         f"({_column_listing(names, header, values)}); choose one with "
                         "column (a name or a 0-based index)")
    i = _column_index(names, header, column, label)
    if i == time_i:
        raise ValueError(f"{label}: {_column_where(names, header, i)} is the time column; "
                         "choose a value column (" + _column_listing(
                             names, header, [j for j in range(k) if j != i]) + ")")
    return i, time_i


def _column_index(names, header, column, label):
    k = len(names)
    listing = _column_listing(names, header, range(k))
    if isinstance(column, numbers.Integral) and not isinstance(column, bool):
        if 0 <= column < k:
            return int(column)
        raise ValueError(f"{label}: no column {column} (0-based); columns are {listing}")
    if not isinstance(column, str):
        raise ValueError(f"{label}: column must be a name or a 0-based index; got {column!r}")
    if header and column in names:
        return names.index(column)
    folded = [i for i, n in enumerate(names) if header and n and n.lower() == column.lower()]
    if len(folded) == 1:
        return folded[0]
    if column.strip().isdigit():
        return _column_index(names, header, int(column), label)
    if not header:
        raise ValueError(f"{label}: no header row, so choose a column by 0-based index "
                         f"(columns are {listing}); got {column!r}")
    raise ValueError(f"{label}: no column {column!r}; columns are {listing}")


class _TextColumns:
    """Streams the value (and time) column of text rows into compact arrays."""

    def __init__(self, label, n_fields, value_i, time_i, where, time_where, decimal_comma):
        self.label, self.n_fields = label, n_fields
        self.value_i, self.time_i = value_i, time_i
        self.where, self.time_where = where, time_where
        self.decimal_comma = decimal_comma
        self.values, self.lines = array("d"), array("q")
        self.times, self.quantum = array("d"), array("d")
        self.time_kind = None        # "number" or "datetime" (stamps in µs since 1970)
        self.naive = None
        self.first_line = self.shape_line = None

    def read(self, first, rows, header_line=None):
        self.shape_line = header_line
        pending_blank = None
        for no, cells in chain([first] if first is not None else [], rows):
            if cells is None:
                if self.first_line is not None and pending_blank is None:
                    pending_blank = no
                continue
            if pending_blank is not None:
                raise ValueError(f"{self.label}, line {pending_blank}: empty line (a missing "
                                 "sample); remove it or fill in the missing values")
            self._row(no, cells)

    def _row(self, no, cells):
        if self.first_line is None:
            self.first_line = no
            self.shape_line = self.shape_line or no
        if len(cells) != self.n_fields:
            raise ValueError(f"{self.label}, line {no}: {_fields(len(cells))}, expected "
                             f"{self.n_fields} (as on line {self.shape_line})")
        self.values.append(self._number(cells[self.value_i], no, self.where))
        self.lines.append(no)
        if self.time_i is not None:
            self._stamp(cells[self.time_i], no)

    def _number(self, cell, no, where):
        text = cell.replace(",", ".") if self.decimal_comma else cell
        try:
            x = float(text)
        except ValueError:
            if cell.lower() in _MISSING:
                raise ValueError(self._missing(cell, no, where)) from None
            hint = (" (decimal commas are read only when fields are not comma-separated)"
                    if "," in cell else "")
            raise ValueError(f"{self.label}, line {no}, {where}: {cell!r} is not a "
                             f"number{hint}") from None
        if math.isnan(x):
            raise ValueError(self._missing(cell, no, where))
        if math.isinf(x):
            raise ValueError(f"{self.label}, line {no}, {where}: {cell!r} is not a finite "
                             "number")
        return x

    def _missing(self, cell, no, where):
        what = repr(cell) if cell else "empty cell"
        return (f"{self.label}, line {no}, {where}: missing value ({what}); the series must "
                "be complete (fill or interpolate missing values first)")

    def _stamp(self, cell, no):
        if self.time_kind is None:
            self.time_kind = "number" if _number_like_float(cell) else "datetime"
        if self.time_kind == "number":
            self.times.append(self._number(cell, no, self.time_where))
            self.quantum.append(_decimal_quantum(cell.replace(",", ".")
                                                 if self.decimal_comma else cell))
            return
        self.times.append(self._microseconds(cell, no))
        m = _FRACTION.search(cell)
        self.quantum.append(10.0 ** -len(m.group(1)) if m else 0.0)

    def _microseconds(self, cell, no):
        if cell.lower() in _MISSING:
            raise ValueError(self._missing(cell, no, self.time_where))
        stamp = _as_datetime(cell)
        if stamp is None:
            raise ValueError(f"{self.label}, line {no}, {self.time_where}: {cell!r} is not "
                             "a number or an ISO 8601 date-time")
        naive = stamp.tzinfo is None
        if self.naive is None:
            self.naive = naive
        elif naive != self.naive:
            raise ValueError(f"{self.label}, line {no}, {self.time_where}: {cell!r} "
                             "mixes date-times with and without a time zone")
        return (stamp - (_EPOCH if naive else _EPOCH_UTC)) / _US

    def time_and_step(self):
        """Time stamps, shape (n,), their spacing (seconds for date-times) and its error."""
        if self.time_i is None or len(self.times) == 0:
            return None, None, 0.0
        t = np.frombuffer(self.times, dtype=np.float64)
        if self.time_kind == "datetime":
            time = t.astype(np.int64).view("datetime64[us]")
            t = (t - t[0]) * 1e-6
        else:
            time = t
        if t.shape[0] < 2:
            return time, None, 0.0
        quantum = np.frombuffer(self.quantum, dtype=np.float64)
        step, bad = time_spacing(t, quantum)
        if bad is not None:
            raise ValueError(self._spacing_error(t, time, step, bad))
        # On a regular grid the end-to-end mean is the best simple estimate: written stamps
        # are rounded (by at most half their quantum), their differences more so. Twelve
        # significant digits keep 0.1 from printing as 0.09999999999999999.
        n = t.shape[0] - 1
        step = float(f"{(t[-1] - t[0]) / n:.12g}")
        return time, step, float(quantum[0] + quantum[-1]) / (2 * n)

    def _spacing_error(self, t, time, step, i):
        unit = " s" if self.time_kind == "datetime" else ""
        shown, prev = _stamp_text(time[i]), _stamp_text(time[i - 1])
        head = f"{self.label}, line {self.lines[i]}, {self.time_where}: time {shown}"
        if t[i] <= t[i - 1]:
            return (f"{head} does not increase (line {self.lines[i - 1]} has {prev}); the "
                    "time stamps must increase")
        return (f"{head} is irregular: the spacing {t[i] - t[i - 1]:.6g}{unit} from line "
                f"{self.lines[i - 1]} departs from the typical spacing {step:.6g}{unit}; "
                "resample the series to a regular time grid")


def _fields(n):
    return f"{n} field" if n == 1 else f"{n} fields"


def _number_like_float(cell):
    try:
        float(cell.replace(",", "."))
    except ValueError:
        return False
    return True


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


_READERS = {**{s: _read_text for s in TEXT_SUFFIXES}, ".npy": _read_npy, ".nc": _read_netcdf}
