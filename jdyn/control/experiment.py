"""The whole path on one seed: data, model, orbit, controllers, evaluation on the truth.

Used by the notebook, the slow test and ``examples/control_henon.py`` so that all
three measure the same thing.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_rng, check_int
from .data import control_samples, simulate_driven
from .evaluate import evaluate_controller
from .linear import LinearController
from .model import fit_control_model
from .neural import NeuralController
from .orbits import find_orbits

__all__ = ["control_experiment", "visited_orbit", "matching_orbit", "results_table"]


def _check_found(orbits, what):
    if not orbits:
        raise ValueError(f"no unstable orbit of the requested period found in {what}")


def visited_orbit(orbits, samples):
    """The orbit whose farthest point is nearest to the visited delay vectors (m, d)."""
    _check_found(orbits, "the truth")

    def gap(o):
        return np.max(np.min(np.linalg.norm(o.points[:, None] - samples[None], axis=2), 1))
    return min(orbits, key=gap)


def matching_orbit(orbits, reference):
    """The orbit in ``orbits`` nearest to ``reference`` (up to a cyclic shift)."""
    _check_found(orbits, "the model")

    def gap(o):
        if o.period != reference.period:
            return np.inf
        return min(np.max(np.abs(np.roll(o.cycle, q) - reference.cycle))
                   for q in range(o.period))
    return min(orbits, key=gap)


def control_experiment(system, period, rng, n_obs=5000, noise=0.01, u_max=0.05,
                       n_trials=200, n_steps=500, hidden=(16,), max_iter=1000,
                       measurement=(0.0, 1.0, 0.25)):
    """Fit, build and evaluate OGY (true Jacobian), linear and neural controllers.

    Parameters
    ----------
    system : driven map (e.g. :class:`DrivenHenon`)
    period : int
        Period of the target: the true orbit of that period nearest to the attractor
        (:func:`visited_orbit`), and the model's orbit nearest to it.
    rng : int or Generator
        One seed for the data, the fits, the starts and the noise.
    n_obs, noise, u_max : the data (noise as a fraction of the series' spread).
    n_trials, n_steps : the evaluation.
    hidden, max_iter : the control model.
    measurement : sequence of float
        Measurement noise of the evaluations, as multiples of the data's noise.

    Returns
    -------
    dict
        ``{"true_orbit", "model_orbit", "controllers", "evaluations"}``; evaluations
        maps ``(name, noise)`` (noise as a fraction of the series' spread) to a
        :class:`ControlEvaluation`.
    """
    period = check_int(period, "period", minimum=1)
    gen = as_rng(rng)
    data = simulate_driven(system, n_obs, u_max, noise=noise, rng=gen)
    model = fit_control_model(data, system.dim, hidden=hidden, max_iter=max_iter, rng=gen)
    samples = control_samples(data, system.dim)[0][:, :system.dim]
    true_orbit = visited_orbit(find_orbits(system, data.clean, period), samples)
    model_orbit = matching_orbit(find_orbits(model, data.x, period), true_orbit)
    controllers = {
        "OGY, true Jacobian": LinearController(system, true_orbit, u_max),
        "linear, learned": LinearController(model, model_orbit, u_max),
        "neural (J-prop), learned": NeuralController(model, model_orbit, u_max,
                                                     samples=samples, rng=gen),
    }
    evaluations = {}
    for name, controller in controllers.items():
        for factor in measurement:
            evaluations[name, factor * noise] = evaluate_controller(
                system, controller, true_orbit, n_trials=n_trials, n_steps=n_steps,
                noise_std=factor * data.noise_std, rng=gen)
    return {"true_orbit": true_orbit, "model_orbit": model_orbit,
            "controllers": controllers, "evaluations": evaluations}


def _mean_sd(values, fmt):
    values = np.asarray(values, dtype=float)
    if np.all(np.isnan(values)):
        return "–"
    ok = values[~np.isnan(values)]
    sd = ok.std(ddof=1) if len(ok) > 1 else float("nan")
    return f"{fmt.format(ok.mean())} ± {fmt.format(sd)}" + \
        ("" if len(ok) == len(values) else f" ({len(ok)}/{len(values)} seeds)")


def results_table(experiments):
    """A Markdown table over seeds (mean ± sd across seeds; the capture rate's minimum
    in brackets) of every controller's summary, from :func:`control_experiment` runs."""
    lines = ["| controller | measurement noise | capture rate [min] | mean capture time | "
             "p95 capture time | held distance (max) | last 100 steps in tol | "
             "mean effort | max |u| |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key in experiments[0]["evaluations"]:
        s = [e["evaluations"][key].summary() for e in experiments]
        col = {name: [x[name] for x in s] for name in s[0]}
        lines.append(
            f"| {key[0]} | {key[1]:.2%} | {_mean_sd(col['capture_rate'], '{:.3f}')} "
            f"[{min(col['capture_rate']):.3f}] | "
            f"{_mean_sd(col['mean_capture_time'], '{:.0f}')} | "
            f"{_mean_sd(col['p95_capture_time'], '{:.0f}')} | "
            f"{_mean_sd(col['held_distance'], '{:.1e}')} | "
            f"{_mean_sd(col['in_tol'], '{:.2f}')} | "
            f"{_mean_sd(col['mean_effort'], '{:.1e}')} | {max(col['max_u']):.3f} |")
    return "\n".join(lines)
