"""Checksums of job files: an edited or corrupted ``jobs/ID.json`` is named, not trusted.

Each record the runner writes carries ``checksum``, the sha256 of its own canonical JSON
(sorted keys, no whitespace) without that entry. :func:`scan` checks every file's JSON,
checksum, shape (a ``status`` and ``reason`` string, a ``result`` table of numbers,
strings, lists of numbers or ``{"dims", "data"}`` curves) and identity (the file name is
the id of the config inside). A resumed run reruns the jobs whose files fail; assembly
and ``jdyn report`` refuse, naming every such file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["seal", "problem", "scan", "describe", "verified_jobs", "JOB_FIELDS"]

#: Entries every job record has.
JOB_FIELDS = ("status", "reason", "result")


def _digest(record) -> str:
    body = {k: v for k, v in record.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(record) -> dict:
    """``record`` with its ``checksum`` entry (a new dict)."""
    return {**record, "checksum": _digest(record)}


def _number(value):
    return isinstance(value, (int, float)) or value is None


def _bad_value(name, value):
    """Why one ``result`` entry cannot go into results.nc, or ``None``."""
    if isinstance(value, (bool, str)) or _number(value):
        return None
    if isinstance(value, list):
        return None if all(_number(v) and not isinstance(v, bool) for v in value) else \
            f"result.{name} is a list holding something other than numbers"
    if isinstance(value, dict):
        if set(value) != {"dims", "data"} or not isinstance(value["dims"], list):
            return f"result.{name} is a table without exactly 'dims' and 'data'"
        return None
    return f"result.{name} is a {type(value).__name__}"


def _shape(record):
    if not isinstance(record, dict):
        return f"holds {type(record).__name__}, not a job record"
    missing = [k for k in JOB_FIELDS if k not in record]
    if missing:
        return f"lacks {', '.join(missing)}"
    if not isinstance(record["status"], str) or not isinstance(record["reason"], str):
        return "status and reason must be strings"
    if not isinstance(record["result"], dict):
        return f"result is {type(record['result']).__name__}, not a table"
    return next(filter(None, (_bad_value(k, v) for k, v in record["result"].items())), None)


def problem(path, record, job_id=None):
    """Why the job file at ``path`` holding ``record`` is not to be trusted, or ``None``.

    Parameters
    ----------
    path : pathlib.Path
    record : object
        The parsed JSON, or ``None`` when the file did not parse.
    job_id : callable, optional
        ``config -> id``; when given, the file name must be the id of its config.
    """
    if record is None:
        return "is not valid JSON (corrupted or cut short)"
    shape = _shape(record)
    if shape:
        return shape
    if "checksum" not in record:
        return "has no checksum (written by hand, or by an older jdyn)"
    if record["checksum"] != _digest(record):
        return "does not match its checksum (edited or corrupted)"
    if record.get("job_id", path.stem) != path.stem or (
            job_id is not None and "config" in record and job_id(record["config"]) != path.stem):
        return "holds the record of another job (its file name is not its job id)"
    return None


def _read(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def scan(paths, job_id=None, keep=True):
    """``(good, bad)``: ``{stem: record}`` of the trustworthy files among ``paths`` (only
    each record's ``status`` unless ``keep``) and ``{path: problem}`` of the others."""
    good, bad = {}, {}
    for path in paths:
        record = _read(path)
        why = problem(path, record, job_id)
        if why:
            bad[path] = why
        else:
            good[path.stem] = record if keep else record["status"]
    return good, bad


def describe(bad) -> str:
    """``bad`` from :func:`scan` as ``"path (problem); path (problem)"``."""
    return "; ".join(f"{path} {why}" for path, why in sorted(bad.items()))


def verified_jobs(out_dir) -> dict:
    """``{job_id: record}`` of ``DIR/jobs/*.json``, every one checked.

    Raises
    ------
    ValueError
        Naming each file that fails :func:`problem`, and how to recompute it.
    """
    from jdyn.scenarios.sweep import job_id
    good, bad = scan(sorted((Path(out_dir) / "jobs").glob("*.json")), job_id)
    if bad:
        raise ValueError(f"{len(bad)} job file{'s' * (len(bad) != 1)} cannot be trusted: "
                         f"{describe(bad)}; rerun those jobs with jdyn run SCENARIO --out "
                         f"{out_dir} --resume (or delete the files)")
    return good
