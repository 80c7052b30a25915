"""The results contract: every variable a scenario run puts in ``results.nc``, declared once.

:data:`VARIABLES` is the single table of what the job function returns, what the
reference function returns and what the runner adds, with dims, dtype, units, long
name and description. From it the real job's output is checked (:func:`check_result`,
called by ``jdyn.scenarios.jobs.run_job`` on every result), ``results.nc`` is labelled
(:func:`describe`: the ``units`` and ``long_name`` the report's axis labels are read
from, so the report needs nothing but results.nc), the documentation's table is
rendered (:func:`markdown_table`) and the tests' fake jobs are generated.

Units follow CF/UDUNITS where a unit exists: ``"1"`` for dimensionless numbers, ``"s"``
for seconds. ``{time}`` in a unit is the time unit of the series: ``iteration`` for a
map or a series without ``dt``, ``time unit`` for a flow or a series with ``dt`` (the
model time of the built-in flows, or the file's own time unit). ``{data}`` is the
units of the observed series (``"1"`` for the built-in systems, whose equations are
dimensionless; ``data.units`` for a file). Variables with the dtype ``"str"`` are
text and carry no units attribute beyond ``"1"``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Variable", "VARIABLES", "DIMS", "SWEEP_COORDS", "JOB", "REFERENCE", "RUNNER",
           "job_variables", "check_result", "units_of", "describe", "markdown_table"]

#: Who writes a variable.
JOB, REFERENCE, RUNNER = "job", "reference", "runner"


@dataclass(frozen=True)
class Variable:
    """One variable of ``results.nc``.

    Attributes
    ----------
    name : str
    dims : tuple of str
        Its own dimensions: a job's variable lives over the sweep dimensions plus these,
        a reference variable over these alone.
    dtype : {"float64", "bool", "str"}
        What the producer returns: a float (NaN when unknown) or a list / nested list
        of floats for the dims, a bool (stored as 0/1 float64, NaN for a job not run),
        or a string.
    units : str
        CF units, with ``{time}`` and ``{data}`` filled in by :func:`units_of`.
    long_name : str
        The CF long name; also the report's axis label.
    description : str
        What it is and how it was computed, for the documentation.
    source : {"job", "reference", "runner"}
    when : str
        ``""`` if always present, else the scenario key that switches it on.
    """

    name: str
    dims: tuple
    dtype: str
    units: str
    long_name: str
    description: str
    source: str = JOB
    when: str = ""


def _v(name, dims, dtype, units, long_name, description, source=JOB, when=""):
    return Variable(name, tuple(dims), dtype, units, long_name, description, source, when)


_E, _F, _S, _B = ("exponent",), "float64", "str", "bool"
_LYAP = "nats/{time}"

#: Every variable of ``results.nc``, in the order the documentation lists them.
VARIABLES = {v.name: v for v in (
    _v("lyapunov", _E, _F, _LYAP, "Lyapunov exponents of the model along the data",
       "Spectrum of the fitted map's Jacobians evaluated on the observed delay vectors "
       "(QR method), descending."),
    _v("lyapunov_stderr", _E, _F, _LYAP, "standard error of the exponents along the data",
       "Batch-means standard error of `lyapunov`."),
    _v("lyapunov_free", _E, _F, _LYAP, "Lyapunov exponents of the model's free run",
       "Spectrum along the model's own free-running orbits (NaN if every orbit escaped)."),
    _v("lyapunov_free_stderr", _E, _F, _LYAP, "standard error of the free-run exponents",
       "Standard error of `lyapunov_free` over orbits and batches."),
    _v("kaplan_yorke", (), _F, "1", "Kaplan-Yorke dimension of the model",
       "Kaplan-Yorke dimension of `lyapunov_free`."),
    _v("correlation_dim", (), _F, "1", "correlation dimension of the model's free run",
       "Slope of ln C(r) against ln r over `fit_lo`..`fit_hi`.", when="analysis.correlation_dim"),
    _v("one_step_error", (), _F, "1", "one-step prediction error (RMS / sd of the series)",
       "RMS one-step prediction error against the noise-free series (a built-in system) "
       "or the observed series (a data file), over that series' standard deviation."),
    _v("multi_step_error", (), _F, "1", "5-step prediction error (RMS / sd of the series)",
       "RMS error of 5 steps of free prediction, against the same series as "
       "`one_step_error`, over its standard deviation."),
    _v("train_seconds", (), _F, "s", "training wall time", "Wall time of the fit alone."),
    _v("strength_used", (), _F, "1", "regulariser strength used",
       "The regulariser's weight: as given, or the one chosen when `strength = \"auto\"`."),
    _v("noise_estimate", (), _F, "1", "estimated noise level (fraction of the series' sd)",
       "Observational noise level estimated from the data by the fit (NaN when the fit "
       "estimates none)."),
    _v("diverged", (), _B, "1", "the model's free run diverged (1 = yes)",
       "Whether every free run escaped the data's range."),
    _v("free_run_status", (), _S, "1", "how the model's free run ended",
       "ok, diverged, fixed_point, periodic or non_chaotic (see jdyn.estimators.free_run)."),
    _v("history_total", ("iteration",), _F, "1", "training objective (total)",
       "The total objective per iteration, in the units of the standardised series; its "
       "terms depend on the regulariser, so objectives of different regularisers do not "
       "compare."),
    _v("free_orbit", ("sample", "coord"), _F, "{data}", "free-run orbit of the model",
       "The last samples of the first orbit that stayed bounded, its first two state "
       "coordinates (delay coordinates of the series), in the series' own units."),
    _v("log_r", ("radius",), _F, "1", "ln r (r in standard deviations of the series)",
       "Natural log of the correlation-sum radii; the radii are in units of the series' "
       "standard deviation (the model's standardised coordinates).",
       when="analysis.correlation_dim"),
    _v("log_c", ("radius",), _F, "1", "ln C(r), the correlation sum",
       "Natural log of the correlation sum of the model's free run at `log_r`.",
       when="analysis.correlation_dim"),
    _v("fit_lo", (), _F, "1", "lower end of the D2 fit range, ln r",
       "Lower end of the range of `log_r` over which `correlation_dim` was fitted "
       "(a natural log, like `log_r`).", when="analysis.correlation_dim"),
    _v("fit_hi", (), _F, "1", "upper end of the D2 fit range, ln r",
       "Upper end of that range (a natural log, like `log_r`).",
       when="analysis.correlation_dim"),
    _v("nolds_lyapunov_max", (), _F, _LYAP, "nolds lyap_r largest exponent of the data",
       "nolds' Rosenstein estimate on the same noisy series, no model.",
       when="analysis.baselines"),
    _v("nolds_lyapunov", _E, _F, _LYAP, "nolds lyap_e exponents of the data",
       "nolds' Eckmann estimate on the same noisy series, no model.",
       when="analysis.baselines"),
    _v("nolds_correlation_dim", (), _F, "1", "nolds corr_dim of the data",
       "nolds' correlation dimension of the same noisy series.", when="analysis.baselines"),
    _v("nolds_settings", (), _S, "1", "settings of the nolds baselines",
       "The nolds calls and their arguments, as run.", when="analysis.baselines"),
    _v("true_lyapunov", _E, _F, _LYAP, "Lyapunov exponents of the true system",
       "Spectrum of the built-in system itself (long QR run).", REFERENCE),
    _v("true_kaplan_yorke", (), _F, "1", "Kaplan-Yorke dimension of the true system",
       "From `true_lyapunov`.", REFERENCE),
    _v("true_correlation_dim", (), _F, "1", "correlation dimension of the true system",
       "Correlation dimension of a long orbit of the system's full state.", REFERENCE),
    _v("true_orbit", ("sample", "coord"), _F, "{data}", "orbit of the true system",
       "The observed coordinate of the true system in the same delay coordinates as "
       "`free_orbit`.", REFERENCE),
    _v("status", (), _S, "1", "job status",
       "ok, error, missing (not run) or the job's own.", RUNNER),
    _v("reason", (), _S, "1", "why a job did not end normally", "Empty when it did.", RUNNER),
    _v("job_id", (), _S, "1", "job identifier", "Hash of the job's config.", RUNNER),
    _v("job_seconds", (), _F, "s", "job wall time", "Measured by the runner.", RUNNER),
)}

#: Dimension → (long_name, units) of its index coordinate.
DIMS = {
    "exponent": ("exponent index (1 = largest)", "1"),
    "iteration": ("training iteration", "1"),
    "radius": ("radius index of the correlation sum", "1"),
    "sample": ("sample index along the orbit", "1"),
    "coord": ("delay coordinate (0: x(n), 1: x(n - lag))", "1"),
}

#: Sweep axis → (long_name, units).
SWEEP_COORDS = {
    "noise": ("noise level (fraction of the signal's standard deviation)", "1"),
    "regulariser": ("regulariser", "1"),
    "strength": ("regulariser strength", "1"),
    "seed": ("random seed", "1"),
    "hidden": ("hidden layer widths", "1"),
    "dim": ("embedding dimension", "1"),
}


def job_variables(config=None) -> dict:
    """The variables a job returns (``status``/``reason`` included), for a job config.

    Parameters
    ----------
    config : dict, optional
        A job config; the variables switched off by its ``analysis`` keys are left out.
        Without it, every job variable.
    """
    out = {}
    for name, var in VARIABLES.items():
        if var.source == JOB and (config is None or _switched_on(var, config)):
            out[name] = var
    return out


def _switched_on(var, config):
    if not var.when:
        return True
    section, key = var.when.split(".")
    return bool(config[section][key])


def check_result(result, config):
    """Check one job's result against the contract; raise ``ValueError`` naming each
    variable that is missing, extra, or of the wrong dims or dtype.

    Parameters
    ----------
    result : dict
        What the job function returned (``status`` and ``reason`` not required).
    config : dict
        The job config (which optional variables to expect).
    """
    expected = job_variables(config)
    problems = [f"{name}: missing" for name in expected
                if name not in result and name not in ("status", "reason")]
    problems += [f"{name}: not in the results contract" for name in result
                 if name not in expected and name not in ("status", "reason")]
    for name, value in result.items():
        var = expected.get(name)
        if var is not None:
            problem = _shape_problem(var, value)
            if problem:
                problems.append(f"{name}: {problem}")
    if problems:
        raise ValueError("job result breaks the results contract: " + "; ".join(problems))


def _shape_problem(var, value):
    """``""`` if ``value`` fits ``var``, else what is wrong."""
    if var.dtype == _S:
        return "" if isinstance(value, str) else f"got {type(value).__name__}; expected str"
    if var.dtype == _B:
        return "" if isinstance(value, bool) or getattr(value, "dtype", None) == bool \
            else f"got {type(value).__name__}; expected bool"
    if isinstance(value, dict):
        dims = tuple(value.get("dims", ()))
        return "" if dims == var.dims else f"dims {dims}; expected {var.dims}"
    ndim = _ndim(value)
    if var.dims == _E:
        return "" if ndim == 1 else f"{ndim}-d; expected a list over exponent"
    if var.dims:
        return f"got a {type(value).__name__}; expected {{'dims': {list(var.dims)}, 'data': ...}}"
    return "" if ndim == 0 else f"{ndim}-d; expected a scalar"


def _ndim(value):
    n = 0
    while isinstance(value, (list, tuple)) or hasattr(value, "ndim"):
        if hasattr(value, "ndim"):
            return n + value.ndim
        if not value:
            return n + 1
        value, n = value[0], n + 1
    return n


def units_of(var, time="iteration", data="1") -> str:
    """``var.units`` with ``{time}`` and ``{data}`` filled in."""
    return var.units.format(time=time, data=data)


def describe(ds, time="iteration", data="1"):
    """Set ``units`` and ``long_name`` on every variable and coordinate of ``ds`` that
    the contract knows; others (a custom job's) get their name as long name and
    ``units = "1"``. Returns ``ds``."""
    for name in ds.variables:
        var = VARIABLES.get(name)
        if var is not None:
            long_name, units = var.long_name, units_of(var, time, data)
        else:
            long_name, units = DIMS.get(name) or SWEEP_COORDS.get(name) or (
                name.replace("_", " "), "1")
        ds[name].attrs["long_name"] = long_name
        ds[name].attrs["units"] = units
    return ds


def markdown_table() -> str:
    """The contract as a Markdown table (for the documentation)."""
    rows = ["| variable | dims | dtype | units | written by | meaning |",
            "|---|---|---|---|---|---|"]
    for var in VARIABLES.values():
        dims = ", ".join(var.dims) or "—"
        source = var.source + (f" (if {var.when})" if var.when else "")
        text = f"{var.long_name}. {var.description}".replace("|", "\\|")
        rows.append(f"| `{var.name}` | {dims} | {var.dtype} | `{var.units}` | {source} | "
                    f"{text} |")
    return "\n".join(rows)
