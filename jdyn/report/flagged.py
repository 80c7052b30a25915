"""The jobs that did not end normally, and the count of jobs by status."""

from __future__ import annotations

import numpy as np

from .tables import Table, label, sweep_dims

__all__ = ["flagged_table", "status_counts"]


def _flag_value(ds, name, index, dims):
    if name not in ds.variables or any(d not in dims for d in ds[name].dims):
        return None
    da = ds[name]
    return da.values[tuple(index[dims.index(d)] for d in da.dims)]


def flagged_table(ds, limit=40) -> Table:
    """Jobs that did not end normally: status not ``ok``, or a diverged or failed free
    run."""
    dims = sweep_dims(ds)
    header = [*dims, "status", "diverged", "free run", "reason"]
    rows, extra = [], 0
    for index in np.ndindex(*(ds.sizes[d] for d in dims)):
        status = _flag_value(ds, "status", index, dims)
        diverged = _flag_value(ds, "diverged", index, dims)
        free = _flag_value(ds, "free_run_status", index, dims)
        reason = _flag_value(ds, "reason", index, dims)
        known = diverged is not None and np.isfinite(float(diverged))
        is_div = known and float(diverged) > 0
        bad = status not in (None, "ok") or is_div or free not in (None, "", "ok")
        if not bad:
            continue
        if len(rows) >= limit:
            extra += 1
            continue
        why = str(reason or "")
        rows.append([*(label(ds[d].values[i]) for d, i in zip(dims, index)),
                     str(status if status is not None else "—"),
                     "yes" if is_div else ("no" if known else "—"),
                     str(free) if free not in (None, "") else "—", why])
    note = f"{extra} more not shown." if extra else ""
    return Table("Jobs that did not end normally", header, rows, note)


def status_counts(ds) -> dict:
    """``{status: number of jobs}``."""
    if "status" not in ds.variables:
        return {}
    values, counts = np.unique(np.asarray(ds["status"].values, dtype=str), return_counts=True)
    return {str(v): int(c) for v, c in zip(values, counts)}
