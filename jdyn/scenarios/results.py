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

__all__ = ["VARIABLES", "COORDS", "write_atomic", "write_json", "read_json", "finished_jobs",
           "assemble", "open_results"]

MANIFEST, SCENARIO_COPY, JOBS_DIR = "manifest.json", "scenario.toml", "jobs"
LOCK, RESULTS, REFERENCE = "run.lock", "results.nc", "reference.json"

#: name → (long_name, units); ``{time}`` becomes "iteration" for maps, "time unit" for flows.
VARIABLES = {
    "lyapunov": ("Lyapunov exponents of the fitted model along the data", "nats/{time}"),
    "lyapunov_stderr": ("standard error of the model's Lyapunov exponents", "nats/{time}"),
    "lyapunov_free": ("Lyapunov exponents of the fitted model along its free run",
                      "nats/{time}"),
    "lyapunov_free_stderr": ("standard error of the free-run Lyapunov exponents",
                             "nats/{time}"),
    "kaplan_yorke": ("Kaplan-Yorke dimension of the fitted model", "1"),
    "correlation_dim": ("correlation dimension of the model's free run", "1"),
    "one_step_error": ("one-step prediction RMS error against the noise-free series, "
                       "over its standard deviation", "1"),
    "multi_step_error": ("5-step free prediction RMS error against the noise-free "
                         "series, over its standard deviation", "1"),
    "train_seconds": ("training wall time", "s"),
    "strength_used": ("regulariser strength used (chosen on validation if auto)", "1"),
    "diverged": ("the model's free run diverged (1 = yes)", "1"),
    "noise_estimate": ("observational noise level estimated by the errors-in-variables "
                       "fit (fraction of the signal's standard deviation)", "1"),
    "free_run_status": ("how the model's free run ended: ok, diverged, fixed_point, "
                        "periodic or non_chaotic", None),
    "true_lyapunov": ("Lyapunov exponents of the true system", "nats/{time}"),
    "true_correlation_dim": ("correlation dimension of the true system", "1"),
    "true_kaplan_yorke": ("Kaplan-Yorke dimension of the true system", "1"),
    "nolds_lyapunov": ("nolds lyap_e exponents of the noisy data", "nats/{time}"),
    "nolds_lyapunov_max": ("nolds lyap_r largest exponent of the noisy data", "nats/{time}"),
    "nolds_correlation_dim": ("nolds corr_dim of the noisy data", "1"),
    "status": ("job status: ok, error, missing (not run) or the job's own", None),
    "reason": ("why a job did not end normally", None),
    "job_id": ("job identifier (hash of its config)", None),
    "job_seconds": ("job wall time measured by the runner", "s"),
}

#: sweep axis / dimension → (long_name, units)
COORDS = {
    "noise": ("noise level (fraction of the signal's standard deviation)", "1"),
    "regulariser": ("regulariser", None),
    "strength": ("regulariser strength", "1"),
    "seed": ("random seed", None),
    "hidden": ("hidden layer widths", None),
    "dim": ("embedding dimension", None),
    "exponent": ("exponent index (1 = largest)", None),
}


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
    for package in ("jdyn", "numpy", "scipy", "xarray", "nolds"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return out


def _engine():
    for module, engine in (("netCDF4", "netcdf4"), ("h5netcdf", "h5netcdf")):
        try:
            __import__(module)
            return engine
        except ImportError:
            pass
    return "scipy"


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
    lead_dims = tuple(axes)
    lead_shape = tuple(len(v) for v in axes.values())
    records = finished_jobs(out_dir)
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
    if "exponent" in sizes:
        coords["exponent"] = np.arange(1, sizes["exponent"] + 1)
    ds = xr.Dataset(data_vars, coords=coords)
    _describe(ds, manifest, reference)
    target = Path(path) if path is not None else out_dir / RESULTS
    fd, tmp = _temporary_beside(target)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine=_engine())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        with _quiet():
            os.unlink(tmp)
    return target


def _describe(ds, manifest, reference):
    data = manifest["scenario"]
    time = "time unit" if data["observation"].get("dt") is not None else "iteration"
    for name in ds.variables:
        long_name, units = VARIABLES.get(name) or COORDS.get(name) or (
            name.replace("_", " "), None)
        ds[name].attrs["long_name"] = long_name
        if units is not None:
            ds[name].attrs["units"] = units.format(time=time)
    seeds = sorted({job["seed"] for job in manifest["jobs"]})
    ds.attrs.update({
        "title": f"jdyn scenario {data['scenario']['name']}",
        "scenario_name": data["scenario"]["name"],
        "scenario_description": data["scenario"]["description"],
        "scenario": manifest["scenario_text"],
        "scenario_hash": manifest["scenario_hash"],
        "system": data["system"]["name"],
        "system_kind": "flow" if time == "time unit" else "map",
        "jdyn_version": manifest["jdyn_version"],
        "package_versions": "; ".join(f"{k}={v}" for k, v in _versions().items()),
        "seeds": np.array(seeds, dtype=np.int32),
        "job_function": manifest["job_function"],
        "sweep_axes": " ".join(manifest["axes"]) or "(none)",
    })
    if reference.get("status") == "error":
        ds.attrs["reference_error"] = reference.get("reason", "")


def open_results(out_dir):
    """``DIR/results.nc`` loaded into memory (the file is closed again)."""
    import xarray as xr
    with xr.open_dataset(Path(out_dir) / RESULTS) as ds:
        return ds.load()
