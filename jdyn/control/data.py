"""Driven systems and their observations: the data a control model is fitted to.

A *driven map* advances full states under a scalar control input ``u`` (for Hénon, a
perturbation of the parameter ``a``) and exposes one measured coordinate. A control
model is a delay map with one more input: ``x[t+1] = f(x[t], ..., x[t-d+1], u[t])``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, as_rng, check_int, check_positive

__all__ = ["DrivenHenon", "DrivenSeries", "simulate_driven", "control_samples",
           "check_u_max"]


def check_u_max(u_max) -> float:
    """``u_max`` as a float, or a ``ValueError`` unless it is finite and > 0."""
    return check_positive(u_max, "u_max")


class DrivenHenon:
    """Hénon map with its parameter ``a`` perturbed by the control: ``a + u``.

    ``x' = 1 − (a + u) x² + y``, ``y' = b x``; the measured coordinate is ``x``. In delay
    coordinates ``s = (x[t], x[t−1])`` it reads ``x[t+1] = 1 − (a + u) x[t]² + b x[t−1]``
    exactly, which :meth:`delay_step` and :meth:`delay_derivatives` give (the truth the
    learned model is compared with).

    Parameters
    ----------
    a, b : float
        The unperturbed parameters (1.4, 0.3: the chaotic attractor).
    """

    n_state = 2
    dim = 2
    escape_radius = 1e3
    attractor_bound = 1.5

    def __init__(self, a=1.4, b=0.3):
        self.a, self.b = float(a), float(b)

    def step(self, X, u):
        """Advance states ``X`` (B, 2) under controls ``u`` (B,); returns (B, 2)."""
        x, y = X[:, 0], X[:, 1]
        return np.stack([1.0 - (self.a + u) * x * x + y, self.b * x], axis=1)

    def observe(self, X):
        """The measured coordinate ``x`` of states ``X`` (B, 2); returns (B,)."""
        return X[:, 0]

    def initial_states(self, n, rng):
        """``n`` states (n, 2) near the origin, inside the basin of the attractor."""
        return rng.uniform(-0.1, 0.1, size=(n, 2))

    def delay_step(self, S, u):
        """``x[t+1]`` (B,) from delay vectors ``S = (x[t], x[t−1])`` (B, 2) and ``u`` (B,)."""
        return 1.0 - (self.a + u) * S[:, 0] ** 2 + self.b * S[:, 1]

    def delay_derivatives(self, S, u):
        """``(∂f/∂s (B, 2), ∂f/∂u (B,))`` of :meth:`delay_step`."""
        dfds = np.stack([-2.0 * (self.a + u) * S[:, 0], np.full(len(S), self.b)], axis=1)
        return dfds, -S[:, 0] ** 2


@dataclass(frozen=True)
class DrivenSeries:
    """A measured series of a driven system.

    Attributes
    ----------
    x : ndarray (n,)
        Measured coordinate, with observation noise.
    u : ndarray (n,)
        Control applied at each step (``u[t]`` acts between ``x[t]`` and ``x[t+1]``).
    clean : ndarray (n,)
        The coordinate without noise.
    noise_std : float
        Standard deviation of the observation noise (absolute units).
    segment : ndarray (n,) of int
        Which uninterrupted run each sample belongs to.
    """

    x: np.ndarray
    u: np.ndarray
    clean: np.ndarray
    noise_std: float
    segment: np.ndarray


def settle(system, n, rng, n_transient=500):
    """``n`` states (n, n_state) on the attractor: random starts run ``n_transient`` steps free."""
    X = system.initial_states(n, rng)
    zero = np.zeros(n)
    for _ in range(n_transient):
        X = system.step(X, zero)
    return X


def _segment(system, n, u_max, gen, n_transient):
    """One driven run of at most ``n`` steps, cut where it leaves the attractor's range."""
    X = settle(system, 1, gen, n_transient)
    u = gen.uniform(-u_max, u_max, n)
    x = np.empty(n)
    for t in range(n):
        x[t] = system.observe(X)[0]
        if not abs(x[t]) < system.attractor_bound:
            return x[:t], u[:t]
        X = system.step(X, u[t:t + 1])
    return x, u


def simulate_driven(system, n, u_max, noise=0.0, rng=None, n_transient=500):
    """Observe ``system`` driven by independent uniform controls ``u ~ U(−u_max, u_max)``.

    Random perturbations eventually kick an orbit out of the basin (Hénon with
    ``|δa| ≤ 0.05``: after about 400 steps); as an experimenter would, the run is then
    restarted on the attractor. The series is the concatenation of such segments,
    labelled by ``segment``; each is cut at the first sample outside
    ``system.attractor_bound``.

    Parameters
    ----------
    system : driven map (e.g. :class:`DrivenHenon`)
    n : int
        Number of observations in all.
    u_max : float
        Bound of the random perturbations (> 0).
    noise : float
        Observation noise as a fraction of the clean series' standard deviation.
    rng : None, int or Generator

    Returns
    -------
    DrivenSeries
    """
    n = check_int(n, "n", minimum=10)
    u_max = check_u_max(u_max)
    noise = check_positive(noise, "noise", allow_zero=True)
    gen = as_rng(rng)
    parts, total, short = [], 0, 0
    while total < n:
        x, u = _segment(system, n - total, u_max, gen, n_transient)
        if len(x) > system.dim + 1:
            parts.append((x, u))
            total += len(x)
        elif (short := short + 1) >= 100:
            raise ValueError(f"u_max={u_max:g} drives the system out of its attractor's "
                             f"range within {system.dim + 1} steps, 100 times in a row")
    clean = np.concatenate([p[0] for p in parts])
    segment = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
    std = noise * clean.std()
    return DrivenSeries(clean + std * gen.standard_normal(n),
                        np.concatenate([p[1] for p in parts]), clean, float(std), segment)


def control_samples(series, dim):
    """Inputs and targets of a control model from a :class:`DrivenSeries`.

    Only windows inside one segment of the series are used.

    Returns
    -------
    X : ndarray (m, dim + 1)
        Rows ``(x[t], ..., x[t−dim+1], u[t])``.
    T : ndarray (m, 1)
        ``x[t+1]``.
    """
    dim = check_int(dim, "dim", minimum=1)
    x = as_float_array(series.x, "series.x", ndim=1)
    if len(x) <= dim + 1:
        raise ValueError(f"series has {len(x)} samples; dim={dim} needs more than {dim + 1}")
    t = np.arange(dim - 1, len(x) - 1)
    t = t[series.segment[t - dim + 1] == series.segment[t + 1]]
    S = np.stack([x[t - j] for j in range(dim)], axis=1)
    return np.column_stack([S, series.u[t]]), x[t + 1, None]
