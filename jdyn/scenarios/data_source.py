"""Where a scenario's series comes from: a built-in ``[system]`` or a ``[data]`` file.

:func:`check_source` runs while a scenario is loaded, before anything is written: it
refuses a file naming both or neither, reads the ``[data]`` file with
:func:`jdyn.datafile.read_series` (so a missing, unparsable, non-numeric, gappy or
irregularly stamped file, a missing column or a disagreeing ``dt`` is a scenario error
naming the key), and records in the normalised scenario what was read: the absolute
path, its sha256 (a changed file is a different scenario), the sampling interval and
the number of samples.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from jdyn.datafile import read_series

__all__ = ["check_source", "needs_logdet"]

#: Regularisers that need a known log|det J|, which a measured series does not give.
needs_logdet = ("logdet", "eiv_logdet")


def check_source(raw, data, source, problems):
    """Check the series source of a validated scenario; keep only the table of the
    source used (``data["system"]`` or ``data["data"]``, filled in).

    Parameters
    ----------
    raw : dict
        The scenario file as parsed TOML.
    data : dict
        The normalised scenario (changed in place for a ``[data]`` file).
    source : str
        The scenario file (relative data paths are relative to its folder).
    problems : list of str
        Each problem found is appended as ``"key: got ...; expected ..."``.
    """
    has_system, has_data = "system" in raw, "data" in raw
    if has_system and has_data:
        problems.append("data: given together with [system]; expected one of them ([system] "
                        "for a built-in system, [data] for a series read from a file)")
    elif not has_system and not has_data:
        problems.append("system: missing required table [system]; expected [system] (a "
                        "built-in system) or [data] (a series read from a file)")
    elif has_data:
        del data["system"]
        _check_data(raw, data, source, problems)
    if not has_data:
        del data["data"]     # a built-in system's scenario (and its job ids) as before


def _check_data(raw, data, source, problems):
    given = raw.get("observation")
    for key in given if isinstance(given, dict) else ():
        problems.append(f"observation.{key}: given with [data]; expected no [observation] "
                        "keys (a series read from a file is fitted as it is)")
    if "noise" in data["sweep"]:
        problems.append("sweep.noise: given with [data]; expected no noise sweep (the "
                        "file's series carries its own noise)")
    _check_logdet(data, problems)
    table = data["data"]
    if table["path"] is None or any(p.startswith("data.") for p in problems):
        return
    path = Path(table["path"]).expanduser()
    if not path.is_absolute() and source != "<string>":
        path = Path(source).parent / path
    try:
        series = read_series(path, column=table["column"], dt=table["dt"])
    except ValueError as exc:
        problems.append(_read_problem(table, str(exc)))
        return
    table.update(path=str(path.resolve()), dt=series.dt, name=series.name,
                 length=len(series), sha256=_sha256(path))
    data["observation"] = {"length": len(series)}


def _check_logdet(data, problems):
    regs = data["sweep"].get("regulariser") or [data["objective"]["regulariser"]]
    if data["objective"]["logdet_target"] is None:
        for reg in regs:
            if reg in needs_logdet:
                problems.append(f"objective.regulariser: got {json.dumps(reg)} with [data]; "
                                "expected objective.logdet_target to be set (the log|det J| "
                                "of a measured series is not known from physics)")


def _read_problem(table, message):
    """The reader's one-line message under the key it concerns."""
    if table["column"] is not None and "column" in message:
        key = "column"
    elif table["dt"] is not None and "dt=" in message:
        key = "dt"
    else:
        key = "path"
    return (f"data.{key}: got {json.dumps(table[key])}; expected a readable, regularly "
            f"sampled numeric series ({message})")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
