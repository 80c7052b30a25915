"""One scenario job: simulate (or read the user's series), fit, read invariants, run
the baselines.

:func:`run_job` receives one expanded job config (the scenario's tables with the
sweep values substituted, plus ``seed``) and returns a flat dict of results for
``results.nc``, checked against :mod:`jdyn.scenarios.contract`; :func:`reference`
computes the truth once per scenario (none for a series read from a file). Every random
choice derives from the job's seed through ``numpy.random.SeedSequence``, so the same
scenario gives the same numbers.
"""

from __future__ import annotations

import time

import numpy as np

from .. import systems
from ..analysis.correlation import correlation_dim
from ..datafile import read_series
from . import contract
from ..analysis.lyapunov import lyapunov_spectrum
from ..estimators import DelayMapEstimator
from .quantities import Attempts

__all__ = ["run_job", "reference"]

#: Time units of transient for flows per "transient" sample, and reference lengths.
_REFERENCE_STEPS = {"map": 200_000, "flow": 4_000}
_REFERENCE_D2_POINTS = 20_000


def _system(config):
    return systems.get_system(config["system"]["name"], **config["system"].get("params", {}))


def _from_file(config):
    return bool((config.get("data") or {}).get("path"))


def _dt(config, system):
    """Sampling interval: a flow's (the loader fills in its default), a data file's
    (``data.dt`` or its time stamps; None without them), None for maps."""
    if system is None:
        return config["data"].get("dt")
    return config["observation"].get("dt") if system.is_flow else None


def _trajectory(system, config, n, rng, dynamical_noise=0.0):
    obs = config["observation"]
    if system.is_flow:
        dt = _dt(config, system)
        return system.trajectory(n, dt=dt, transient=obs["transient"] * dt, rng=rng,
                                 dynamical_noise=dynamical_noise)
    return system.trajectory(n, transient=obs["transient"], rng=rng,
                             dynamical_noise=dynamical_noise)


def observe(config):
    """``(clean, observed, system)``: the clean observed coordinate and its noisy version;
    for a data file ``(None, series, None)``."""
    if _from_file(config):
        data = config["data"]
        return None, read_series(data["path"], column=data["column"], dt=data["dt"]).values, \
            None
    system = _system(config)
    obs = config["observation"]
    data_seed, noise_seed = np.random.SeedSequence(config["seed"]).spawn(2)
    clean_states = _trajectory(system, config, obs["length"], np.random.default_rng(data_seed))
    clean = clean_states[:, obs["coordinate"]]
    level = obs["noise"]
    if obs["noise_kind"] == "dynamical" and level > 0:
        sigma = level * float(np.mean(clean_states.std(axis=0)))
        states = _trajectory(system, config, obs["length"], np.random.default_rng(noise_seed),
                             dynamical_noise=sigma)
        return states[:, obs["coordinate"]], states[:, obs["coordinate"]], system
    noisy = systems.add_observational_noise(clean, level, rng=np.random.default_rng(noise_seed))
    return clean, noisy, system


def known_logdet(system, config):
    """Pointwise ``log|det J|`` of the observed delay map when the physics fixes it
    (``system.delay_logdet``), else None; None for a data file."""
    if system is None:
        return None
    return system.delay_logdet(config["embedding"]["dim"], config["embedding"]["lag"])


def _estimator(config, system):
    obj, model, train = config["objective"], config["model"], config["training"]
    logdet = obj.get("logdet_target")
    regulariser = obj["regulariser"]
    if regulariser == "eiv":
        logdet = None                      # plain errors-in-variables: no physics
    elif logdet is None and regulariser in ("logdet", "eiv_logdet"):
        logdet = known_logdet(system, config)
        if logdet is None:
            what = "a data file" if system is None else system.name
            raise ValueError("objective.logdet_target is unset and the log-determinant of "
                             f"this series' delay map is not known pointwise ({what}, "
                             f"dim={config['embedding']['dim']})")
    return DelayMapEstimator(
        config["embedding"]["dim"], config["embedding"]["lag"], model=model["kind"],
        hidden=tuple(model["hidden"]), activation=model["activation"],
        degree=model["degree"], regulariser="eiv" if regulariser == "eiv_logdet" else regulariser,
        strength=obj["strength"],
        logdet_target=logdet, dt=_dt(config, system), method=train["method"],
        max_iter=train["max_iter"], validation_fraction=train["validation_fraction"],
        patience=train["patience"], rng=config["seed"], progress=False)


def run_job(config):
    """Fit one model and return its invariants, errors and baselines (a flat dict)."""
    clean, noisy, system = observe(config)
    est = _estimator(config, system)
    t0 = time.perf_counter()
    est.fit(noisy)
    seconds = time.perf_counter() - t0
    ana = config["analysis"]
    inv = est.invariants(noisy[:ana["lyapunov_steps"] * est.lag_ + est._window],
                         n_steps=ana["free_run_steps"], n_orbits=ana["n_orbits"],
                         rng=config["seed"], correlation=ana["correlation_dim"],
                         correlation_points=ana["correlation_points"])
    attempt = Attempts()     # the quantities below fail alone, as NaN with a reason
    errors = attempt("prediction_error", est.prediction_error,
                     noisy if clean is None else clean, horizon=_HORIZON,
                     fallback=np.full(_HORIZON, np.nan))
    out = {
        "lyapunov": inv.lyapunov_data.exponents,
        "lyapunov_stderr": inv.lyapunov_data.stderr,
        "lyapunov_free": inv.lyapunov_free.exponents,
        "lyapunov_free_stderr": inv.lyapunov_free.stderr,
        "kaplan_yorke": inv.kaplan_yorke,
        "correlation_dim": np.nan if inv.correlation_dim is None else inv.correlation_dim.dimension,
        "one_step_error": float(errors[0]),
        "multi_step_error": float(errors[-1]),
        "train_seconds": seconds,
        "strength_used": float(est.strength_),
        "noise_estimate": np.nan if est.noise_level_ is None else float(est.noise_level_),
        "diverged": inv.free_run_status == "diverged",
        "free_run_status": inv.free_run_status,
        "status": "ok",
        "reason": "; ".join(r for r in (inv.free_run_reason, inv.correlation_note) if r),
    }
    out.update(_curves(est, inv, config))
    if ana["baselines"]:
        out.update(attempt("baselines", _baselines, noisy, est, fallback={
            "nolds_lyapunov_max": np.nan, "nolds_lyapunov": [np.nan],
            "nolds_correlation_dim": np.nan, "nolds_settings": ""}))
    out["status"], out["reason"] = attempt.status(out["status"]), attempt.reason(out["reason"])
    contract.check_result(out, config)
    return out


#: Horizon of ``multi_step_error`` (steps of free prediction from clean states).
_HORIZON = 5
#: Points of the noisy series given to nolds (its estimators build N×N matrices).
_BASELINE_POINTS = 5000
#: Points of the free-running attractor kept for the report's picture.
_ORBIT_SAMPLES = 1500


def _curves(est, inv, config):
    """Per-job curves for the report: training history, free-run attractor (data units,
    as ``Invariants.free_orbit`` gives it; the first two window coordinates) and the
    correlation integral with its fit range (ln r, radii in standardised units)."""
    hist = est.history_.as_dict()
    out = {"history_total": {"dims": ["iteration"], "data": hist["total"].tolist()}}
    stayed = np.flatnonzero(np.all(np.isfinite(inv.free_orbit), axis=(1, 2)))
    orbit = inv.free_orbit[stayed[0] if stayed.size else 0, -_ORBIT_SAMPLES:, :2]
    orbit = orbit[np.all(np.isfinite(orbit), axis=1)]
    out["free_orbit"] = {"dims": ["sample", "coord"],
                         "data": orbit.tolist() if orbit.size else [[np.nan]]}
    cd = inv.correlation_dim
    if cd is not None:
        out["log_r"] = {"dims": ["radius"], "data": np.log(cd.radii).tolist()}
        out["log_c"] = {"dims": ["radius"], "data": np.log(cd.csum).tolist()}
        out["fit_lo"], out["fit_hi"] = (float(np.log(r)) for r in cd.fit_range)
    elif config["analysis"]["correlation_dim"]:   # not estimated: say so with NaN
        out.update(log_r=_NAN_CURVE, log_c=_NAN_CURVE, fit_lo=np.nan, fit_hi=np.nan)
    return out


_NAN_CURVE = {"dims": ["radius"], "data": [np.nan]}


def _baselines(series, est):
    """nolds on the same noisy series, settings as in :mod:`jdyn.baselines` (exponents
    per unit time for flows through ``tau = dt``)."""
    from .. import baselines
    tau = est.dt_ or 1.0
    m = max(est.dim_, 2)
    series = series[:_BASELINE_POINTS]       # nolds builds N×N matrices
    lr = baselines.lyap_r(series, emb_dim=est.dim_, lag=est.lag_, tau=tau)
    le = baselines.lyap_e(series, emb_dim=m, matrix_dim=m, tau=tau)
    cd = baselines.corr_dim(series, emb_dim=est.dim_, lag=est.lag_)
    settings = "; ".join(f"{r.estimator}({', '.join(f'{k}={_short(v)}' for k, v in r.settings.items())})"
                         for r in (lr, le, cd))
    return {"nolds_lyapunov_max": lr.value, "nolds_lyapunov": le.value,
            "nolds_correlation_dim": cd.value,
            "nolds_settings": f"first {len(series)} noisy points; {settings}"}


def _short(value):
    """Settings for a one-line summary: data-dependent arrays (nolds' default radii) by
    their size, so one scenario's jobs share one settings string."""
    arr = np.asarray(value)
    if arr.ndim and arr.size > 3:
        return f"{arr.size} data-dependent values"
    return value


def reference(config):
    """The truth for a scenario: exponents (per unit time), Kaplan–Yorke and D2 of the
    built-in system, and its orbit in the delay coordinates of the models' free runs;
    ``{}`` for a series read from a file (no truth is known)."""
    if _from_file(config):
        return {}
    system = _system(config)
    kind = "flow" if system.is_flow else "map"
    res = lyapunov_spectrum(system, _REFERENCE_STEPS[kind], rng=0,
                            **({"dt": _dt(config, system)} if system.is_flow else {}))
    states = _trajectory(system, config, _REFERENCE_D2_POINTS, np.random.default_rng(0))
    window = max(1, int(round(0.1 / _dt(config, system)))) if system.is_flow else 0
    d2 = correlation_dim(states, theiler_window=window, rng=0)
    lag = config["embedding"]["lag"]
    x = states[-_ORBIT_SAMPLES - lag:, config["observation"]["coordinate"]]
    return {"true_lyapunov": res.exponents, "true_kaplan_yorke": res.kaplan_yorke,
            "true_correlation_dim": d2.dimension,
            "true_orbit": {"dims": ["sample", "coord"],
                           "data": np.column_stack([x[lag:], x[:-lag]]).tolist()}}
