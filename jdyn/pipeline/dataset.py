"""The declared contract between :func:`jdyn.analyse` and everything that reads its
answer (the report, ``results.nc``): one xarray Dataset, described by ``VARIABLES``.

Readers use these names, units and dimensions only; nothing else about an
:class:`~jdyn.pipeline.result.Analysis` is written down anywhere.
"""

from __future__ import annotations

import json

import numpy as np

__all__ = ["VARIABLES", "analysis_dataset"]

#: name → (dims, long name, units); "rate" is the exponents' unit (1/sample or 1/time unit).
VARIABLES = {
    "exponent_value": (("exponent",), "Lyapunov exponent (ensemble median)", "rate"),
    "exponent_sigma": (("exponent",), "uncertainty of the exponent (1 σ)", "rate"),
    "spurious": (("exponent",), "exponent not identified as the system's (1 = spurious)", "1"),
    "spurious_reason": (("exponent",), "why the exponent was kept or flagged", ""),
    "member_exponents": (("member", "exponent"), "exponents of each member along its free runs",
                         "rate"),
    "member_exponents_data": (("member", "exponent"),
                              "exponents of each member along the observed states", "rate"),
    "member_status": (("member",), "free-run status of each member", ""),
    "member_role": (("member",), "what each member was fitted to", ""),
    "member_noise_level": (("member",), "noise level estimated by each member", "1"),
    "member_correlation_dim": (("member",), "correlation dimension of each member's attractor", "1"),
    "member_one_step_error": (("member",), "normalised RMS one-step error of each member", "1"),
    "reference_exponents": (("reference", "reference_exponent"),
                            "exponents of the reference ensemble along its free runs", "rate"),
    "reference_status": (("reference",), "free-run status of the reference ensemble", ""),
    "kaplan_yorke": ((), "Kaplan-Yorke dimension of the identified exponents", "1"),
    "kaplan_yorke_sigma": ((), "uncertainty of the Kaplan-Yorke dimension (1 σ)", "1"),
    "correlation_dim": ((), "correlation dimension of the models' attractors", "1"),
    "correlation_dim_sigma": ((), "uncertainty of the correlation dimension (1 σ)", "1"),
    "noise_level": ((), "observational noise std / series std", "1"),
    "noise_level_sigma": ((), "uncertainty of the noise level (1 σ)", "1"),
    "series": (("time",), "the analysed series", "data"),
    "free_orbit": (("orbit_step",), "the first member's free run, observed coordinate", "data"),
    "log_radius": (("radius",), "natural log of the radius of the correlation sum", "1"),
    "log_correlation_sum": (("radius",), "natural log of the correlation sum C(r)", "1"),
}


def analysis_dataset(a):
    """The :class:`~jdyn.pipeline.result.Analysis` ``a`` as a CF-style Dataset."""
    import xarray as xr
    rate = "1/sample" if a.dt is None else "1/time unit"
    members, references = a.members, a.references
    first = members[0]
    values = {
        "exponent_value": a.all_exponents, "exponent_sigma": a.all_exponents_stderr,
        "spurious": a.spurious.astype(np.int8),
        "spurious_reason": np.array(a.spurious_reason, dtype=str),
        "member_exponents": np.array([m.exponents for m in members]),
        "member_exponents_data": np.array([m.exponents_data for m in members]),
        "member_status": np.array([m.status for m in members], dtype=str),
        "member_role": np.array([m.role for m in members], dtype=str),
        "member_noise_level": [m.noise_level for m in members],
        "member_correlation_dim": [m.correlation_dim for m in members],
        "member_one_step_error": [m.one_step_error for m in members],
        "reference_exponents": np.array([m.exponents for m in references]).reshape(
            len(references), a.embedding.reference_dim),
        "reference_status": np.array([m.status for m in references], dtype=str),
        "kaplan_yorke": a.kaplan_yorke, "kaplan_yorke_sigma": a.kaplan_yorke_stderr,
        "correlation_dim": a.correlation_dim, "correlation_dim_sigma": a.correlation_dim_stderr,
        "noise_level": a.noise_level, "noise_level_sigma": a.noise_level_stderr,
        "series": a.series,
        "free_orbit": np.empty(0) if first.free_orbit is None else first.free_orbit[:, 0],
        **_correlation_curve(first.correlation),
    }
    data_vars = {}
    for name, (dims, long_name, units) in VARIABLES.items():
        attrs = {"long_name": long_name}
        if units:
            attrs["units"] = {"rate": rate, "data": "data units"}.get(units, units)
        data_vars[name] = (dims, np.asarray(values[name]), attrs)
    time = np.arange(a.series.size) * (a.dt or 1.0)
    ds = xr.Dataset(data_vars, coords={
        "exponent": np.arange(1, a.embedding.dim + 1),
        "time": ("time", time, {"units": "sample" if a.dt is None else "time unit"})})
    ds.attrs.update(_attributes(a, first))
    return ds


def _correlation_curve(cd):
    if cd is None:
        return {"log_radius": np.empty(0), "log_correlation_sum": np.empty(0)}
    return {"log_radius": np.log(cd.radii), "log_correlation_sum": np.log(cd.csum)}


def _attributes(a, first):
    cd = first.correlation
    return {
        "Conventions": "CF-1.8",
        "title": "jdyn analysis: Lyapunov spectrum and dimensions of one series",
        "source": "jdyn.analyse (lag-step delay-map ensemble)",
        "embedding_dim": a.embedding.dim, "embedding_lag": a.embedding.lag,
        "reference_dim": a.embedding.reference_dim,
        "embedding_why": a.embedding.why,
        "dt": np.nan if a.dt is None else a.dt,
        "method": json.dumps(a.method, default=str),
        "warnings": "\n".join(a.warnings),
        "correlation_fit_log_range": [np.nan, np.nan] if cd is None
        else list(np.log(cd.fit_range)),
        "correlation_fit_slope": np.nan if cd is None else cd.dimension,
    }
