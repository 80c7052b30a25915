"""Errors-in-variables fitting with its strength chosen from the noisy data alone.

The joint cost (:class:`jdyn.objectives.ErrorsInVariables`) has one strength γ, the
ratio of observational to model-error variance. A naive validation error rewards the
biased fit, so γ is chosen by the **discrepancy principle** instead: the clean series
ŝ should differ from the observations by about the noise, so we look for the γ whose
observation residual ``q(γ) = mean ‖y − ŝ‖² / d`` equals the noise variance σ².

q grows with γ (ŝ is pulled from y towards an orbit of the model). The crossing is
bracketed by ×10 steps from the grid's smallest γ, beyond the grid up to
``GAMMA_RANGE`` × its ends, then located by regula falsi in log γ. Without a crossing
the end reached is kept and a RuntimeWarning says so. For a deterministic system and
an adequate model q tends, as γ → ∞, to about σ²(1 − p/N) (an exact orbit fitted with
p weights), just below σ²: whether it crosses then depends on model error and on σ̂,
and "below up to the cap" means "deterministic within the model, or σ̂ too high".

σ² is the user's ``noise_level`` when given. Otherwise it is estimated from one-step
residuals: with input noise ε_t and output noise ε_{t+lag},
``r_t ≈ ε_{t+lag} − J_t ε_t`` to first order, so ``E‖r‖² ≈ σ² (d + E‖J‖_F²)`` and

    σ̂² = mean ‖r_t‖² / (d + mean ‖J_t‖_F²).

A plain fit's Jacobians are attenuated by the noise, which biases σ̂ up (2–4% on
Hénon, 5–15% on Lorenz x); the first joint fit's are not, so σ̂ is computed with its
model, at its clean states. Model error still adds to r, so σ̂ is an upper estimate
when the model cannot fit even clean data (Ikeda x with 30 units: 20–50% high). Its
standard error is a moving-block bootstrap of the ratio.

Speed: every fit is short (``SEARCH_ITER`` L-BFGS iterations; the chosen γ gets
``max_iter // 4`` more), warm-started from the fit at the nearest γ, with ŝ first
projected onto the current model (a banded Gauss–Newton solve in ŝ, weights fixed):
L-BFGS alone moves the N latent values only slowly away from ŝ = y.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solveh_banded

from ..objectives import ErrorsInVariables
from ..training import train_function
from ..training.progress import fit_step

__all__ = ["EIVResult", "estimate_noise_level", "fit_errors_in_variables", "max_fits"]

#: γ is searched within [min(grid) / GAMMA_RANGE, max(grid) · GAMMA_RANGE].
GAMMA_RANGE = 100.0
#: L-BFGS iterations of each fit of the search; the chosen γ gets ``max_iter`` // 4 more.
SEARCH_ITER = 100
#: Stop the root search when q is within this relative distance of the target (the
#: sampling sd of a mean of N squared residuals is sqrt(2/N): 2% at N = 5000).
Q_TOL = 0.02
#: Regula falsi steps after the crossing is bracketed.
ROOT_STEPS = 3
#: What each stage's fit is, for its progress line.
_STAGES = {"fixed": "the given strength", "bracket": "bracketing the noise crossing",
           "root": "locating the noise crossing", "final": "final fit at the chosen strength"}


@dataclass(frozen=True)
class EIVResult:
    """Outcome of :func:`fit_errors_in_variables` (standardised units).

    ``selection`` lists every γ fitted, in order; ``bracketed`` says whether the
    observation residual crossed the target inside the searched range.
    """

    gamma: float
    clean: np.ndarray
    noise_level: float
    noise_estimated: bool
    selection: list
    history: object
    bracketed: bool = True
    noise_level_stderr: float = float("nan")


def _noise_parts(model, X, T, at=None):
    """Per-pair ‖r‖² and d + ‖J‖_F² (J at ``at``, default X)."""
    r = model(X) - T
    J = model.jacobian(X if at is None else at)
    return np.sum(r * r, axis=1), T.shape[1] + np.sum(J * J, axis=(1, 2))


def estimate_noise_level(model, X, T, at=None, *, stderr=False, block=50, n_boot=200,
                         rng=0):
    """σ̂ from ``model``'s residuals on (X, T) and its Jacobians at ``at`` (default X);
    see the module docstring. ``stderr=True`` returns ``(σ̂, moving-block bootstrap sd)``."""
    r2, g = _noise_parts(model, X, T, at)
    sigma = float(np.sqrt(np.mean(r2) / np.mean(g)))
    if not stderr:
        return sigma
    n = len(r2)
    block = max(1, min(block, n // 4))
    starts = np.random.default_rng(rng).integers(0, n - block + 1, size=(n_boot, n // block))
    idx = (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)
    boot = np.sqrt(r2[idx].mean(axis=1) / g[idx].mean(axis=1))
    return sigma, float(boot.std(ddof=1))


def _embed(S, dim, lag):
    """Delay vectors (M, d·dim) of ŝ, most recent block first (as the objective's)."""
    N, t0 = S.shape[0], (dim - 1) * lag
    return np.concatenate([S[t0 - k * lag:N - lag - k * lag] for k in range(dim)], axis=1)


def _gauss_newton_band(eiv, S):
    """The Gauss–Newton matrix of the cost in ŝ, ``I/N + (γ/M) DᵀD`` with D = ∂r/∂ŝ,
    in LAPACK upper banded storage (ŝ flattened row-major). Row t of D has +I at
    time t0 + lag + t and −∂f/∂(block k) at time t0 − k·lag + t."""
    N, d = S.shape
    dim, lag = eiv.dim, eiv.lag
    X = _embed(S, dim, lag)
    M, t0 = X.shape[0], (dim - 1) * lag
    J = eiv.model.jacobian(X)
    blocks = [(t0 + lag, np.broadcast_to(np.eye(d), (M, d, d)))]
    blocks += [(t0 - k * lag, -J[:, :, k * d:(k + 1) * d]) for k in range(dim)]
    u = dim * lag * d + d - 1
    ab = np.zeros((u + 1, N * d))
    for oi, Ai in blocks:
        for oj, Aj in blocks:
            G = np.einsum("trp,trq->tpq", Ai, Aj)
            for p in range(d):
                for q in range(d):
                    diff = (oj - oi) * d + q - p
                    if diff >= 0:
                        ab[u - diff, oj * d + q::d][:M] += G[:, p, q]
    ab *= eiv.gamma / M
    ab[u] += 1.0 / N
    return ab


def _project(eiv, z, max_steps=20, rtol=1e-6):
    """ŝ moved to the minimum of the cost for the current weights (damped Gauss–Newton)."""
    k, shape = eiv.n_weights, eiv.observed.shape
    ev, mu = eiv.evaluate(z), 0.0
    S = z[k:].reshape(shape[0], -1)
    N = S.shape[0]
    for _ in range(max_steps):
        ab = _gauss_newton_band(eiv, S)
        while True:
            damped = ab.copy()
            damped[-1] += mu / N
            trial = z.copy()
            trial[k:] -= solveh_banded(damped, ev.grad[k:])
            new = eiv.evaluate(trial)
            if new.value <= ev.value:
                break
            mu = max(10.0 * mu, 1.0)
            if mu > 1e8:            # no descent along any damped step: at a minimum
                return z
        mu = mu / 10.0 if mu > 1e-3 else 0.0
        done = ev.value - new.value <= rtol * ev.value
        z, ev, S = trial, new, trial[k:].reshape(N, -1)
        if done:
            break
    return z


def fit_errors_in_variables(model, observed, X, T, *, dim, lag, gammas, noise_level=None,
                            terms=None, max_iter=1000, progress=False):
    """Joint fit of ``model`` (warm-started, modified in place) and a clean series.

    Parameters
    ----------
    model : Sequential, already fitted plainly to (X, T).
    observed : (N,) or (N, d) standardised noisy series.
    X, T : the plain fit's pairs, for the noise estimate.
    dim, lag : delay embedding of ``observed`` (dim = 1 for full-state maps).
    gammas : one strength (fitted with ``max_iter`` iterations) or a grid, whose ends
        set the searched range.
    noise_level : σ in standardised units, or None to estimate it.
    terms : extra weight terms (weight decay, log-det target, ...).

    Returns
    -------
    EIVResult; ``model`` is left at the chosen γ's weights.
    """
    gammas = sorted(float(g) for g in gammas)
    estimated = noise_level is None
    sigma, sigma_sd = (None, None) if estimated else (float(noise_level), float("nan"))
    eiv = ErrorsInVariables(model, observed, gamma=gammas[0], dim=dim, lag=lag, terms=terms)
    fits, selection = {}, []                # γ → (q, packed [w, ŝ], history)
    search_iter = min(SEARCH_ITER, max_iter)

    def fit(gamma, stage, n_iter=None):
        """Fit at γ from the fit at the nearest γ (in log); returns q(γ)."""
        nonlocal sigma, sigma_sd
        n_iter = search_iter if n_iter is None else n_iter
        z = fits[min(fits, key=lambda g: abs(np.log(g / gamma)))][1] if fits else eiv.initial()
        eiv.gamma = gamma
        with fit_step(f"errors-in-variables, gamma {gamma:.3g} ({_STAGES[stage]})"):
            result = train_function(eiv.evaluate, _project(eiv, z), apply=eiv.apply,
                                    max_iter=n_iter, progress=progress)
        z = _project(eiv, result.params)
        w, S = eiv.unpack(z)
        model.params = w
        if sigma is None:
            # The first joint fit's Jacobians are the unattenuated ones σ̂ needs.
            states = _embed(S.reshape(len(S), -1), dim, lag)
            sigma, sigma_sd = estimate_noise_level(model, X, T, at=states, stderr=True)
        obs = float(np.mean((S - eiv.observed) ** 2))
        q = obs / max(sigma ** 2, 1e-300)
        selection.append({"strength": gamma, "observation_var": obs, "noise_var": sigma ** 2,
                          "discrepancy": float(abs(np.log(max(q, 1e-300)))), "stage": stage,
                          "iterations": result.n_iter})
        fits[gamma] = (q, z, result.history)
        return q

    if len(gammas) == 1:
        gamma, bracketed = gammas[0], True
        fit(gamma, "fixed", max_iter)
    else:
        gamma, bracketed = _search(fit, gammas[0], gammas[0] / GAMMA_RANGE,
                                   gammas[-1] * GAMMA_RANGE)
        if bracketed:
            gamma = min(fits, key=lambda g: abs(np.log(fits[g][0])))
        else:
            _warn_no_crossing(fits[gamma][0], gamma, sigma, min(fits), max(fits))
        fit(gamma, "final", max(max_iter // 4, 1))
    _, z, history = fits[gamma]
    w, S = eiv.unpack(z)
    model.params = w
    return EIVResult(gamma, S, sigma, estimated, selection, history, bracketed,
                     sigma_sd if estimated else float("nan"))


def _search(fit, start, low, high):
    """γ with q(γ) ≈ 1 in [low, high]: ×10 steps from ``start`` until log q changes
    sign, then regula falsi (Illinois) in log γ. Returns ``(γ, bracketed)``; unbracketed,
    γ is the end of the range reached."""
    gamma, q = start, fit(start, "bracket")
    ends = {}                                   # above the target? → (log γ, log q)
    while True:
        if abs(q - 1.0) <= Q_TOL:
            return gamma, True
        ends[q > 1.0] = (np.log(gamma), np.log(q))
        if len(ends) == 2:
            break
        step = _next_gamma(gamma, q < 1.0, low, high)
        if step == gamma:
            return gamma, False
        gamma = step
        q = fit(gamma, "bracket")
    stale = None
    for _ in range(ROOT_STEPS):
        (la, fa), (lb, fb) = ends[False], ends[True]
        gamma = float(np.exp(la + fa / (fa - fb) * (lb - la)))
        q = fit(gamma, "root")
        if abs(q - 1.0) <= Q_TOL:
            break
        side = q > 1.0
        ends[side] = (np.log(gamma), np.log(q))
        if stale == side:       # the same end moved twice: halve the other's log q
            ends[not side] = (ends[not side][0], ends[not side][1] / 2.0)
        stale = side
    return gamma, True


def _next_gamma(gamma, up, low, high):
    """The next γ of the bracketing: ×10 ``up`` (else ÷10), clipped to [low, high]."""
    return min(gamma * 10.0, high) if up else max(gamma / 10.0, low)


def max_fits(gammas):
    """The most fits :func:`fit_errors_in_variables` runs for the grid ``gammas``: the
    longer ×10 ladder from the grid's smallest γ to an end of the searched range, the
    root steps and the final fit (one fit for a single γ)."""
    gammas = sorted(float(g) for g in gammas)
    if len(gammas) == 1:
        return 1
    start, low, high = gammas[0], gammas[0] / GAMMA_RANGE, gammas[-1] * GAMMA_RANGE
    ladders = []
    for up in (True, False):
        gamma, n = start, 1
        while (step := _next_gamma(gamma, up, low, high)) != gamma:
            gamma, n = step, n + 1
        ladders.append(n)
    return max(ladders) + ROOT_STEPS + 1


def _warn_no_crossing(q, gamma, sigma, low, high):
    below = q < 1.0
    warnings.warn(
        f"errors-in-variables: the observation residual stays {'below' if below else 'above'}"
        f" the noise variance σ² = {sigma ** 2:.3g} for γ in [{low:.3g}, {high:.3g}] "
        f"(residual/σ² = {q:.3f} at the end); kept γ = {gamma:.3g}. "
        + ("The data look deterministic to within the model, or σ is too high." if below
           else "The model cannot follow the data, or σ is too low."),
        RuntimeWarning, stacklevel=5)    # the estimator's fit() caller
