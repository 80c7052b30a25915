"""Cells of delimited text: the chosen value and time columns, parsed row by row (numbers,
missing values, date-times) into compact arrays."""

from __future__ import annotations

import math
from array import array
from itertools import chain

import numpy as np

from ._time import (
    _EPOCH,
    _EPOCH_UTC,
    _FRACTION,
    _US,
    _as_datetime,
    _decimal_quantum,
    _stamp_text,
    time_spacing,
)

_MISSING = frozenset({"", "nan", "-nan", "+nan", "na", "n/a", "nat", "null", "none", "nil",
                      "missing", "-", "--", "?"})


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
