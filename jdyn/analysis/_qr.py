"""Tangent-space machinery of lyapunov.py: stacked QR, block products, the block
statistics behind the error bars, and the stacked variational ODE of flows.

The frames of ``k`` orbits are advanced together, so numpy's per-call overhead is paid
once per step for all orbits. Products of ``L`` consecutive Jacobians are formed by a
pairwise tree over the whole chunk (vectorised over time as well), so the sequential
QR loop runs ``T / L`` times instead of ``T``. In exact arithmetic the diagonal of R for
the product equals the product of the per-step diagonals (products of upper-triangular
matrices), so this changes only rounding; ``L`` is kept small enough that the product's
condition number stays below ``exp(LOG_KAPPA)``.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import DOP853

__all__ = ["qr_logdiag", "chain_products", "TangentFrames", "BlockStats", "check_stderr_method",
           "run_flow", "Separation",
           "spread_along_flow"]

#: Largest log condition number allowed for a block product (relative rounding of the
#: smallest diagonal entry of R is then about 1e-16 * exp(LOG_KAPPA) ~ 1e-11).
LOG_KAPPA = 12.0
MAX_BLOCK = 64
#: Largest log magnitude of a block product's entries (float64 overflows near 709).
LOG_MAGNITUDE = 300.0


def qr_logdiag(A):
    """QR of a stack of square matrices, returning ``Q`` and ``log|diag R|``.

    Parameters
    ----------
    A : numpy.ndarray, shape (k, d, d)

    Returns
    -------
    Q : numpy.ndarray, shape (k, d, d)
        Orthonormal columns spanning the same nested subspaces as ``A``'s columns.
    logdiag : numpy.ndarray, shape (k, d)
        ``log|R_ii|`` (``-inf`` where ``A`` is singular in that direction).
    """
    d = A.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        if d == 1:
            return np.ones_like(A), np.log(np.abs(A[:, :, 0]))
        if d == 2:
            return _qr2(A)
        Q, R = np.linalg.qr(A)
        return Q, np.log(np.abs(np.diagonal(R, axis1=-2, axis2=-1)))


def _qr2(A):
    # Closed form: numpy's stacked QR costs ~45 us per call, this ~10 us. The second
    # column of Q is the first rotated by 90 degrees, so it is orthogonal to rounding,
    # and |R22| = |det A| / R11 keeps the sum of the logs equal to log|det A|.
    a, c = A[:, 0, 0], A[:, 1, 0]
    r11 = np.hypot(a, c)
    zero = r11 == 0
    if zero.any():  # a singular first column: any unit vector spans the same flag
        a, c, r11 = np.where(zero, 1.0, a), np.where(zero, 0.0, c), np.where(zero, 1.0, r11)
    q0, q1 = a / r11, c / r11
    det = A[:, 0, 0] * A[:, 1, 1] - A[:, 0, 1] * A[:, 1, 0]
    Q = np.empty_like(A)
    Q[:, 0, 0], Q[:, 1, 0], Q[:, 0, 1], Q[:, 1, 1] = q0, q1, -q1, q0
    log11 = np.where(zero, -np.inf, np.log(r11))
    return Q, np.stack([log11, np.log(np.abs(det)) - log11], axis=1)


def chain_products(J, L):
    """Products of ``L`` consecutive matrices, later times on the left.

    Parameters
    ----------
    J : numpy.ndarray, shape (G * L, k, d, d)
        Time first; ``L`` a power of two.

    Returns
    -------
    numpy.ndarray, shape (G, k, d, d)
        ``P[g] = J[g*L + L-1] @ ... @ J[g*L]``.
    """
    T, k, d, _ = J.shape
    P = J.reshape(T // L, L, k, d, d)
    while P.shape[1] > 1:
        P = P[:, 1::2] @ P[:, 0::2]
    return P[:, 0]


class TangentFrames:
    """Orthonormal tangent frames of ``k`` orbits, advanced by chunks of Jacobians.

    Parameters
    ----------
    k, d : int
        Number of orbits and state dimension.

    Notes
    -----
    ``d == 1``: the log-stretches are ``log|J|``, no frame is needed. ``d == 2``: only
    the first column ``q`` is carried; ``R11 = |P q|`` and ``|R22| = |det P| / R11``
    with ``log|det P|`` summed from the per-step determinants, so ``λ1 + λ2`` equals
    the mean of ``log|det J|`` to rounding whatever the block length, and ``P q`` loses
    no accuracy to the conditioning of ``P`` (``q`` lies along its expanding
    direction); blocks are limited only by overflow. ``d >= 3``: numpy's stacked QR
    of ``P Q``, with block products kept below the condition number
    ``exp(LOG_KAPPA)``.
    """

    def __init__(self, k, d):
        self.Q = np.broadcast_to(np.eye(d), (k, d, d)).copy()
        self.block = 1

    def reset(self, orbit):
        """Restart one orbit's frame at the identity (after it diverged)."""
        self.Q[orbit] = np.eye(self.Q.shape[-1])

    def advance(self, J):
        """Advance the frames through ``J`` of shape (T, k, d, d).

        Returns
        -------
        logs : numpy.ndarray, shape (G, k, d)
            ``log|R_ii|`` of each block product (the sum over its steps).
        starts : numpy.ndarray of int, shape (G,)
            First step (0-based, within ``J``) of each block.
        """
        T, d = J.shape[0], J.shape[-1]
        if d == 1:  # scalar products commute: no frame to carry
            with np.errstate(divide="ignore"):
                return np.log(np.abs(J[..., 0])), np.arange(T)
        L = self.block if T >= self.block else 1
        main = (T // L) * L
        logs, starts = [], []
        for lo, hi, size in ((0, main, L), (main, T, 1)):
            if hi <= lo:
                continue
            P = chain_products(J[lo:hi], size) if size > 1 else J[lo:hi]
            if d == 2:
                out = self._advance2(P, J[lo:hi], size)
            else:
                out = np.empty(P.shape[:2] + (d,))
                Q = self.Q
                for g in range(P.shape[0]):
                    Q, out[g] = qr_logdiag(P[g] @ Q)
                self.Q = Q
            logs.append(out)
            starts.append(lo + size * np.arange(P.shape[0]))
        logs = np.concatenate(logs)
        self._adapt(logs, L, d)
        return logs, np.concatenate(starts)

    def _advance2(self, P, J, L):
        G, k = P.shape[:2]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            det = J[..., 0, 0] * J[..., 1, 1] - J[..., 0, 1] * J[..., 1, 0]
            logdet = np.log(np.abs(det)).reshape(G, L, k).sum(axis=1)
            r = np.empty((G, k))
            q = self.Q[:, :, 0].copy()
            for g in range(G):
                v = np.matmul(P[g], q[:, :, None])[:, :, 0]
                r[g] = np.hypot(v[:, 0], v[:, 1])
                q = v / r[g][:, None]
            if not np.isfinite(q).all():  # P q == 0 or overflow: restart those frames
                q[~np.isfinite(q).all(axis=1)] = (1.0, 0.0)
            logr = np.log(r)
        self.Q[:, :, 0] = q
        self.Q[:, 0, 1], self.Q[:, 1, 1] = -q[:, 1], q[:, 0]
        return np.stack([logr, logdet - logr], axis=-1)

    def _adapt(self, logs, L, d):
        # The spread of log|R_ii| across directions measures a block's condition
        # number (a high percentile rather than the max, so one rare near-tangency
        # does not pin L at 1: such a block only loses digits in its smallest
        # direction). The largest |log R_ii| guards against overflow of the product.
        with np.errstate(invalid="ignore"):
            spread = (logs.max(axis=-1) - logs.min(axis=-1)).ravel() / L
            size = np.abs(logs).max(axis=-1).ravel() / L
        ok = np.isfinite(spread) & np.isfinite(size)
        if not ok.any():
            self.block = 1
            return
        L_new = min(MAX_BLOCK, LOG_MAGNITUDE / max(float(size[ok].max()), 1e-12))
        if d > 2:
            per_step = max(float(np.percentile(spread[ok], 99)), 1e-12)
            L_new = min(L_new, LOG_KAPPA / per_step)
        self.block = 1 << (int(max(1.0, L_new)).bit_length() - 1)


# -- block statistics --------------------------------------------------------------------
def check_stderr_method(method, k):
    """Resolve ``"auto"`` to ``"orbits"`` (k >= 8) or ``"blocks"``; validate the rest."""
    if method not in ("auto", "orbits", "blocks"):
        raise ValueError(f"stderr_method must be 'auto', 'orbits' or 'blocks'; got {method!r}")
    if method == "orbits" and k < 2:
        raise ValueError(f"stderr_method='orbits' needs at least 2 orbits; got {k}")
    if method == "auto":
        return "orbits" if k >= 8 else "blocks"
    return method


class BlockStats:
    """Sums of log-stretches per orbit in fine time bins, merged into blocks on demand.

    Parameters
    ----------
    n_steps, k, d : int
        Steps averaged per orbit, orbits, dimension.
    """

    #: Shortest default block, in steps: local stretching rates of the systems we know
    #: decorrelate within a few tens of steps (a few time units for sampled flows).
    MIN_BLOCK = 100
    MAX_BLOCKS = 32

    def __init__(self, n_steps, k, d):
        self.n_steps, self.k, self.d = n_steps, k, d
        self.res = max(1, n_steps // 1024)
        n_bins = -(-n_steps // self.res)
        self.sums = np.zeros((n_bins, k, d))
        self.counts = np.zeros(n_bins)

    def add(self, logs, starts, sizes):
        """Add block logs (G, k, d) that start at ``starts`` (G,) and last ``sizes``."""
        b = np.minimum(starts // self.res, self.sums.shape[0] - 1)
        np.add.at(self.sums, b, logs)
        np.add.at(self.counts, b, sizes)

    def per_orbit(self):
        """Time-averaged log-stretch per step of each orbit, shape (k, d)."""
        return self.sums.sum(axis=0) / max(self.counts.sum(), 1.0)

    def running(self, alive, order):
        """Running averages of the live orbits after each bin.

        Returns
        -------
        steps : numpy.ndarray, shape (B,)
            Steps averaged so far.
        means : numpy.ndarray, shape (B, k_alive, d)
            Each orbit's running mean log-stretch per step, columns in ``order``.
        """
        ccount = np.cumsum(self.counts)
        ok = ccount > 0
        csum = np.cumsum(self.sums[:, alive][:, :, order], axis=0)
        return ccount[ok], csum[ok] / ccount[ok][:, None, None]

    def samples(self, method, alive, order, n_blocks=None):
        """Independent estimates for the standard error.

        Returns
        -------
        samples : numpy.ndarray, shape (m, d)
            Per-orbit means (``"orbits"``) or block means of all live orbits.
        method : str
        n_blocks : int
            Blocks per orbit (0 for ``"orbits"``).
        """
        if method == "orbits":
            return self.per_orbit()[alive][:, order], "orbits", 0
        n_bins = self.sums.shape[0]
        if n_blocks is None:
            n_blocks = max(2, min(self.MAX_BLOCKS, self.n_steps // self.MIN_BLOCK))
        n_blocks = min(n_blocks, n_bins)
        edges = np.linspace(0, n_bins, n_blocks + 1).round().astype(int)
        sums = np.add.reduceat(self.sums, edges[:-1], axis=0)
        counts = np.add.reduceat(self.counts, edges[:-1])
        means = sums[:, alive] / np.maximum(counts, 1.0)[:, None, None]
        return means.reshape(-1, self.d)[:, order], "blocks", int(n_blocks)


# -- flows ---------------------------------------------------------------------------------
def _integrate(f, jac, X, Q, t0, dt, rtol, atol, h):
    """State and variational equations of all rows of X from time ``t0`` over ``dt``, as
    one ODE (``f(X, t)`` and ``jac(X, t)`` get the absolute time).

    Returns (X, Phi, h), or None if the integration failed or left non-finite numbers.
    """
    k, d = X.shape
    kd = k * d

    def fun(t, y):
        Xs = y[:kd].reshape(k, d)
        out = np.empty_like(y)
        out[:kd].reshape(k, d)[...] = f(Xs, t0 + t)
        np.matmul(jac(Xs, t0 + t), y[kd:].reshape(k, d, d), out=out[kd:].reshape(k, d, d))
        return out

    y = np.concatenate([X.ravel(), Q.ravel()])
    with np.errstate(all="ignore"):
        try:
            solver = DOP853(fun, 0.0, y, dt, rtol=rtol, atol=atol, first_step=h)
            h_max = 0.0
            while solver.status == "running":
                solver.step()
                h_max = max(h_max, solver.step_size or 0.0)
        except ArithmeticError:
            return None
    if solver.status != "finished" or not np.isfinite(solver.y).all():
        return None
    return solver.y[:kd].reshape(k, d), solver.y[kd:].reshape(k, d, d), min(h_max, dt)


def spread_along_flow(f, X, times, rtol, atol):
    """Advance each row of X (k, d) along ``dx/dt = f(x)`` by its own time ``times``
    (k,), in one ODE: row j follows ``times[j] f`` for a unit of rescaled time."""
    k, d = X.shape

    def fun(s, y):
        return (times[:, None] * f(y.reshape(k, d), None)).ravel()

    with np.errstate(all="ignore"):
        solver = DOP853(fun, 0.0, X.ravel(), 1.0, rtol=rtol, atol=atol)
        while solver.status == "running":
            solver.step()
    if solver.status != "finished" or not np.isfinite(solver.y).all():
        return X
    return solver.y.reshape(k, d)


class Separation:
    """Whether every pair of orbits has been macroscopically apart: at least ``APART``
    times the diagonal of the box spanned by all states seen so far."""

    APART = 0.1

    def __init__(self, X):
        self.lo, self.hi = X.min(axis=0), X.max(axis=0)
        self.seen = np.eye(len(X), dtype=bool)

    def update(self, X, count=True):
        """Record the states X (k, d) of one step; True once every pair has been apart.
        ``count=False`` only grows the box (early on it spans little of the attractor)."""
        self.lo, self.hi = np.minimum(self.lo, X.min(axis=0)), np.maximum(self.hi, X.max(axis=0))
        if not count:
            return False
        dist = np.linalg.norm(X[:, None] - X[None], axis=-1)
        self.seen |= dist >= self.APART * np.linalg.norm(self.hi - self.lo)
        return bool(self.seen.all())


def run_flow(f, jac, X, n_steps, n_transient, dt, rtol, atol, stats, bad, independence,
             until_apart=None):
    """Orbits X (k, d) of ``dx/dt = f(x, t)`` from t = 0 with their tangent frames,
    re-orthonormalised every ``dt``; log-stretches after the transient go to ``stats``,
    ``bad`` gets a message for each orbit that fails, and ``independence`` (an
    :class:`~jdyn.analysis._collapse.Independence`) sees the states after the transient.

    The transient is ``n_transient`` intervals, or with ``until_apart = n_max`` at least
    that and at least twice the intervals until every pair of orbits has been apart
    (:class:`Separation`, counted from ``n_transient // 2`` on), at most ``n_max``. Returns the final states (rows of failed
    orbits as they failed) and the transient used, in intervals."""
    k, d = X.shape
    Q = np.broadcast_to(np.eye(d), (k, d, d)).copy()
    active, h = np.arange(k), None
    apart = Separation(X) if until_apart and k > 1 else None
    n_min, i = n_transient, 0
    if apart is not None:
        n_transient = until_apart
    while i < n_transient + n_steps:
        if apart is not None and i < n_transient and apart.update(X[active], i >= n_min // 2):
            n_transient, apart = max(n_min, min(2 * i, until_apart)), None
        if i == n_min // 2:
            independence.at_midway(X)
        if i == n_transient:
            independence.at_transient_end(X[active], active)
        out = _integrate(f, jac, X[active], Q[active], i * dt, dt, rtol, atol, h)
        if out is None:
            active, out = _retry_one_by_one(f, jac, X, Q, active, i, n_transient, dt,
                                            rtol, atol, bad)
            if active.size == 0:
                return X, n_transient
        X[active], Phi, h = out
        Q[active], logs = qr_logdiag(Phi)
        if i >= n_transient:
            full = np.zeros((1, k, d))
            full[0, active] = logs
            stats.add(full, np.array([i - n_transient]), np.array([1]))
        i += 1
    return X, n_transient


def _retry_one_by_one(f, jac, X, Q, active, i, n_transient, dt, rtol, atol, bad):
    """Something in the stack failed: find out which orbits; returns (active, out)."""
    each = [_integrate(f, jac, X[[o]], Q[[o]], i * dt, dt, rtol, atol, None) for o in active]
    for o, r in zip(active, each):
        if r is None:
            where = "transient " if i < n_transient else ""
            bad[int(o)] = (f"orbit {o} diverged or failed to integrate in {where}"
                           f"re-orthonormalisation step {i} (t = {i * dt:.6g} to "
                           f"{(i + 1) * dt:.6g}, transient included)")
    active = np.array([o for o, r in zip(active, each) if r is not None], dtype=int)
    each = [r for r in each if r is not None]
    if not each:
        return active, None
    return active, (np.concatenate([r[0] for r in each]), np.concatenate([r[1] for r in each]),
                    None)
