"""Sweep expansion, job identities, the scenario hash and the manifest recording them.

A sweep is the product of its axes, in the order the file lists them. Each job is
identified by a hash of what it computes (its config and jdyn's major.minor
version), so a finished job is recognised on resume however the sweep is ordered.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass

from jdyn.scenarios.schema import SWEEP_AXES

__all__ = ["Job", "expand", "job_id", "scenario_hash", "canonical_json", "version_tag",
           "axis_label", "format_job_table", "manifest_of", "check_same_run", "stored_text"]

#: Tables that do not change what a run computes.
_NOT_IDENTITY = ("output", "limits")
#: Hex digits kept from the sha256 (48 bits: collisions are negligible for sweeps).
ID_LENGTH = 12


@dataclass(frozen=True)
class Job:
    """One concrete job of a sweep.

    Attributes
    ----------
    id : str
        :func:`job_id` of ``config``.
    index : tuple of int
        Position along each sweep axis (empty without a sweep).
    coords : dict
        Sweep axis → value for this job, in axis order.
    config : dict
        The full job config handed to the job function (see
        :meth:`jdyn.scenarios.load.Scenario.base_config`), sweep values substituted.
    """

    id: str
    index: tuple
    coords: dict
    config: dict


def version_tag() -> str:
    """jdyn's ``major.minor``: results are comparable within it, not across it."""
    from jdyn import __version__
    return ".".join(__version__.split(".")[:2])


def canonical_json(obj) -> str:
    """JSON with sorted keys and no whitespace, the input of every hash here."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def _sha(obj) -> str:
    return hashlib.sha256(canonical_json(obj).encode("ascii")).hexdigest()


def job_id(config) -> str:
    """Short sha256 of a job config and the jdyn version tag."""
    return _sha({"config": config, "jdyn": version_tag()})[:ID_LENGTH]


def scenario_hash(scenario) -> str:
    """sha256 over the normalised scenario (all but ``[output]`` and ``[limits]``) and
    the version tag.

    Where results are written and how long a job may take do not change them, so
    ``[output]`` and ``[limits]`` are left out (a run may be resumed with a longer time
    limit); everything else, including the name and description, is part of the identity.
    """
    data = {k: v for k, v in scenario.data.items() if k not in _NOT_IDENTITY}
    return _sha({"scenario": data, "jdyn": version_tag()})


def expand(scenario) -> list:
    """All jobs of a scenario: the product of its sweep axes.

    Parameters
    ----------
    scenario : jdyn.scenarios.load.Scenario

    Returns
    -------
    list of Job
        In product order (the last axis varies fastest); one job without a sweep.
    """
    base = json.dumps(scenario.base_config())
    axes = list(scenario.sweep.items())
    jobs = []
    ranges = [range(len(values)) for _, values in axes]
    for index in itertools.product(*ranges):
        config = json.loads(base)     # a deep copy, many times faster than copy.deepcopy
        coords = {}
        for (axis, values), i in zip(axes, index):
            value = copy.deepcopy(values[i])
            coords[axis] = value
            path = SWEEP_AXES[axis]
            target = config
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
        jobs.append(Job(id=job_id(config), index=tuple(index), coords=coords, config=config))
    return jobs


def axis_label(value) -> str | float | int:
    """A sweep value as a coordinate label: numbers stay numbers, lists become text."""
    if isinstance(value, list):
        return json.dumps(value)
    return value


def format_job_table(scenario, jobs, done=(), out_dir=None) -> str:
    """The job table printed by ``jdyn run --dry-run``.

    Parameters
    ----------
    scenario : Scenario
    jobs : list of Job
    done : collection of str
        Ids of jobs already finished in the output directory.
    out_dir : str, optional
    """
    axes = list(scenario.sweep)
    shape = " x ".join(f"{len(v)} {a}" for a, v in scenario.sweep.items()) or "no sweep"
    head = [f"scenario {scenario.name!r}: {len(jobs)} job{'s' * (len(jobs) != 1)} ({shape})"]
    if out_dir is not None:
        n_done = sum(job.id in done for job in jobs)
        head.append(f"output {out_dir} ({n_done} of {len(jobs)} finished)")
    rows = [["#", "job", *axes, "state"]]
    for n, job in enumerate(jobs, 1):
        values = [str(axis_label(job.coords[a])) for a in axes]
        rows.append([str(n), job.id, *values, "done" if job.id in done else "pending"])
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(head + lines)


#: Characters of the scenario text that results.nc (and so the report) carries: the whole
#: of any hand-written file; the text itself is kept once, in ``DIR/scenario.toml``.
STORED_TEXT = 65_536


def stored_text(text, sha256=None) -> str:
    """``text`` as results.nc keeps it: whole up to :data:`STORED_TEXT` characters, else
    its beginning and a line saying where the rest is."""
    if len(text) <= STORED_TEXT:
        return text
    digest = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    return (text[:STORED_TEXT] + f"\n# ... {len(text):,} characters in all: the whole file is "
            f"scenario.toml in the run directory (sha256 {digest})\n")


def manifest_of(scenario, jobs, job_spec, ref_spec) -> dict:
    """The content of ``DIR/manifest.json``: what a run directory holds. The scenario's
    text is not repeated here (it is ``DIR/scenario.toml``), only its sha256.

    Parameters
    ----------
    scenario : Scenario
    jobs : list of Job
    job_spec, ref_spec : str or None
        ``"module:function"`` of the job and reference functions.
    """
    return {
        "format": 1,
        "jdyn_version": version_tag(),
        "scenario_hash": scenario_hash(scenario),
        "scenario": scenario.data,
        "scenario_sha256": hashlib.sha256(scenario.text.encode("utf-8")).hexdigest(),
        "axes": scenario.sweep,
        "job_function": job_spec,
        "reference_function": ref_spec,
        "jobs": [{"id": j.id, "index": list(j.index), "coords": j.coords,
                  "seed": j.config["seed"]} for j in jobs],
    }


def _differences(old, new, path=""):
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in [*old, *(k for k in new if k not in old)]:
            out += _differences(old.get(k), new.get(k), f"{path}.{k}" if path else k)
        return out
    return [] if old == new else [f"{path} ({json.dumps(old)} -> {json.dumps(new)})"]


def _identity(data):
    return {k: v for k, v in data.items() if k not in _NOT_IDENTITY}


def check_same_run(out, manifest, new):
    """Refuse to mix a changed scenario (or job function) into an old directory.

    Raises
    ------
    ValueError
        Naming every changed key, when ``manifest`` (the old directory's) and
        ``new`` (from :func:`manifest_of`) differ in scenario hash or job function.
    """
    changes = []
    if manifest.get("scenario_hash") != new["scenario_hash"]:
        changes = _differences(_identity(manifest.get("scenario", {})),
                               _identity(new["scenario"]))
        if manifest.get("jdyn_version") != new["jdyn_version"]:
            changes.append(f"jdyn version ({manifest.get('jdyn_version')} -> "
                           f"{new['jdyn_version']})")
        changes = changes or ["scenario hash"]
    if manifest.get("job_function") != new["job_function"]:
        changes.append(f"job function ({manifest.get('job_function')} -> "
                       f"{new['job_function']})")
    if changes:
        raise ValueError(f"{out} holds a run of a different scenario; changed: "
                         f"{'; '.join(changes)}. Use a new --out directory (or restore "
                         "the scenario) instead of --resume")
