"""Controllers evaluated on the true system, from random starts on its attractor.

Each trial starts on the attractor, measures the delay vector (optionally with
observation noise), applies the controller's ``u`` to the **true** system and records
the true distance to the target orbit. A trial that escapes or goes non-finite is
marked and frozen; nothing raises mid-evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_rng, check_int, check_positive
from .base import as_control_model, target_orbit
from .data import settle

__all__ = ["ControlEvaluation", "evaluate_controller", "STATUSES"]

STATUSES = ("captured", "lost", "never_reached", "diverged")


@dataclass(frozen=True)
class ControlEvaluation:
    """Per-trial outcome of :func:`evaluate_controller`.

    Attributes
    ----------
    capture_time : ndarray (n_trials,) of int
        First step after which the true distance stays below ``tol`` to the end of the
        run; −1 if the trial was not captured within ``n_steps``.
    status : ndarray (n_trials,) of str
        ``"captured"``; ``"lost"`` (was within ``tol`` but did not stay);
        ``"never_reached"``; ``"diverged"`` (escaped or non-finite).
    final_distance : ndarray (n_trials,)
        RMS true distance over the last ``n_hold`` steps (inf for diverged trials).
    in_tol : ndarray (n_trials,)
        Fraction of the last ``n_hold`` steps within ``tol``: a graded measure of
        holding, for noisy measurements where a strict "always within" is rare.
    effort : ndarray (n_trials,)
        Mean ``|u|`` over the run.
    max_u : float
        Largest ``|u|`` applied in any trial.
    distance : ndarray (n_steps + n_hold, n_trials)
        True max-norm distance to the orbit at every step (inf once diverged).
    controls : ndarray (n_steps + n_hold, n_trials)
        The control applied at every step.
    tol, noise_std : float
    n_steps, n_hold : int
    """

    capture_time: np.ndarray
    status: np.ndarray
    final_distance: np.ndarray
    in_tol: np.ndarray
    effort: np.ndarray
    max_u: float
    distance: np.ndarray
    controls: np.ndarray
    tol: float
    noise_std: float
    n_steps: int
    n_hold: int

    @property
    def captured(self) -> np.ndarray:
        """Boolean (n_trials,): the captured trials."""
        return self.status == "captured"

    @property
    def capture_rate(self) -> float:
        """Fraction of the trials captured."""
        return float(np.mean(self.captured))

    @property
    def mean_capture_time(self) -> float:
        """Mean capture time of the captured trials (nan if none)."""
        t = self.capture_time[self.captured]
        return float(t.mean()) if t.size else float("nan")

    @property
    def p95_capture_time(self) -> float:
        """95th percentile of the capture time over the captured trials (nan if none)."""
        t = self.capture_time[self.captured]
        return float(np.percentile(t, 95)) if t.size else float("nan")

    def summary(self) -> dict:
        """Capture rate, mean / p95 capture time, held distance, effort, status counts."""
        held = self.final_distance[self.captured]
        return {
            "capture_rate": self.capture_rate,
            "mean_capture_time": self.mean_capture_time,
            "p95_capture_time": self.p95_capture_time,
            "held_distance": float(np.max(held)) if held.size else float("nan"),
            "in_tol": float(np.mean(self.in_tol)),
            "mean_effort": float(np.mean(self.effort)),
            "max_u": self.max_u,
            **{s: int(np.sum(self.status == s)) for s in STATUSES},
        }


def _distance(hist, points):
    """Max-norm distance (B,) of true delay vectors ``hist`` (B, d) to the nearest point."""
    return np.min(np.max(np.abs(hist[:, None, :] - points[None]), axis=2), axis=1)


def _run(system, controller, points, X, noise_std, n_total, gen):
    n, d = len(X), points.shape[1]
    controller.reset(n)
    true = np.empty((n, d))
    for j in range(d):  # fill the delay buffers with free steps
        true = np.roll(true, 1, axis=1)
        true[:, 0] = system.observe(X)
        X = system.step(X, np.zeros(n))
    meas = true + noise_std * gen.standard_normal(true.shape)
    dist, controls = np.empty((n_total, n)), np.empty((n_total, n))
    alive = np.ones(n, bool)
    for t in range(n_total):
        u = controls[t] = np.where(alive, controller(meas), 0.0)
        X = system.step(X, u)
        x = system.observe(X)
        escaped = ~(np.abs(x) < system.escape_radius)
        alive &= ~escaped
        X[~alive], x[~alive] = 0.0, np.nan
        true = np.column_stack([x, true[:, :-1]])
        meas = np.column_stack([x + noise_std * gen.standard_normal(n), meas[:, :-1]])
        meas[~alive] = points[0]
        dist[t] = np.where(alive, _distance(np.nan_to_num(true), points), np.inf)
    return dist, controls


def _outcome(dist, tol, n_steps, n_hold):
    inside = dist < tol
    outside_after = np.flip(np.cumsum(np.flip(~inside, 0), 0), 0) > 0
    stays = ~outside_after  # stays[t] = inside from t to the end
    first = np.where(stays.any(0), np.argmax(stays, 0), -1)
    captured = (first >= 0) & (first < n_steps)
    status = np.where(captured, "captured", np.where(inside.any(0), "lost", "never_reached"))
    status = np.where(np.isinf(dist[-1]), "diverged", status)
    final = np.sqrt(np.mean(dist[-n_hold:] ** 2, axis=0))
    return (np.where(captured, first, -1), status.astype(str), final,
            inside[-n_hold:].mean(axis=0))


def evaluate_controller(system, controller, target, n_trials=200, n_steps=500, n_hold=100,
                        noise_std=0.0, tol=None, rng=None, n_transient=500):
    """Capture statistics of ``controller`` on the true ``system``.

    Parameters
    ----------
    system : driven map (``step``, ``observe``, ``initial_states``, ``escape_radius``)
    controller : Controller
        Acts on measured delay vectors.
    target : Orbit or array_like (k,)
        The **true** orbit the distance is measured to, checked to be an orbit of
        ``system`` (its delay form, ``delay_step``).
    n_trials : int
        Random starts on the attractor.
    n_steps : int
        A trial is captured if it enters the ``tol`` neighbourhood by this step and
        stays there to the end, ``n_steps + n_hold`` steps in all.
    n_hold : int
        Steps after ``n_steps`` over which holding is checked and ``final_distance`` is
        measured.
    noise_std : float
        Standard deviation of Gaussian noise on each measurement of the coordinate.
    tol : float, optional
        Capture distance (max-norm on the true delay vector); by default
        ``max(1e-3, 3 noise_std)``.
    rng : None, int or Generator
        Starts and noise.

    Returns
    -------
    ControlEvaluation
    """
    n_trials = check_int(n_trials, "n_trials", minimum=1)
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    n_hold = check_int(n_hold, "n_hold", minimum=1)
    noise_std = check_positive(noise_std, "noise_std", allow_zero=True)
    tol = max(1e-3, 3 * noise_std) if tol is None else check_positive(tol, "tol")
    points = target_orbit(as_control_model(system), target, name="target").points
    if points.shape[1] != controller.orbit.points.shape[1]:
        raise ValueError(f"target has delay vectors of length {points.shape[1]} but the "
                         f"controller acts on {controller.orbit.points.shape[1]}")
    gen = as_rng(rng)
    X = settle(system, n_trials, gen, n_transient)
    with np.errstate(over="ignore", invalid="ignore"):
        dist, controls = _run(system, controller, points, X, noise_std, n_steps + n_hold,
                              gen)
    capture, status, final, in_tol = _outcome(dist, tol, n_steps, n_hold)
    return ControlEvaluation(capture, status, final, in_tol, np.abs(controls).mean(0),
                             float(np.abs(controls).max()), dist, controls, tol, noise_std,
                             n_steps, n_hold)
