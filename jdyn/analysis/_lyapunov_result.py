"""The result of a Lyapunov-spectrum computation, how it is assembled from the block
statistics, and its plot."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from jdyn.analysis.kaplan_yorke import kaplan_yorke_dim

__all__ = ["LyapunovResult", "finish"]

#: Orbits on cycles whose exponents differ by more than this are on different cycles.
_SAME_CYCLE = 1e-8


@dataclass(frozen=True, eq=False)
class LyapunovResult:
    """A Lyapunov spectrum with its uncertainty.

    Attributes
    ----------
    exponents : numpy.ndarray, shape (d,)
        Descending; natural log, per iteration (maps) or per unit time (flows, or
        Jacobian sequences given ``dt``). NaN if any orbit diverged, or if the orbits
        ended on different attractors (``status == "mixed"``).
    stderr : numpy.ndarray, shape (d,)
        Standard error of each exponent, computed as ``stderr_method`` says; 0 when
        ``status == "periodic"`` (a cycle's exponents are exact to rounding).
    kaplan_yorke : float
        :func:`~jdyn.analysis.kaplan_yorke.kaplan_yorke_dim` of ``exponents``.
    kaplan_yorke_stderr : float
        Its standard error, from the same samples (orbits or blocks) as ``stderr``.
    n_steps : int
        Steps (map iterations, re-orthonormalisation intervals of a flow, or Jacobians)
        averaged per orbit, transient excluded.
    n_orbits : int
    per_orbit : numpy.ndarray, shape (n_orbits, d), or None
        Each orbit's own estimate (columns in the order of ``exponents``); NaN rows for
        diverged orbits. ``None`` for a single Jacobian sequence.
    stderr_method : str
        ``"orbits"``: standard deviation across the independent orbits over
        ``sqrt(n_orbits)``. ``"blocks"``: every orbit is cut into ``n_blocks``
        contiguous blocks (the QR frame is carried across block boundaries, so the
        blocks partition the same average); the standard deviation of all block means
        over ``sqrt(number of blocks)``. Blocks must be much longer than the
        correlation time of the local stretching rates, or the error is understated.
    n_blocks : int
        Blocks per orbit used for ``"blocks"`` (0 if unused).
    dt : float
        Time per step (1.0 for maps).
    diverged : bool
    reason : str or None
        What went wrong or is special, if anything: which orbit became non-finite at
        which step, or on which cycle the orbits ended.
    status : str
        ``"ok"``; ``"diverged"``; ``"periodic"`` (every orbit of a map ended on the same
        fixed point or cycle: the exponents are that cycle's, ``log|eig(M)| / p`` for
        the product ``M`` of its ``p`` Jacobians; for a flow, every orbit at rest on a
        fixed point: the real parts of the Jacobian's eigenvalues there); ``"mixed"``
        (some orbits ended on a cycle and others did not, or on cycles with different
        exponents: nothing is averaged).
    periods : numpy.ndarray of int, shape (n_orbits,), or None
        The period of the cycle each orbit ended on (0: none; a flow's fixed point
        counts as 1). None for Jacobian sequences and forced flows.
    running_steps : numpy.ndarray, shape (B,), or None
        Steps averaged so far, at up to 1024 points of the run.
    running : numpy.ndarray, shape (B, d), or None
        The exponents averaged up to each of ``running_steps`` (mean over orbits).
    running_stderr : numpy.ndarray, shape (B, d), or None
        Their standard errors: across orbits for ``"orbits"``; for ``"blocks"`` the
        final ``stderr`` scaled by ``sqrt(n_steps / running_steps)``.
    """

    exponents: np.ndarray
    stderr: np.ndarray
    kaplan_yorke: float
    kaplan_yorke_stderr: float
    n_steps: int
    n_orbits: int
    per_orbit: np.ndarray | None
    stderr_method: str
    n_blocks: int
    dt: float
    diverged: bool = False
    reason: str | None = None
    status: str = "ok"
    periods: np.ndarray | None = None
    running_steps: np.ndarray | None = None
    running: np.ndarray | None = None
    running_stderr: np.ndarray | None = None

    def plot(self, ax=None):
        """Running exponents against the steps averaged, each with its stderr band.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Drawn into; a new figure otherwise.

        Returns
        -------
        matplotlib.axes.Axes
            (its figure is ``ax.figure``). The horizontal axis is logarithmic, in
            steps for maps and in time for flows; works with any backend (Agg too).
        """
        import matplotlib.pyplot as plt

        if self.running is None or self.running_steps.size == 0:
            raise ValueError("this result has no running averages to plot (no step "
                             "was averaged)")
        if ax is None:
            _, ax = plt.subplots(figsize=(7.0, 4.0), constrained_layout=True)
        x = self.running_steps * self.dt
        unit = "per step" if self.dt == 1.0 else "per unit time"
        for i in range(self.running.shape[1]):
            mean, err = self.running[:, i], self.running_stderr[:, i]
            (line,) = ax.plot(x, mean, lw=1.2,
                              label=f"λ{i + 1} = {self.exponents[i]:.5g} ± {self.stderr[i]:.2g}")
            ax.fill_between(x, mean - err, mean + err, color=line.get_color(), alpha=0.25,
                            lw=0)
        ax.set_xscale("log")
        ax.set_xlabel("time averaged" if self.dt != 1.0 else "steps averaged")
        ax.set_ylabel(f"running exponent ({unit})")
        ax.set_title(f"Lyapunov exponents, {self.n_orbits} orbit(s), status {self.status}")
        ax.legend(fontsize=9)
        return ax


def _cycle_reason(periods, cyc, alive):
    p = int(periods[alive][0])
    where = "a fixed point" if p == 1 else f"a cycle of period {p}"
    text = (f"every orbit ended on {where}; the exponents are that cycle's (exact to "
            "rounding, stderr 0), and a longer transient cannot change them")
    if cyc[alive][0][0] > 0:
        text += (". It is unstable (λ1 > 0): the orbits reached it only through rounding "
                 "(floating-point collapse: each step shifts bits out of the mantissa, as "
                 "in the tent map at mu = 2 or 2x mod 1) or by starting on it, so these are "
                 "not the attractor's exponents; perturb the parameters or the start")
    return text


def _cycles(periods, cyc, alive):
    """(status, exponents or None, reason) from the cycles the orbits ended on."""
    on = periods > 0
    if not on[alive].any():
        return "ok", None, None
    same = np.isfinite(cyc[alive]).all() and on[alive].all() and \
        float(np.ptp(cyc[alive], axis=0).max()) <= _SAME_CYCLE
    if same:
        return "periodic", cyc[alive].mean(axis=0), _cycle_reason(periods, cyc, alive)
    ids = np.flatnonzero(alive)
    return "mixed", None, (
        f"orbits end on different attractors (period of each orbit's final cycle, 0 for "
        f"none: {dict(zip(ids.tolist(), periods[alive].tolist()))}); per_orbit has each "
        "orbit's exponents, which cannot be averaged")


def finish(stats, *, n_steps, dt, per_orbit, bad, method, n_blocks, cycles=None):
    """Turn accumulated stats into a LyapunovResult.

    ``bad`` maps orbit -> message; ``cycles`` (maps) is ``(periods (k,), exponents
    (k, d))`` of the cycles the orbits ended on, NaN rows where none.
    """
    k = stats.k
    alive = np.array([i not in bad for i in range(k)])
    est = stats.per_orbit() / dt                             # (k, d), column order
    est[~alive] = np.nan
    order = np.argsort(-np.nanmean(est, axis=0)) if alive.any() else np.arange(stats.d)
    est = est[:, order]
    samples, used, blocks = stats.samples(method, alive, order, n_blocks)
    samples = samples / dt
    status, reason = ("diverged", "; ".join(bad[i] for i in sorted(bad))) if bad else ("ok", None)
    periods = None if cycles is None else cycles[0]
    m = samples.shape[0]
    exps, err = est.mean(axis=0), np.full(stats.d, np.nan)
    if m > 1:
        err = samples.std(axis=0, ddof=1) / math.sqrt(m)
    if not bad and cycles is not None:
        status, cycle_exps, reason = _cycles(periods, cycles[1] / dt, alive)
        if status == "periodic":
            exps, err, est = cycle_exps, np.zeros(stats.d), cycles[1] / dt
        elif status == "mixed":
            exps = np.full(stats.d, np.nan)
    if status in ("diverged", "mixed"):
        exps = err = np.full(stats.d, np.nan)
    ky, ky_err = float("nan"), float("nan")
    if np.isfinite(exps).all():
        ky = kaplan_yorke_dim(exps)
        if status == "periodic":
            ky_err = 0.0
        elif m > 1:
            ky_err = float(np.std([kaplan_yorke_dim(s) for s in samples], ddof=1) / math.sqrt(m))
    steps, running, running_err = _running(stats, alive, order, used, err, n_steps, dt)
    return LyapunovResult(exponents=exps, stderr=err, kaplan_yorke=ky,
                          kaplan_yorke_stderr=ky_err, n_steps=n_steps, n_orbits=k,
                          per_orbit=est if per_orbit else None, stderr_method=used,
                          n_blocks=blocks, dt=dt, diverged=bool(bad), reason=reason,
                          status=status, periods=periods, running_steps=steps,
                          running=running, running_stderr=running_err)


def _running(stats, alive, order, method, err, n_steps, dt):
    if not alive.any():
        return None, None, None
    steps, means = stats.running(alive, order)
    means = means / dt
    if method == "orbits" and means.shape[1] > 1:
        spread = means.std(axis=1, ddof=1) / math.sqrt(means.shape[1])
    else:
        spread = np.sqrt(n_steps / steps)[:, None] * np.where(np.isfinite(err), err, 0.0)
    return steps, means.mean(axis=1), spread
