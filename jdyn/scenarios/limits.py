"""Size limits checked before any work starts, and the dry run's time estimate.

Both use only the scenario's numbers (the sweep is not expanded), so a sweep of ten
million jobs is refused in milliseconds. A job's memory grows like series length x
model width x (embedding dimension + 2): the forward and tangent activations of every
sample, for the data and the validation split, with the optimiser's copies.
:data:`BYTES_PER_UNIT` was measured: an mlp fit of a 100,000-sample Hénon series with
hidden = [30], dim 2, peaked 200 MB above the interpreter's own memory.
"""

from __future__ import annotations

import math

from jdyn.scenarios.schema import SCHEMA

__all__ = ["count_jobs", "model_width", "job_memory_mb", "check_limits",
           "estimate_seconds", "format_seconds"]

#: Peak bytes per (sample x width x (dim + 2)) unit of a job (see the module docstring).
BYTES_PER_UNIT = 64
#: Seconds per (sample x width x (dim + 2)) unit per training iteration (same fit, 15
#: iterations in 1.4 s on one core), and the fixed cost of a job's analysis.
SECONDS_PER_UNIT_ITER = 8e-9
SECONDS_PER_JOB = 1.0
#: Extra fixed seconds for the nolds baselines on their 5000 points.
SECONDS_BASELINES = 5.0
#: Regularisers whose gradient also runs the tangent (J-prop) passes, about twice the work;
#: the eiv ones choose their strength from several fits when strength is "auto".
_COST = {"jacobian": 2.0, "double_backprop": 2.0, "logdet": 2.0, "eiv": 3.0,
         "eiv_logdet": 4.0}
_DEFAULTS = {name: key.default for name, key in SCHEMA["limits"].keys.items()}


def count_jobs(scenario) -> int:
    """The number of jobs of a sweep (the product of its axis lengths)."""
    return math.prod(len(values) for values in scenario.sweep.values())


def _values(scenario, axis, section, key):
    """Every value ``section.key`` takes over the sweep."""
    return scenario.sweep.get(axis) or [scenario.data[section][key]]


def model_width(kind, hidden, dim, degree) -> int:
    """Units per sample of a model: hidden widths summed (mlp, higher_order), centres
    (rbf) or monomials (polynomial)."""
    if kind == "polynomial":
        return math.comb(dim + degree, degree)
    if kind == "rbf":
        return hidden[0]
    return sum(hidden)


def _units(scenario):
    """Largest ``length x width x (dim + 2)`` over the sweep, with its dim and width."""
    model = scenario.data["model"]
    length = scenario.data["observation"]["length"]
    best = (0, 0, 0)
    for dim in _values(scenario, "dim", "embedding", "dim"):
        for hidden in _values(scenario, "hidden", "model", "hidden"):
            width = model_width(model["kind"], hidden, dim, model["degree"])
            best = max(best, (length * width * (dim + 2), width, dim))
    return best


def job_memory_mb(scenario) -> float:
    """Estimated peak memory of the scenario's largest job, in MB."""
    return _units(scenario)[0] * BYTES_PER_UNIT / 1e6


def _limit(scenario, name, override):
    limits = scenario.data.get("limits") or _DEFAULTS
    return override if override is not None else limits.get(name, _DEFAULTS[name])


def check_limits(scenario, max_jobs=None, max_job_memory=None):
    """Refuse a sweep with too many jobs or too large a job, before anything runs.

    Parameters
    ----------
    scenario : Scenario
    max_jobs : int, optional
        Overrides ``limits.max_jobs`` (``--max-jobs``).
    max_job_memory : float, optional
        Overrides ``limits.max_job_memory`` in MB (``--max-job-memory``).

    Raises
    ------
    ValueError
        Giving the figure, the limit and how to raise it.
    """
    n, cap = count_jobs(scenario), _limit(scenario, "max_jobs", max_jobs)
    if n > cap:
        shape = " x ".join(f"{len(v)} {a}" for a, v in scenario.sweep.items())
        raise ValueError(f"{scenario.source}: the sweep expands to {n:,} jobs ({shape}), "
                         f"over the limit of {cap:,}; shrink [sweep], or raise the limit "
                         "with --max-jobs N or limits.max_jobs")
    mb, cap = job_memory_mb(scenario), _limit(scenario, "max_job_memory", max_job_memory)
    if mb > cap:
        _, width, dim = _units(scenario)
        length = scenario.data["observation"]["length"]
        raise ValueError(f"{scenario.source}: the largest job needs about {mb:,.0f} MB "
                         f"(observation.length {length:,} x model width {width:,} x "
                         f"(embedding.dim {dim} + 2) x {BYTES_PER_UNIT} bytes), over the "
                         f"limit of {cap:,.0f} MB; shrink it, or raise the limit with "
                         "--max-job-memory MB or limits.max_job_memory")


def _job_seconds(config):
    model, obs, dim = config["model"], config["observation"], config["embedding"]["dim"]
    width = model_width(model["kind"], model["hidden"], dim, model["degree"])
    units = obs["length"] * width * (dim + 2)
    fit = SECONDS_PER_UNIT_ITER * units * config["training"]["max_iter"]
    fit *= _COST.get(config["objective"]["regulariser"], 1.0)
    return fit + SECONDS_PER_JOB + SECONDS_BASELINES * bool(config["analysis"]["baselines"])


def estimate_seconds(jobs, workers) -> float:
    """A rough wall time for ``jobs`` (list of Job) on ``workers`` processes: from each
    job's size (samples x width x (dim + 2) x iterations); good to a factor of a few,
    an upper bound when early stopping ends fits sooner."""
    total = sum(_job_seconds(job.config) for job in jobs)
    longest = max((_job_seconds(job.config) for job in jobs), default=0.0)
    return max(total / max(workers, 1), longest)


def format_seconds(seconds) -> str:
    """``"45 s"``, ``"12 min"``, ``"3.5 h"`` or ``"2.1 days"``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
