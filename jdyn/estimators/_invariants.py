"""Reading invariants off a fitted map: the spectrum along the data, free runs and
their status, the spectrum along them and the correlation dimension of the model's
attractor."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..analysis.correlation import correlation_dim
from ..analysis.lyapunov import lyapunov_spectrum_from_jacobians
from ._orbits import free_run

__all__ = ["Invariants", "NON_CHAOTIC_TOL", "read_invariants"]

#: A free run whose largest exponent is below 2 stderr + this (nats per step or per unit
#: time) is called non-chaotic: far below any chaotic system's λ1.
NON_CHAOTIC_TOL = 1e-3


@dataclasses.dataclass(frozen=True)
class Invariants:
    """Dynamical invariants of a fitted map (exponents per unit time when ``dt_`` is set).

    lyapunov_data : LyapunovResult, along the observed states (Gencay & Dechert, LENNS).
    lyapunov_free : LyapunovResult, along the model's own free-running orbits (NaN
        exponents if they diverged).
    kaplan_yorke : float, of ``lyapunov_free`` (NaN when every free run escaped: the
        along-data value, ``lyapunov_data.kaplan_yorke``, describes the data, not an
        attractor of the model). A free run on a cycle or a fixed point keeps its own.
    correlation_dim : CorrelationDimResult of the free-running attractor, or None.
    free_run_status, free_run_reason : str: "ok", "diverged", "fixed_point", "periodic"
        (see :func:`jdyn.estimators.free_run`), or "non_chaotic" when the free
        runs' largest exponent is not positive within two standard errors (plus
        ``NON_CHAOTIC_TOL`` per step, for numerically neutral orbits).
    free_orbit : (n_orbits, n, D) the free-running orbits in data units (the series'
        own; NaN after an orbit escaped the data's range). A delay map's coordinates
        are the window ``x(t), x(t − lag), …``.
    correlation_note : why ``correlation_dim`` is None when it was asked for ("" otherwise).
    orbits_escaped : how many free runs left the data's range (they are left out of
        ``lyapunov_free`` and ``correlation_dim``; ``free_run_reason`` names them).
    data_states : (N, D) the states of the data the spectra were read along, in data
        units (the attractor the free runs are compared with).
    coordinates : names of the D state coordinates, e.g. ``("x(t)", "x(t-1)")``.
    time_unit : what the exponents are per: "sample", or "unit time" when ``dt`` is known.

    ``correlation_dim`` is computed in the estimator's standardised coordinates (one
    scale for a delay map, which leaves it unchanged).
    """

    lyapunov_data: object
    lyapunov_free: object
    kaplan_yorke: float
    correlation_dim: object
    free_run_status: str
    free_run_reason: str
    free_orbit: np.ndarray
    correlation_note: str = ""
    orbits_escaped: int = 0
    data_states: np.ndarray = None
    coordinates: tuple = ()
    time_unit: str = "sample"

    def plot(self, axes=None, *, max_points=4000):
        """Draw what to look at; returns the matplotlib Figure.

        Left: each exponent along the data and along the free runs with ± one standard
        error, zero marked, Kaplan–Yorke in the legend. Right: the data's states and
        each free orbit up to its escape, if it escaped (at most ``max_points`` points
        each), in the first two state coordinates (``x(t)`` against ``x(t+1)`` for a
        one-dimensional state), in data units, with the correlation dimension in the
        title.

        axes : two matplotlib Axes to draw into, or None (a new figure, 10 × 4.2 in).
        Works without a display (any matplotlib backend, e.g. Agg).
        """
        from ._plot import plot_invariants
        return plot_invariants(self, axes, max_points=max_points)


def read_invariants(est, states, *, n_steps, n_orbits, gen, correlation, correlation_points):
    """:class:`Invariants` of the fitted map ``est`` (a :class:`MapEstimator`) along
    ``states`` (N, D), with ``n_orbits`` free runs of ``n_steps`` started at states
    drawn with the Generator ``gen``."""
    dt = est._step_time
    along = lyapunov_spectrum_from_jacobians(est._jacobians_along(states), dt=dt)
    starts = states[gen.choice(len(states), size=n_orbits, replace=False)]
    run = free_run(est.step, starts, n_steps, states.min(axis=0), states.max(axis=0))
    free = _free_spectrum(est, run, along, n_steps, dt)
    status, reason = _status(run, free)
    cd, cd_note = None, ""
    if correlation and run.status == "ok":
        cd, cd_note = _correlation(run, n_steps, correlation_points)
    return Invariants(along, free, free.kaplan_yorke, cd, status, reason,
                      est._unscale(run.orbit), cd_note, int(np.sum(~run.stayed)),
                      est._unscale(states), est._coordinates,
                      "sample" if est.dt_ is None else "unit time")


def _free_spectrum(est, run, along, n_steps, dt):
    """The spectrum along the orbits that stayed (NaN, like ``along``, if none did)."""
    if run.status == "diverged":
        return dataclasses.replace(
            along, exponents=np.full_like(along.exponents, np.nan),
            stderr=np.full_like(along.stderr, np.nan), kaplan_yorke=np.nan,
            diverged=True, reason=run.reason, per_orbit=None)
    tail = run.orbit[run.stayed, n_steps // 10:]
    Js = est.state_jacobians(tail.reshape(-1, tail.shape[-1]))
    return lyapunov_spectrum_from_jacobians(Js.reshape(len(tail), -1, *Js.shape[1:]), dt=dt)


def _status(run, free):
    if run.status == "ok" and free.exponents[0] <= 2.0 * free.stderr[0] + NON_CHAOTIC_TOL:
        # A cycle of a flow, or a torus, never repeats exactly; its signature is a
        # largest exponent that is not positive.
        return "non_chaotic", (f"the free runs are not chaotic: largest exponent "
                               f"{free.exponents[0]:.3g} ± {free.stderr[0]:.2g} "
                               "(a limit cycle or torus)")
    return run.status, run.reason


def _correlation(run, n_steps, correlation_points):
    pts = run.orbit[run.stayed, n_steps // 10:].reshape(-1, run.orbit.shape[-1])
    pts = pts[::max(1, len(pts) // correlation_points)]
    try:
        return correlation_dim(pts), ""
    except ValueError as exc:      # no scaling region: reported, not fatal
        return None, f"correlation dimension not estimated: {exc}"
