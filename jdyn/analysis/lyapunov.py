"""Lyapunov spectra by QR re-orthonormalisation, for maps, flows and Jacobian sequences.

Everything goes through :class:`~jdyn.analysis._qr.TangentFrames`: a known system, a
user-defined one and a learned model (as a sequence of Jacobians along an orbit) are
treated by the same code.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from jdyn._validation import as_float_array, as_rng, check_int, check_positive
from jdyn.analysis._qr import (BlockStats, TangentFrames, check_independent,
                               check_stderr_method, run_flow)
from jdyn.analysis.kaplan_yorke import kaplan_yorke_dim

__all__ = ["LyapunovResult", "lyapunov_spectrum", "lyapunov_spectrum_from_jacobians"]

# Relative size of the perturbations that make the orbits distinct; the transient then
# lets chaos decorrelate them (which takes about ln(1 / size) / λ1). Maps get a small
# one because some (Hénon) sit close to the boundary of their basin.
_PERTURBATION = {False: 1e-6, True: 1e-3}
_CHUNK = 2048


@dataclass(frozen=True, eq=False)
class LyapunovResult:
    """A Lyapunov spectrum with its uncertainty.

    Attributes
    ----------
    exponents : numpy.ndarray, shape (d,)
        Descending; natural log, per iteration (maps) or per unit time (flows, or
        Jacobian sequences given ``dt``). NaN if any orbit diverged.
    stderr : numpy.ndarray, shape (d,)
        Standard error of each exponent, computed as ``stderr_method`` says.
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
        Which orbit became non-finite at which step, if any did.
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


# -- results ---------------------------------------------------------------------------
def _finish(stats, *, n_steps, dt, per_orbit, bad, method, n_blocks):
    """Turn accumulated stats into a LyapunovResult; ``bad`` maps orbit -> message."""
    k = stats.k
    alive = np.array([i not in bad for i in range(k)])
    est = stats.per_orbit() / dt                             # (k, d), column order
    est[~alive] = np.nan
    order = np.argsort(-np.nanmean(est, axis=0)) if alive.any() else np.arange(stats.d)
    est = est[:, order]
    samples, used, blocks = stats.samples(method, alive, order, n_blocks)
    samples = samples / dt
    reason = "; ".join(bad[i] for i in sorted(bad)) or None
    if bad:
        exps = np.full(stats.d, np.nan)
        err = np.full(stats.d, np.nan)
        ky = ky_err = float("nan")
    else:
        exps = est.mean(axis=0)
        m = samples.shape[0]
        err = samples.std(axis=0, ddof=1) / math.sqrt(m) if m > 1 else np.full(stats.d, np.nan)
        ky = kaplan_yorke_dim(exps)
        kys = np.array([kaplan_yorke_dim(s) for s in samples])
        ky_err = float(kys.std(ddof=1) / math.sqrt(m)) if m > 1 else float("nan")
    return LyapunovResult(exponents=exps, stderr=err, kaplan_yorke=ky,
                          kaplan_yorke_stderr=ky_err, n_steps=n_steps, n_orbits=k,
                          per_orbit=est if per_orbit else None, stderr_method=used,
                          n_blocks=blocks, dt=dt, diverged=bool(bad), reason=reason)


def _warn_bad(bad, what):
    if bad:
        warnings.warn(f"{what}: " + "; ".join(bad[i] for i in sorted(bad))
                      + "; its exponents are NaN", RuntimeWarning, stacklevel=3)


def _advance(frames, stats, J, t0, n_skip, bad, alive, label):
    """Feed Jacobians (T, k, d, d) that start at global step ``t0``; average the steps
    from ``n_skip`` on. Orbits with non-finite Jacobians or products are marked dead."""
    J[:, ~alive] = np.eye(J.shape[-1])
    logs, starts = frames.advance(J)
    sizes = np.diff(np.append(starts, J.shape[0]))
    bad_J = ~np.isfinite(J).all(axis=(-2, -1))                        # (T, k)
    bad_log = np.isnan(logs).any(axis=-1) | np.isposinf(logs).any(axis=-1)  # (G, k)
    for o in np.flatnonzero(alive & (bad_J.any(axis=0) | bad_log.any(axis=0))):
        step = min(int(np.argmax(bad_J[:, o])) if bad_J[:, o].any() else J.shape[0],
                   int(starts[np.argmax(bad_log[:, o])]) if bad_log[:, o].any() else J.shape[0])
        bad[int(o)] = f"orbit {o} became non-finite at {label} {t0 + step}"
        alive[o] = False
        frames.reset(o)
    logs[:, ~alive] = 0.0
    keep = starts + t0 >= n_skip
    if keep.any():
        stats.add(logs[keep], starts[keep] + t0 - n_skip, sizes[keep])


# -- Jacobian sequences ----------------------------------------------------------------
def lyapunov_spectrum_from_jacobians(J, *, dt=1.0, discard=0, stderr_method="auto",
                                     n_blocks=None) -> LyapunovResult:
    """Lyapunov spectrum from Jacobians along one or several orbits.

    Parameters
    ----------
    J : array_like, shape (T, d, d) or (k, T, d, d)
        ``J[t] = Df(x_t)``, in time order, for one orbit or ``k`` independent ones.
        Non-finite entries are treated as a diverged orbit (warning, NaN exponents).
    dt : float
        Time per step: exponents are divided by it (e.g. a flow sampled every ``dt``).
    discard : int
        Leading steps used only to align the tangent frame (which starts at the
        identity), not averaged.
    stderr_method : {"auto", "orbits", "blocks"}
        See :class:`LyapunovResult`. ``"auto"`` uses orbits when ``k >= 8`` and blocks
        otherwise (a single sequence always uses blocks).
    n_blocks : int, optional
        Blocks per orbit for ``"blocks"``; by default as many as keep blocks at least
        ``BlockStats.MIN_BLOCK`` steps long, at most 32.

    Returns
    -------
    LyapunovResult
    """
    arr = as_float_array(J, "J", finite=False)
    if arr.ndim not in (3, 4) or arr.shape[-1] != arr.shape[-2] or arr.shape[-1] == 0:
        raise ValueError(f"J must have shape (T, d, d) or (k, T, d, d); got {arr.shape}")
    single = arr.ndim == 3
    arr = arr[None] if single else arr
    k, T, d, _ = arr.shape
    dt = check_positive(dt, "dt")
    discard = check_int(discard, "discard", minimum=0)
    if T - discard < 1:
        raise ValueError(f"J has {T} steps; need more than discard={discard}")
    method = check_stderr_method(stderr_method, k)
    if n_blocks is not None:
        check_int(n_blocks, "n_blocks", minimum=2)
    frames, stats = TangentFrames(k, d), BlockStats(T - discard, k, d)
    bad, alive = {}, np.ones(k, dtype=bool)
    Jt = np.moveaxis(arr, 1, 0)
    edges = sorted({0, discard, T, *range(discard, T, 4 * _CHUNK)})
    for t0, t1 in zip(edges[:-1], edges[1:]):
        _advance(frames, stats, np.array(Jt[t0:t1]), t0, discard, bad, alive, "step")
    if single and bad:
        bad = {0: bad[0].replace("orbit 0 became", "J became")}
    _warn_bad(bad, "lyapunov_spectrum_from_jacobians")
    return _finish(stats, n_steps=T - discard, dt=dt, per_orbit=not single, bad=bad,
                   method=method, n_blocks=n_blocks)


# -- systems ---------------------------------------------------------------------------
def _batch_fns(system):
    """(next-or-rhs batch function, jacobian batch function, is_flow), duck-typed."""
    is_flow = bool(getattr(system, "is_flow", False))
    names = ("rhs_batch", "rhs") if is_flow else ("step_batch", "step")
    f = getattr(system, names[0], None)
    jac = getattr(system, "jacobian_batch", None)
    if f is None and callable(getattr(system, names[1], None)):
        one = getattr(system, names[1])
        f = lambda X: np.array([one(x) for x in X])  # noqa: E731
    if jac is None and callable(getattr(system, "jacobian", None)):
        f1 = system.jacobian
        jac = lambda X: np.array([f1(x) for x in X])  # noqa: E731
    if not (callable(f) and callable(jac)) or not hasattr(system, "x0"):
        raise ValueError("system must be a jdyn.systems.Map or Flow (or provide x0, "
                         f"{names[0]} and jacobian_batch); got {type(system).__name__}")
    return f, jac, is_flow


def _checked(out, shape, what):
    out = np.asarray(out, dtype=np.float64)
    if out.shape != shape:
        raise ValueError(f"system.{what} returned shape {out.shape}; expected {shape}")
    return out


def lyapunov_spectrum(system, n_steps, *, n_orbits=8, transient=None, dt=None, rng=None,
                      x0=None, stderr_method="auto", n_blocks=None, rtol=1e-10,
                      atol=1e-12) -> LyapunovResult:
    """Lyapunov spectrum of a map or flow from its analytic Jacobian.

    Parameters
    ----------
    system : jdyn.systems.Map or jdyn.systems.Flow
        Or any object with ``x0``, ``is_flow`` and ``step_batch``/``rhs_batch`` plus
        ``jacobian_batch`` (``step``/``rhs``/``jacobian`` on single states also work).
    n_steps : int
        Per orbit: iterations of a map, or re-orthonormalisation intervals of length
        ``dt`` for a flow (time ``n_steps * dt``), averaged after the transient.
    n_orbits : int
        Independent orbits advanced together (stacked QR; for a flow one stacked ODE).
    transient : int or float, optional
        Discarded first (map iterations, default 1000; flow time, default 20.0). The
        tangent frames are re-orthonormalised through it, so they are aligned when
        averaging starts. It must also let the orbits decorrelate: they start from
        ``x0`` plus Gaussian perturbations of relative size 1e-6 (maps) or 1e-3
        (flows), which takes about ``ln(1 / size) / λ1``; a ``RuntimeWarning`` says so
        if two orbits are still within 1e-4 (relative) of each other afterwards.
    dt : float, optional
        Flows only: re-orthonormalisation interval (default 0.1).
    rng : None, int or numpy.random.Generator
        Draws the perturbations of ``x0`` that start the orbits.
    x0 : array_like, shape (d,), optional
        Defaults to ``system.x0``.
    stderr_method, n_blocks
        See :func:`lyapunov_spectrum_from_jacobians`.
    rtol, atol : float
        Flows only: DOP853 tolerances for the state and variational equations.

    Returns
    -------
    LyapunovResult
        Per iteration for maps, per unit time for flows. An orbit that becomes
        non-finite gives NaN exponents and a ``RuntimeWarning`` naming the step.
    """
    f, jac, is_flow = _batch_fns(system)
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    k = check_int(n_orbits, "n_orbits", minimum=1)
    start = as_float_array(system.x0 if x0 is None else x0, "x0", ndim=1)
    d = start.size
    if d != getattr(system, "dim", d) or d == 0:
        raise ValueError(f"x0 has {d} coordinates; the system has dim {system.dim}")
    rng = as_rng(rng)
    method = check_stderr_method(stderr_method, k)
    if n_blocks is not None:
        check_int(n_blocks, "n_blocks", minimum=2)
    scale = _PERTURBATION[is_flow] * max(1.0, float(np.abs(start).max()))
    X = start + scale * rng.standard_normal((k, d))
    _checked(f(X), (k, d), "rhs_batch" if is_flow else "step_batch")
    _checked(jac(X), (k, d, d), "jacobian_batch")
    stats, bad = BlockStats(n_steps, k, d), {}
    if is_flow:
        dt = 0.1 if dt is None else check_positive(dt, "dt")
        transient = check_positive(20.0 if transient is None else transient, "transient",
                                   allow_zero=True)
        rtol, atol = check_positive(rtol, "rtol"), check_positive(atol, "atol")
        run_flow(f, jac, X, n_steps, math.ceil(transient / dt - 1e-9), dt, rtol, atol,
                 stats, bad)
    else:
        if dt is not None:
            raise ValueError(f"dt applies to flows only; got dt={dt!r} for a map")
        transient = check_int(1000 if transient is None else transient, "transient",
                              minimum=0)
        _run_map(f, jac, X, start, n_steps, transient, stats, bad)
        dt = 1.0
    _warn_bad(bad, f"lyapunov_spectrum({getattr(system, 'name', type(system).__name__)})")
    return _finish(stats, n_steps=n_steps, dt=dt, per_orbit=True, bad=bad, method=method,
                   n_blocks=n_blocks)


def _run_map(f, jac, X, start, n_steps, transient, stats, bad):
    k, d = X.shape
    frames, alive = TangentFrames(k, d), np.ones(k, dtype=bool)
    total, t, chunk = transient + n_steps, 0, 256
    while t < total and alive.any():
        if t == transient:
            check_independent(X[alive], np.flatnonzero(alive))
        m = min(chunk, total - t)
        if t < transient:  # chunks never straddle the end of the transient
            m = min(m, transient - t)
        states = np.empty((m, k, d))
        with np.errstate(all="ignore"):
            for j in range(m):
                states[j] = X
                X = f(X)
            J = np.asarray(jac(states.reshape(m * k, d)), dtype=np.float64).reshape(m, k, d, d)
        J[~np.isfinite(states).all(axis=-1)] = np.nan
        _advance(frames, stats, J, t, transient, bad, alive,
                 "iteration" if t >= transient else "transient iteration")
        X = np.where(alive[:, None] & np.isfinite(X), X, start)
        t += m
        chunk = _CHUNK
