"""Lyapunov spectra by QR re-orthonormalisation, for maps, flows and Jacobian sequences.

Everything goes through :class:`~jdyn.analysis._qr.TangentFrames`: a known system, a
user-defined one and a learned model (as a sequence of Jacobians along an orbit) are
treated by the same code.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from jdyn._validation import as_float_array, as_rng, check_int, check_positive
from jdyn.analysis._collapse import (TAIL, Independence, cycle_exponents, cycle_periods,
                                     fixed_point_speed)
from jdyn.analysis._lyapunov_result import LyapunovResult, finish
from jdyn.analysis._qr import (BlockStats, TangentFrames, check_stderr_method, run_flow,
                               spread_along_flow)

__all__ = ["LyapunovResult", "lyapunov_spectrum", "lyapunov_spectrum_from_jacobians"]

# Relative size of the perturbations that make the orbits distinct; the transient then
# lets chaos decorrelate them (which takes about ln(1 / size) / λ1). Maps get a small
# one because some (Hénon) sit close to the boundary of their basin.
_PERTURBATION = {False: 1e-6, True: 1e-3}
#: Longest default transient of a flow (time): orbits that have not separated by then
#: (a stable cycle or fixed point, or a very slow exponent) get the Independence warning.
_FLOW_TRANSIENT_MAX = 500.0
#: By default flow orbits also start up to this far apart in time along the orbit from
#: ``x0``: in a phase-coherent flow (Rössler) orbits from one point keep one phase, and
#: the boundary terms of their time averages (of order amplitude / T) then all agree.
_PHASE_SPREAD = 20.0
_CHUNK = 2048


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
    return finish(stats, n_steps=T - discard, dt=dt, per_orbit=not single, bad=bad,
                  method=method, n_blocks=n_blocks)


# -- systems ---------------------------------------------------------------------------
def _batch_fns(system):
    """(f(X, t), jac(X, t), is_flow) of a Map, Flow or duck-typed object; ``t`` is
    passed on only to time-dependent systems."""
    is_flow = bool(getattr(system, "is_flow", False))
    names = ("rhs_batch", "rhs") if is_flow else ("step_batch", "step")
    f = getattr(system, names[0], None)
    jac = getattr(system, "jacobian_batch", None)
    if f is None and callable(getattr(system, names[1], None)):
        one = getattr(system, names[1])
        f = lambda X, *t: np.array([one(x, *t) for x in X])  # noqa: E731
    if jac is None and callable(getattr(system, "jacobian", None)):
        j1 = system.jacobian
        jac = lambda X, *t: np.array([j1(x, *t) for x in X])  # noqa: E731
    if not (callable(f) and callable(jac)) or not hasattr(system, "x0"):
        raise ValueError("system must be a jdyn.systems.Map or Flow (or provide x0, "
                         f"{names[0]} and jacobian_batch); got {type(system).__name__}")
    if is_flow and getattr(system, "time_dependent", False):
        return f, jac, True
    return (lambda X, t=None: f(X)), (lambda X, t=None: jac(X)), is_flow


def _checked(out, shape, what):
    out = np.asarray(out, dtype=np.float64)
    if out.shape != shape:
        raise ValueError(f"system.{what} returned shape {out.shape}; expected {shape}")
    return out


def _starts(system, x0, n_orbits, exact_start, is_flow, rng):
    """Initial states (k, d): x0 plus small perturbations, or x0's rows exactly."""
    if not isinstance(exact_start, bool):
        raise ValueError(f"exact_start must be True or False; got {exact_start!r}")
    start = as_float_array(system.x0 if x0 is None else x0, "x0",
                           ndim=2 if exact_start and np.ndim(x0) == 2 else 1)
    d = start.shape[-1]
    if d != getattr(system, "dim", d) or d == 0:
        raise ValueError(f"x0 has {d} coordinates; the system has dim {system.dim}")
    if exact_start:
        X = np.atleast_2d(start).copy()
        if n_orbits is not None and check_int(n_orbits, "n_orbits", minimum=1) != len(X):
            raise ValueError(f"exact_start runs one orbit per row of x0 ({len(X)}); got "
                             f"n_orbits={n_orbits}")
        return X, X[0]
    k = check_int(8 if n_orbits is None else n_orbits, "n_orbits", minimum=1)
    scale = _PERTURBATION[is_flow] * max(1.0, float(np.abs(start).max()))
    return start + scale * rng.standard_normal((k, d)), start


def lyapunov_spectrum(system, n_steps, *, n_orbits=None, transient=None, dt=None, rng=None,
                      x0=None, exact_start=False, stderr_method="auto", n_blocks=None,
                      rtol=1e-10, atol=1e-12) -> LyapunovResult:
    """Lyapunov spectrum of a map or flow from its Jacobian.

    Parameters
    ----------
    system : jdyn.systems.Map or jdyn.systems.Flow
        Or any object with ``x0``, ``is_flow`` and ``step_batch``/``rhs_batch`` plus
        ``jacobian_batch`` (``step``/``rhs``/``jacobian`` on single states also work).
        The Jacobian is the system's, analytic or numerical (``jacobian=None``). A
        time-dependent flow gets ``t`` (0 at the start) and has ``d`` exponents.
    n_steps : int
        Per orbit: iterations of a map, or re-orthonormalisation intervals of length
        ``dt`` for a flow (time ``n_steps * dt``), averaged after the transient.
    n_orbits : int, optional
        Independent orbits advanced together (stacked QR; for a flow one stacked ODE).
        Default 8; with ``exact_start`` the number of rows of ``x0``.
    transient : int or float, optional
        Discarded first (map iterations, default 1000; flow time, default 20.0,
        preceded by default by a run of at least 20.0 and twice the time until every
        pair of orbits has been apart by a tenth of the diagonal of the box their
        states have spanned, at most 500.0).
        The tangent frames are re-orthonormalised through it, so they are aligned when
        averaging starts. It must also let the orbits decorrelate: they start from
        ``x0`` plus Gaussian perturbations of relative size 1e-6 (maps) or 1e-3
        (flows; by default, once every pair has been apart, also advanced along the
        flow by random times in [0, 20) so that their phases differ, before the
        20-unit transient that aligns the frames), which takes about ``ln(1 / size) / λ1`` (Rössler:
        ~100 time units; orbits still together share one stretch of trajectory, so
        their spread, and the ``"orbits"`` stderr, understates the error; orbits of a
        phase-coherent flow started in one phase share the boundary terms of their
        averages, of order amplitude / T); a ``RuntimeWarning`` says so
        if two orbits are within 1e-4 (relative) of each other both halfway through it
        and after it (and, if they still are at the end of the run, that a longer
        transient cannot help).
    dt : float, optional
        Flows only: re-orthonormalisation interval (default 0.1).
    rng : None, int or numpy.random.Generator
        Draws the perturbations of ``x0`` that start the orbits.
    x0 : array_like, shape (d,), or (k, d) with ``exact_start``
        Defaults to ``system.x0``.
    exact_start : bool
        Start the orbits exactly at ``x0`` (one orbit per row), with no perturbation:
        a reproducible single orbit, e.g. for regression tests against other codes.
    stderr_method, n_blocks
        See :func:`lyapunov_spectrum_from_jacobians`.
    rtol, atol : float
        Flows only: DOP853 tolerances for the state and variational equations.

    Returns
    -------
    LyapunovResult
        Per iteration for maps, per unit time for flows. An orbit that becomes
        non-finite gives NaN exponents and a ``RuntimeWarning`` naming the step. Map
        orbits that end on a fixed point or cycle (flow orbits at rest on a fixed point)
        give its exponents with ``status="periodic"`` (a ``RuntimeWarning`` if it is an
        unstable one, reached by floating-point collapse), or NaN with
        ``status="mixed"`` when the orbits end on different attractors.
    """
    f, jac, is_flow = _batch_fns(system)
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    rng = as_rng(rng)
    X, start = _starts(system, x0, n_orbits, exact_start, is_flow, rng)
    k, d = X.shape
    method = check_stderr_method(stderr_method, k)
    if n_blocks is not None:
        check_int(n_blocks, "n_blocks", minimum=2)
    _checked(f(X, 0.0), (k, d), "rhs_batch" if is_flow else "step_batch")
    _checked(jac(X, 0.0), (k, d, d), "jacobian_batch")
    stats, bad, independence, cycles = BlockStats(n_steps, k, d), {}, Independence(), None
    if is_flow:
        dt = 0.1 if dt is None else check_positive(dt, "dt")
        until_apart = math.ceil(_FLOW_TRANSIENT_MAX / dt) if transient is None else None
        transient = check_positive(20.0 if transient is None else transient, "transient",
                                   allow_zero=True)
        rtol, atol = check_positive(rtol, "rtol"), check_positive(atol, "atol")
        n_transient = math.ceil(transient / dt - 1e-9)
        spread = bool(until_apart) and not exact_start and \
            not getattr(system, "time_dependent", False)
        if spread:
            X = _apart_and_spread(f, jac, X, n_transient, dt, rtol, atol, bad, until_apart,
                                  rng)
            until_apart = None
        if not bad:
            X, _ = run_flow(f, jac, X, n_steps, n_transient, dt, rtol, atol, stats, bad,
                            independence, until_apart)
        if not getattr(system, "time_dependent", False):
            cycles = _rest_points_at_end(f, jac, X, dt)
    else:
        if dt is not None:
            raise ValueError(f"dt applies to flows only; got dt={dt!r} for a map")
        transient = check_int(1000 if transient is None else transient, "transient",
                              minimum=0)
        X, cycles = _run_map(f, jac, X, start, n_steps, transient, stats, bad, independence)
        dt = 1.0
    label = f"lyapunov_spectrum({getattr(system, 'name', type(system).__name__)})"
    _warn_bad(bad, label)
    res = finish(stats, n_steps=n_steps, dt=dt, per_orbit=True, bad=bad, method=method,
                 n_blocks=n_blocks, cycles=cycles)
    _warn_special(res, independence, X, bad, label)
    return res


def _apart_and_spread(f, jac, X, n_transient, dt, rtol, atol, bad, n_max, rng):
    """Default flow start: run until the orbits are apart (chaos decorrelated them),
    then advance each by a random time so that their phases differ too; the caller's
    transient then only aligns the frames."""
    X, _ = run_flow(f, jac, X, 0, n_transient, dt, rtol, atol, None, bad, Independence(),
                    n_max)
    if bad:
        return X
    return spread_along_flow(f, X, _PHASE_SPREAD * rng.random(len(X)), rtol, atol)


def _warn_special(res, independence, X, bad, label):
    if res.status == "mixed" or (res.status == "periodic" and res.exponents[0] > 0):
        warnings.warn(f"{label}: {res.reason}", RuntimeWarning, stacklevel=3)
    message = independence.message(X) if res.status == "ok" and not bad else None
    if message:
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def _run_map(f, jac, X, start, n_steps, transient, stats, bad, independence):
    """Iterate the orbits X (k, d) with their frames; returns the final states and
    ``(periods, cycle exponents)`` of the cycles they end on (see _collapse)."""
    k, d = X.shape
    frames, alive = TangentFrames(k, d), np.ones(k, dtype=bool)
    total, t, chunk = transient + n_steps, 0, 256
    tail = np.empty((0, k, d))
    midway = transient // 2
    while t < total and alive.any():
        if t == midway:
            independence.at_midway(X)
        if t == transient:
            independence.at_transient_end(X[alive], np.flatnonzero(alive))
        m = min(chunk, total - t)
        for mark in (midway, transient):  # chunks never straddle these
            if t < mark:
                m = min(m, mark - t)
        states = np.empty((m + 1, k, d))
        with np.errstate(all="ignore"):
            for j in range(m):
                states[j] = X
                X = f(X)
            states[m] = X
            J = np.asarray(jac(states[:m].reshape(m * k, d)),
                           dtype=np.float64).reshape(m, k, d, d)
        J[~np.isfinite(states[:m]).all(axis=-1)] = np.nan
        _advance(frames, stats, J, t, transient, bad, alive,
                 "iteration" if t >= transient else "transient iteration")
        tail = np.concatenate([tail, states[max(0, m - TAIL):m]])[-TAIL:]
        X = np.where(alive[:, None] & np.isfinite(X), X, start)
        t += m
        chunk = _CHUNK
    return X, _cycles_at_end(jac, tail, k, d)


def _rest_points_at_end(f, jac, X, dt):
    """Flows: ``(periods, exponents per interval dt)`` with period 1 for orbits at rest on
    a fixed point (exponents the real parts of the Jacobian's eigenvalues there)."""
    with np.errstate(all="ignore"):
        speed = np.linalg.norm(np.asarray(f(X), dtype=np.float64), axis=1)
    periods = (speed <= fixed_point_speed(X)).astype(int)
    exps = np.full(X.shape, np.nan)
    if periods.any():
        J = np.asarray(jac(X[periods == 1]), dtype=np.float64)
        exps[periods == 1] = dt * np.sort(np.linalg.eigvals(J).real, axis=1)[:, ::-1]
    return periods, exps


def _cycles_at_end(jac, tail, k, d):
    periods = cycle_periods(tail)
    exps = np.full((k, d), np.nan)
    for o in np.flatnonzero(periods):
        p = int(periods[o])
        exps[o] = cycle_exponents(np.asarray(jac(tail[-p:, o]), dtype=np.float64))
    return periods, exps
