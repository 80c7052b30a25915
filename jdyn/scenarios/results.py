"""The run directory on disk, and its assembly into one xarray Dataset.

Layout of a run directory ``DIR``::

    DIR/scenario.toml     the scenario file, verbatim
    DIR/manifest.json     scenario hash, normalised scenario, sweep axes, job table
    DIR/run.lock          present while a run writes DIR (pid, host)
    DIR/jobs/ID.json      one finished job each, written atomically
    DIR/reference.json    output of the reference function (truth), if any
    DIR/results.nc        everything above as one Dataset (:func:`assemble`)

A job file holds ``status``, ``reason``, ``seconds`` and ``result``: scalars become
variables over the sweep dimensions, lists become variables over the sweep
dimensions plus ``exponent`` (padded with NaN to the longest), and
``{"dims": [...], "data": nested list}`` values become variables over the sweep
dimensions plus those named dimensions (padded likewise): the place for per-job
curves.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

from jdyn.scenarios import contract

__all__ = ["VARIABLES", "COORDS", "write_atomic", "write_json", "read_json", "finished_jobs",
           "assemble", "open_results"]

MANIFEST, SCENARIO_COPY, JOBS_DIR = "manifest.json", "scenario.toml", "jobs"
LOCK, RESULTS, REFERENCE = "run.lock", "results.nc", "reference.json"

#: The results contract (re-exported: the table lives in :mod:`jdyn.scenarios.contract`).
VARIABLES = contract.VARIABLES
#: Sweep axis → (long_name, units).
COORDS = contract.SWEEP_COORDS
#: results.nc is netCDF4/HDF5, written by h5netcdf (a dependency): readable with the
#: netcdf4 and h5netcdf engines alike, whatever else is installed.
ENGINE = "h5netcdf"


def _temporary_beside(path: Path):
    """A new temporary file next to ``path`` with the permissions an ordinary new file
    gets (``mkstemp`` makes it 0600, which would leave results unreadable by the group
    that shares a run directory)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return fd, tmp


def write_atomic(path, data: bytes):
    """Write ``data`` to ``path`` so that readers see the old file or the new one,
    never a part: a temporary file in the same directory, fsync, then rename."""
    path = Path(path)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _quiet():
            os.unlink(tmp)
        raise
    with _quiet():  # the rename itself is durable only once the directory is synced
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, OSError)


def write_json(path, obj):
    """:func:`write_atomic` of ``obj`` as JSON (NaN allowed, as Python reads it)."""
    write_atomic(path, (json.dumps(obj, indent=1, allow_nan=True) + "\n").encode("utf-8"))


def read_json(path):
    """The JSON in ``path``, or ``None`` if it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def finished_jobs(out_dir) -> dict:
    """``{job_id: job record}`` of every readable job file in ``DIR/jobs``."""
    jobs = Path(out_dir) / JOBS_DIR
    out = {}
    if jobs.is_dir():
        for path in sorted(jobs.glob("*.json")):
            record = read_json(path)
            if isinstance(record, dict) and "status" in record:
                out[path.stem] = record
    return out


def _labels(values):
    labels = [json.dumps(v) if isinstance(v, list) else v for v in values]
    if any(isinstance(v, str) for v in labels):
        return np.array([str(v) for v in labels], dtype=object)
    return np.array(labels)


def _field(value):
    """``(extra dims, array)`` of one result entry, or ``None`` for a string."""
    if isinstance(value, dict):
        return tuple(value["dims"]), np.asarray(value["data"], dtype=float)
    if isinstance(value, list):
        return ("exponent",), np.asarray(value, dtype=float)
    if value is None:
        return (), np.asarray(np.nan)
    if isinstance(value, str):
        return None
    return (), np.asarray(float(value))


def _stack(entries, lead_shape, sizes):
    """Variables over ``lead_shape`` + their own dims from ``{name: {pos: value}}``."""
    data_vars = {}
    for name, by_pos in entries.items():
        fields = {pos: _field(v) for pos, v in by_pos.items()}
        if any(f is None for f in fields.values()):
            arr = np.full(lead_shape, "", dtype=object)
            for pos, v in by_pos.items():
                arr[pos] = "" if v is None else str(v)
            data_vars[name] = ((), arr)
            continue
        dims = max((f[0] for f in fields.values()), key=len)
        shape = lead_shape + tuple(sizes[d] for d in dims)
        arr = np.full(shape, np.nan)
        for pos, (own_dims, values) in fields.items():
            if own_dims != dims:
                continue  # mismatched kinds across jobs: leave this job's entry missing
            arr[pos + tuple(slice(0, n) for n in values.shape)] = values
        data_vars[name] = (dims, arr)
    return data_vars


def _grow(sizes, value):
    if isinstance(value, dict):
        for d, n in zip(value["dims"], np.shape(value["data"])):
            sizes[d] = max(sizes.get(d, 0), n)
    elif isinstance(value, list):
        sizes["exponent"] = max(sizes.get("exponent", 0), len(value))


def _versions():
    out = {"python": platform.python_version()}
    for package in ("jdyn", "numpy", "scipy", "xarray", "nolds", "h5netcdf", "h5py"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return out


def assemble(out_dir, path=None):
    """Build ``DIR/results.nc`` from the manifest and the job files.

    Jobs without a file are kept, with ``status = "missing"`` and NaN values, so a
    partial directory assembles too.

    Parameters
    ----------
    out_dir : str or os.PathLike
        A run directory.
    path : str or os.PathLike, optional
        Where to write; default ``DIR/results.nc``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import xarray as xr

    out_dir = Path(out_dir)
    manifest = read_json(out_dir / MANIFEST)
    if manifest is None:
        raise ValueError(f"{out_dir}: not a jdyn run directory (no readable {MANIFEST})")
    axes = manifest["axes"]
    if "scenario_text" not in manifest:    # kept once, in scenario.toml (not the manifest)
        from jdyn.scenarios.sweep import stored_text
        text = (out_dir / SCENARIO_COPY).read_text(encoding="utf-8")
        manifest["scenario_text"] = stored_text(text, manifest.get("scenario_sha256"))
    lead_dims = tuple(axes)
    lead_shape = tuple(len(v) for v in axes.values())
    from jdyn.scenarios.integrity import verified_jobs
    records = verified_jobs(out_dir)     # refuses edited or corrupted job files
    sizes, entries = {}, {}
    standard = {"status": {}, "reason": {}, "job_id": {}, "job_seconds": {}}
    for job in manifest["jobs"]:
        pos = tuple(job["index"])
        record = records.get(job["id"])
        standard["job_id"][pos] = job["id"]
        standard["status"][pos] = record["status"] if record else "missing"
        standard["reason"][pos] = record.get("reason", "") if record else "not run"
        standard["job_seconds"][pos] = record.get("seconds") if record else None
        for name, value in (record or {}).get("result", {}).items():
            entries.setdefault(name, {})[pos] = value
            _grow(sizes, value)
    taken = {*axes, *sizes, *standard}
    entries = {(f"job_{k}" if k in taken else k): v for k, v in entries.items()}
    reference = read_json(out_dir / REFERENCE) or {}
    ref_entries = {k: {(): v} for k, v in reference.get("result", {}).items()}
    for value in reference.get("result", {}).values():
        _grow(sizes, value)

    data_vars = {}
    for name, (dims, arr) in {**_stack(entries, lead_shape, sizes),
                              **_stack(standard, lead_shape, sizes)}.items():
        data_vars[name] = (lead_dims + dims, arr)
    for name, (dims, arr) in _stack(ref_entries, (), sizes).items():
        data_vars.setdefault(name, (dims, arr))
    coords = {axis: _labels(values) for axis, values in axes.items()}
    for dim, n in sizes.items():
        coords[dim] = np.arange(1 if dim == "exponent" else 0, n + (dim == "exponent"))
    ds = xr.Dataset(data_vars, coords=coords)
    _describe(ds, manifest, reference)
    target = Path(path) if path is not None else out_dir / RESULTS
    fd, tmp = _temporary_beside(target)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine=ENGINE)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        with _quiet():
            os.unlink(tmp)
    return target


def _describe(ds, manifest, reference):
    """CF attributes: units and long names from the contract, and the run's provenance,
    with the resolved scenario (every default filled in) as JSON in ``scenario_config``."""
    data = manifest["scenario"]
    source = data.get("data") or {}
    from_file = bool(source.get("path"))
    time = "time unit" if data["observation"].get("dt") is not None or (
        from_file and source.get("dt") is not None) else "iteration"
    contract.describe(ds, time=time, data=source.get("units", "1") if from_file else "1")
    seeds = sorted({job["seed"] for job in manifest["jobs"]})
    kind = "data file" if from_file else ("flow" if time == "time unit" else "map")
    ds.attrs.update({
        "Conventions": "CF-1.10",
        "title": f"jdyn scenario {data['scenario']['name']}",
        "source": f"jdyn {manifest['jdyn_version']} scenario run",
        "scenario_name": data["scenario"]["name"],
        "scenario_description": data["scenario"]["description"],
        "scenario": manifest["scenario_text"],      # set in assemble from scenario.toml
        "scenario_config": json.dumps(data, sort_keys=True),
        "scenario_hash": manifest["scenario_hash"],
        "system": source["path"] if from_file else data["system"]["name"],
        "system_kind": kind,
        "time_unit": time,
        "jdyn_version": manifest["jdyn_version"],
        "package_versions": "; ".join(f"{k}={v}" for k, v in _versions().items()),
        "seeds": np.array(seeds, dtype=np.int32),
        "job_function": manifest["job_function"],
        "sweep_axes": " ".join(manifest["axes"]) or "(none)",
    })
    if reference.get("status") in ("error", "timeout"):
        ds.attrs["reference_error"] = reference.get("reason", "")


def open_results(out_dir):
    """``DIR/results.nc`` loaded into memory (the file is closed again)."""
    import xarray as xr
    with xr.open_dataset(Path(out_dir) / RESULTS) as ds:   # any engine: old runs too
        return ds.load()
