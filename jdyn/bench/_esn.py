"""An echo-state-network (reservoir computing) peer for ``jdyn bench accuracy``.

The method of Pathak, Lu, Hunt, Girvan & Ott, *Using machine learning to replicate
chaotic attractors and calculate Lyapunov exponents from data*, Chaos 27, 121102
(2017), with `reservoirpy <https://github.com/reservoirpy/reservoirpy>`_ (optional;
:func:`esn_exponents` returns ``None`` when it is not installed):

1. standardise the series ``z = (y − mean) / std``;
2. drive a reservoirpy ``Reservoir`` (leaky tanh units, leak rate ``lr``, spectral
   radius ``sr``, fixed input scaling and bias) with ``z[t]`` and train a ``Ridge``
   readout to predict ``z[t+1]`` from the reservoir state ``r[t]``; ``sr``, ``lr`` and
   the ridge are chosen over a small grid by the one-step error on the held-out last
   20 % (readout trained on the first 80 %), then the readout is refitted on all of it;
3. close the loop (the prediction is fed back as the next input): the autonomous map
   ``r[t+1] = (1−lr) r[t] + lr·tanh(W r[t] + W_in (W_outᵀ r[t] + b_out) + bias)``,
   started from the state synchronised to the end of the data;
4. its Lyapunov spectrum by QR iteration of the exact Jacobian
   ``J = (1−lr) I + lr·diag(1 − tanh²(a)) (W + W_in W_outᵀ)`` along the closed-loop
   orbit, keeping only ``n_exponents + 2`` leading directions (a thin ``Q``), which is
   exact for the leading exponents; a transient is iterated (orbit and ``Q``) but
   not counted.

Exponents are per unit time (divided by ``dt``; per sample when ``dt`` is None).
"""

from __future__ import annotations

import numpy as np

__all__ = ["esn_exponents"]

SR_GRID = (0.8, 1.0, 1.2)
LR_GRID = (0.3, 0.6, 1.0)
RIDGE_GRID = (1e-6, 1e-4)
INPUT_SCALING = 0.5
BIAS_SCALING = 0.5
WARMUP = 100
HOLDOUT = 0.2
BOUND = 10.0  # closed-loop output must stay within ± BOUND (standardised units)


def _reservoirpy():
    try:
        import reservoirpy  # noqa: F401
        from reservoirpy.nodes import Reservoir, Ridge
    except ImportError:
        return None
    return Reservoir, Ridge


def _dense(a):
    return a.toarray() if hasattr(a, "toarray") else np.asarray(a)


def _fit(z, units, rng):
    """Grid-search and train; returns (reservoir, readout, info, r_end) where r_end is
    the reservoir state after reading all of ``z`` (its readout predicts z[T])."""
    Reservoir, Ridge = _reservoirpy()
    X, Y = z[:-1], z[1:]
    cut = WARMUP + int((1 - HOLDOUT) * (len(X) - WARMUP))
    bias = np.random.default_rng(rng).uniform(-BIAS_SCALING, BIAS_SCALING, units)
    best = None
    for sr in SR_GRID:
        for lr in LR_GRID:
            res = Reservoir(units, lr=lr, sr=sr, input_scaling=INPUT_SCALING,
                            input_connectivity=1.0, bias=bias.copy(), seed=rng)
            S = res.run(z)
            for ridge in RIDGE_GRID:
                ro = Ridge(ridge=ridge).fit(S[WARMUP:cut], Y[WARMUP:cut])
                err = float(np.mean((ro.run(S[cut:-1]) - Y[cut:]) ** 2))
                if np.isfinite(err) and (best is None or err < best[0]):
                    best = (err, sr, lr, ridge, res, S)
    err, sr, lr, ridge, res, S = best
    readout = Ridge(ridge=ridge).fit(S[WARMUP:-1], Y[WARMUP:])
    info = {"sr": sr, "lr": lr, "ridge": ridge, "input_scaling": INPUT_SCALING,
            "bias_scaling": BIAS_SCALING, "reservoir": units,
            "holdout_mse": err, "holdout_nmse": err / float(np.var(Y[cut:]))}
    return res, readout, info, S[-1].copy()


def _closed_loop(reservoir, readout):
    """The closed-loop map's pieces: r' = (1−lr) r + lr tanh(M r + c), u = Wout r + b."""
    W = _dense(reservoir.W)
    Win = _dense(reservoir.Win)
    Wout = _dense(readout.Wout)          # (units, m): u = r @ Wout + b
    b = np.asarray(readout.bias, float).reshape(-1)
    bias = np.broadcast_to(np.asarray(_dense(reservoir.bias), float).reshape(-1),
                           (W.shape[0],))
    lr = float(reservoir.lr)
    M = W + Win @ Wout.T
    c = Win @ b + bias
    return M, c, Wout, b, lr


def closed_loop_outputs(reservoir, readout, r0, n):
    """``n`` closed-loop outputs u[1..n] from state r0 with this module's map."""
    M, c, Wout, b, lr = _closed_loop(reservoir, readout)
    r = np.array(r0, float)
    out = np.empty((n, len(b)))
    for t in range(n):
        r = (1 - lr) * r + lr * np.tanh(M @ r + c)
        out[t] = r @ Wout + b
    return out


def reservoirpy_generate(reservoir, readout, r0, n):
    """The same with reservoirpy's own nodes: the model's output fed back as input."""
    model = reservoir >> readout
    reservoir.state = {"out": np.array(r0, float)}
    u = np.asarray(r0 @ _dense(readout.Wout) + readout.bias, float).reshape(-1)
    out = np.empty((n, len(u)))
    for t in range(n):
        u = np.asarray(model.step(u), float).reshape(-1)
        out[t] = u
    return out


def esn_exponents(y, dt, *, n_exponents, rng=0, reservoir=300, transient=300, n_steps=1500):
    """The ``n_exponents`` largest Lyapunov exponents of a trained ESN's closed loop.

    Returns ``None`` when reservoirpy is not installed, ``{"error": ...}`` when the
    closed loop diverges (non-finite, or the output leaves ± 10 std), else a dict with
    ``exponents`` (per unit time), the chosen ``sr``, ``lr``, ``ridge``, the held-out
    one-step error (``holdout_mse`` in standardised units, ``holdout_nmse`` relative to
    the target variance) and ``steps``.
    """
    if _reservoirpy() is None:
        return None
    y = np.asarray(y, float)
    z = (y - y.mean(axis=0)) / y.std(axis=0)
    z = z.reshape(len(z), -1)
    res, readout, info, r = _fit(z, int(reservoir), rng)
    M, c, Wout, b, lr = _closed_loop(res, readout)
    d = M.shape[0]
    k = min(d, int(n_exponents) + 2)
    Q = np.linalg.qr(np.random.default_rng(rng).standard_normal((d, k)))[0]
    logs = np.zeros(k)
    for t in range(transient + n_steps):
        a = M @ r + c
        th = np.tanh(a)
        # Jacobian at r applied to Q, then step the orbit
        JQ = (1 - lr) * Q + (lr * (1 - th ** 2))[:, None] * (M @ Q)
        r = (1 - lr) * r + lr * th
        u = r @ Wout + b
        if not (np.all(np.isfinite(u)) and np.all(np.abs(u) <= BOUND)):
            return {"error": "closed loop diverged", **info}
        Q, R = np.linalg.qr(JQ)
        if t >= transient:
            logs += np.log(np.abs(np.diag(R)))
    lam = np.sort(logs / n_steps)[::-1] / (dt if dt else 1.0)
    return {"exponents": lam[:int(n_exponents)].tolist(), **info,
            "steps": n_steps, "transient": transient}
