"""One member of an analysis ensemble: a lag-step delay map fitted to one series, and
the invariants of the attractor it generates, checked against the data.

The exponents are read along the model's own free runs: that orbit is free of the
observational noise, which, evaluated along the noisy states instead, kicks the
Jacobians off the attractor (measured on Lorenz x at 5% noise: λ1 1.04–1.09 along
the data, 0.97–0.99 along free runs, truth 0.906). The spectrum along the data is
the check: a model whose orbits escape, collapse onto a cycle or settle on another
attractor (a largest exponent unlike the data's; measured on noisy Hénon at dim 3:
0.18 against 0.417) is not a model of this system, and the member is left out
(``usable`` is False) with the reason.

A member is described by a plain dict (so a worker process can run it) and returns a
plain dict (:func:`fit_member`); :class:`Member` is the parsed form the rest of the
pipeline reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..estimators import DelayMapEstimator

__all__ = ["Member", "fit_member", "member_from_outcome"]

#: Free-run statuses of a member whose invariants may be averaged.
USABLE = ("ok",)
#: A free run whose largest exponent differs from the one along the data by more than
#: this fraction of it (beyond three combined standard errors) is on another attractor.
ATTRACTOR_RTOL = 0.15


@dataclass(frozen=True)
class Member:
    """What one fitted model gave.

    Attributes
    ----------
    index : int
    dim : int
        Embedding dimension of the model.
    role : str
        ``"first"`` (the fit that chose the regulariser for the others) or
        ``"reseeded"`` (the same fit of the same series with another seed).
    seed : int
    status : str
        The free run's status ("ok", "diverged", "fixed_point", "periodic",
        "non_chaotic"), "off_attractor" (a chaotic free run whose largest exponent
        disagrees with the data's, see ``ATTRACTOR_RTOL``) or "failed" (the fit itself
        raised; ``reason`` says why).
    reason : str
    exponents, stderr : ndarray, shape (dim,)
        Lyapunov spectrum along the model's free runs (per sample, or per unit time with
        ``dt``) and its standard error; NaN if every free run escaped.
    exponents_data : ndarray, shape (dim,)
        The spectrum along the observed states (the check of the free run).
    correlation_dim, correlation_dim_stderr : float
        Of the free-running attractor (NaN if not estimated).
    noise_level : float
        Estimated observational noise, as a fraction of the series' std.
    regulariser, strength : str, float
        The fit used ("auto" resolved) and its strength (γ for "eiv").
    one_step_error : float
        Normalised RMS one-step error on the series (first entry of ``prediction_error``).
    seconds : float
    orbits_escaped : int
        Free runs that left the data's range (left out of the member's invariants).
    free_orbit : ndarray, shape (m, dim), or None
        The start of one free-running orbit in data units.
    correlation : CorrelationDimResult or None
    """

    index: int
    dim: int
    role: str
    seed: int
    status: str
    reason: str
    exponents: np.ndarray
    stderr: np.ndarray
    exponents_data: np.ndarray
    correlation_dim: float
    correlation_dim_stderr: float
    noise_level: float
    regulariser: str
    strength: float
    one_step_error: float
    seconds: float
    orbits_escaped: int = 0
    free_orbit: np.ndarray | None = None
    correlation: object = None

    @property
    def usable(self) -> bool:
        """Whether the free run is a chaotic attractor whose invariants can be averaged."""
        return self.status in USABLE and bool(np.all(np.isfinite(self.exponents)))


def fit_member(config) -> dict:
    """Fit one member; ``config`` holds ``series`` (n,), ``dim``, ``lag``, ``dt``,
    ``seed``, ``index``, ``role``, ``options`` (estimator keywords), ``n_steps``,
    ``n_orbits``, ``keep_orbit`` (samples of free orbit to return)."""
    start = time.perf_counter()
    est = DelayMapEstimator(config["dim"], config["lag"], dt=config["dt"], rng=config["seed"],
                            progress=False, **config["options"])
    est.fit(config["series"])
    inv = est.invariants(n_steps=config["n_steps"], n_orbits=config["n_orbits"])
    status, reason = _check_attractor(inv)
    cd = inv.correlation_dim
    orbit = _first_whole_orbit(inv.free_orbit)[:config["keep_orbit"]]     # data units
    one_step = est.prediction_error(config["series"], horizon=1)[0]
    return {
        "status": status, "reason": reason, "orbits_escaped": inv.orbits_escaped,
        "exponents": inv.lyapunov_free.exponents, "stderr": inv.lyapunov_free.stderr,
        "exponents_data": inv.lyapunov_data.exponents,
        "correlation_dim": np.nan if cd is None else cd.dimension,
        "correlation_dim_stderr": np.nan if cd is None else cd.stderr,
        "noise_level": np.nan if est.noise_level_ is None else est.noise_level_,
        "regulariser": est.regulariser_, "strength": est.strength_,
        "one_step_error": one_step,
        "free_orbit": orbit, "correlation": cd,
        "seconds": time.perf_counter() - start,
    }


def _check_attractor(inv):
    """The free run's status, or "off_attractor" when its largest exponent is not the
    data's."""
    if inv.free_run_status != "ok":
        return inv.free_run_status, inv.free_run_reason
    data, free = inv.lyapunov_data, inv.lyapunov_free
    gap = abs(free.exponents[0] - data.exponents[0])
    allowed = 3.0 * np.hypot(free.stderr[0], data.stderr[0]) + ATTRACTOR_RTOL * abs(
        data.exponents[0])
    if gap > allowed:
        return "off_attractor", (f"the free run's largest exponent {free.exponents[0]:.3g} "
                                 f"is not the data's {data.exponents[0]:.3g}: the model's "
                                 "attractor is another one")
    return "ok", inv.free_run_reason


def _first_whole_orbit(orbits):
    """The first free-running orbit that never escaped (the finite start of orbit 0
    when every one did)."""
    whole = np.flatnonzero(np.all(np.isfinite(orbits), axis=(1, 2)))
    orbit = orbits[whole[0] if whole.size else 0]
    return orbit[np.all(np.isfinite(orbit), axis=1)]


def member_from_outcome(config, outcome) -> Member:
    """A :class:`Member` from an executor's outcome of :func:`fit_member`."""
    dim = config["dim"]
    common = dict(index=config["index"], dim=dim, role=config["role"], seed=config["seed"])
    if outcome["status"] == "error":
        nan = np.full(dim, np.nan)
        return Member(**common, status="failed", reason=outcome["reason"], exponents=nan,
                      stderr=nan, exponents_data=nan, correlation_dim=np.nan,
                      correlation_dim_stderr=np.nan, noise_level=np.nan, regulariser="",
                      strength=np.nan, one_step_error=np.nan, seconds=outcome["seconds"])
    r = outcome["result"]
    arr = {k: np.asarray(r[k], dtype=float) for k in ("exponents", "stderr", "exponents_data")}
    return Member(**common, status=outcome["status"], reason=outcome["reason"], **arr,
                  correlation_dim=float(r["correlation_dim"]),
                  correlation_dim_stderr=float(r["correlation_dim_stderr"]),
                  noise_level=float(r["noise_level"]), regulariser=str(r["regulariser"]),
                  strength=float(r["strength"]), one_step_error=float(r["one_step_error"]),
                  seconds=float(r["seconds"]), orbits_escaped=int(r["orbits_escaped"]),
                  free_orbit=np.asarray(r["free_orbit"], dtype=float),
                  correlation=r.get("correlation"))
