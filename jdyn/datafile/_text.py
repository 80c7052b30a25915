"""Delimited text files: sniffing the delimiter, decimal comma and header, splitting rows
into cells, and choosing the value and time columns."""

from __future__ import annotations

import csv
import numbers

import numpy as np

from ._cells import _MISSING, _TextColumns
from ._series import MIN_SAMPLES, _Column
from ._time import _as_datetime, is_time_name

_SNIFF_LINES = 50


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
