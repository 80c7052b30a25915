"""Errors-in-variables fitting with its strength chosen from the noisy data alone.

The joint cost (:class:`jdyn.objectives.ErrorsInVariables`) has one strength γ, the
ratio of observational to model-error variance. A naive validation error rewards the
biased fit, so γ is chosen by the **discrepancy principle** instead: the estimated
clean series ŝ should differ from the observations by about the noise, so we take
the γ whose observation residual ``mean ‖y − ŝ‖² / d`` is closest (in log ratio) to
the noise variance σ².

σ² is the user's ``noise_level`` when given. Otherwise it is estimated from the plain
fit's one-step residuals: with input noise ε_t and output noise ε_{t+1},
``r_t ≈ ε_{t+1} − J_t ε_t`` to first order, so ``E‖r‖² ≈ σ² (d + E‖J‖_F²)`` and

    σ̂² = mean ‖r_t‖² / (d + mean ‖J_t‖_F²).

Model error inflates σ̂ and the attenuated Jacobian of a noisy fit deflates the
denominator, so σ̂ is an upper estimate; it is reported (``noise_level_``) so a
reader can judge it. γ grid values are tried in increasing order, each fit warm-
started from the previous one (a continuation path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..objectives import ErrorsInVariables
from ..training import train_function

__all__ = ["EIVResult", "estimate_noise_level", "fit_errors_in_variables"]


@dataclass(frozen=True)
class EIVResult:
    """Outcome of :func:`fit_errors_in_variables` (standardised units)."""

    gamma: float
    clean: np.ndarray
    noise_level: float
    noise_estimated: bool
    selection: list
    history: object


def estimate_noise_level(model, X, T):
    """σ̂ from a plain fit's residuals and Jacobians (see the module docstring)."""
    r = model(X) - T
    J = model.jacobian(X)
    d = T.shape[1]
    return float(np.sqrt(np.mean(np.sum(r * r, axis=1)) / (d + np.mean(np.sum(J * J, axis=(1, 2))))))


def fit_errors_in_variables(model, observed, X, T, *, dim, lag, gammas, noise_level=None,
                            terms=None, max_iter=1000, progress=False):
    """Joint fit of ``model`` (warm-started, modified in place) and a clean series.

    Parameters
    ----------
    model : Sequential, already fitted plainly to (X, T).
    observed : (N,) or (N, d) standardised noisy series.
    X, T : the plain fit's pairs, for the noise estimate.
    dim, lag : delay embedding of ``observed`` (dim = 1 for full-state maps).
    gammas : increasing strengths to try.
    noise_level : σ in standardised units, or None to estimate it.
    terms : extra weight terms (weight decay, log-det target, ...).

    Returns
    -------
    EIVResult; ``model`` is left at the chosen γ's weights.
    """
    estimated = noise_level is None
    sigma = estimate_noise_level(model, X, T) if estimated else float(noise_level)
    eiv = ErrorsInVariables(model, observed, gamma=gammas[0], dim=dim, lag=lag, terms=terms)
    z = eiv.initial()
    fits, selection = [], []
    for gamma in sorted(gammas):
        eiv.gamma = float(gamma)
        result = train_function(eiv.evaluate, z, apply=eiv.apply, max_iter=max_iter,
                                progress=progress)
        z = result.params
        w, S = eiv.unpack(z)
        obs = float(np.mean((S - observed) ** 2))
        score = abs(np.log(max(obs, 1e-300) / max(sigma ** 2, 1e-300)))
        selection.append({"strength": float(gamma), "observation_var": obs,
                          "noise_var": sigma ** 2, "discrepancy": float(score)})
        fits.append((score, float(gamma), w, S, result.history))
    score, gamma, w, S, history = min(fits, key=lambda f: f[0])
    model.params = w
    return EIVResult(gamma, S, sigma, estimated, selection, history)
