"""Finite-difference checks of derivatives: library code, so new layers can be tested.

Central differences with one Richardson step (error O(h⁴)) in float64 reach relative
errors around 1e-9 on smooth functions, so a tolerance of 1e-6 separates a right
formula from a wrong one by orders of magnitude.

Example: checking a new layer
-----------------------------
>>> import numpy as np, jdyn
>>> from jdyn.layers import Tanh
>>> errors = jdyn.check_layer(Tanh(3), rng=0)
>>> max(errors.values()) < 1e-6
True
"""

from __future__ import annotations

import numpy as np

from ._validation import as_rng, check_int

__all__ = ["numerical_gradient", "numerical_derivative", "relative_error", "check_layer",
           "assert_layer"]


def numerical_derivative(f, h=1e-3):
    """``d/dr f(r)`` at ``r = 0`` for an array-valued ``f``, by Richardson-extrapolated
    central differences: ``(4 D(h/2) − D(h)) / 3``."""
    def central(step):
        return (np.asarray(f(step)) - np.asarray(f(-step))) / (2.0 * step)
    return (4.0 * central(h / 2) - central(h)) / 3.0


def numerical_gradient(f, x, h=1e-3):
    """Gradient of a scalar ``f`` at ``x`` (any shape), one coordinate at a time."""
    x = np.asarray(x, dtype=float)
    grad = np.empty(x.size)
    flat = x.ravel()
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        grad[i] = numerical_derivative(lambda r: f((flat + r * e).reshape(x.shape)), h)
    return grad.reshape(x.shape)


def relative_error(a, b) -> float:
    """``‖a − b‖ / max(‖a‖, ‖b‖)``, and 0 when both vanish."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def check_layer(layer, batch_size=4, n_directions=2, rng=None, h=1e-3, scale=1.0):
    """Check a layer's four passes against finite differences of its forward pass.

    Parameters
    ----------
    layer : jdyn.layers.Layer
    batch_size : int
        Samples in the random batch.
    n_directions : int
        Size K of the direction axis used to check broadcasting: every adjoint and
        R-value pass is run with shape (K, B, ·) and compared with K separate runs.
    rng : seed or Generator
        Random inputs ``x ~ scale·N(0, 1)``, parameters from ``init_params`` plus a
        perturbation, random seeds ``ȳ, R{x}, R{ȳ}``.
    h : float
        Finite-difference step.

    Returns
    -------
    dict
        Relative error of each pass: ``backward_input``, ``backward_params``,
        ``rforward``, ``rbackward_input``, ``rbackward_params``,
        ``rbackward_zero_seed`` and ``direction_axis``.
    """
    gen = as_rng(rng)
    B = check_int(batch_size, "batch_size", minimum=1)
    K = check_int(n_directions, "n_directions", minimum=1)
    p = np.asarray(layer.init_params(gen), dtype=float)
    p = p + 0.1 * gen.standard_normal(p.shape)
    x = scale * gen.standard_normal((B, layer.n_in))
    ybar = gen.standard_normal((B, layer.n_out))
    rx = gen.standard_normal((B, layer.n_in))
    rybar = gen.standard_normal((B, layer.n_out))

    def fwd(pp, xx):
        return layer.forward(pp, xx)[0]

    def passes(pp, xx, yb, rxx, ryb):
        y, cache = layer.forward(pp, xx)
        xb, pb = layer.backward(pp, cache, yb)
        ry, rcache = layer.rforward(pp, cache, rxx)
        rxb, rpb = layer.rbackward(pp, cache, rcache, yb, ryb)
        return xb, pb, ry, rxb, rpb

    xb, pb, ry, rxb, rpb = passes(p, x, ybar, rx, rybar)
    errors = {
        "backward_input": relative_error(
            xb, numerical_gradient(lambda xx: np.vdot(ybar, fwd(p, xx)), x, h)),
        "backward_params": relative_error(
            pb, numerical_gradient(lambda pp: np.vdot(ybar, fwd(pp, x)), p, h))
        if p.size else 0.0,
        "rforward": relative_error(ry, numerical_derivative(lambda r: fwd(p, x + r * rx), h)),
    }

    def backward_along(r):
        y, cache = layer.forward(p, x + r * rx)
        xb_r, pb_r = layer.backward(p, cache, ybar + r * rybar)
        return np.concatenate([xb_r.ravel(), pb_r.ravel()])

    d = numerical_derivative(backward_along, h)
    errors["rbackward_input"] = relative_error(rxb, d[:xb.size].reshape(xb.shape))
    errors["rbackward_params"] = relative_error(rpb, d[xb.size:]) if p.size else 0.0

    # A None seed must mean R{ȳ} = 0.
    _, cache = layer.forward(p, x)
    layer.backward(p, cache, ybar)
    _, rcache = layer.rforward(p, cache, rx)
    rxb0, rpb0 = layer.rbackward(p, cache, rcache, ybar, None)
    _, _, _, rxb_z, rpb_z = passes(p, x, ybar, rx, np.zeros_like(rybar))
    errors["rbackward_zero_seed"] = max(
        relative_error(0.0 if rxb0 is None else rxb0, rxb_z), relative_error(rpb0, rpb_z))

    errors["direction_axis"] = _check_direction_axis(layer, p, x, K, gen)
    return errors


def _check_direction_axis(layer, p, x, K, gen):
    """Passes with a (K, B, ·) direction axis equal K separate runs (summed for p̄)."""
    B = x.shape[0]
    ybar = gen.standard_normal((K, B, layer.n_out))
    rx = gen.standard_normal((K, B, layer.n_in))
    rybar = gen.standard_normal((K, B, layer.n_out))
    _, cache = layer.forward(p, x)
    xb, pb = layer.backward(p, cache, ybar)
    ry, rcache = layer.rforward(p, cache, rx)
    rxb, rpb = layer.rbackward(p, cache, rcache, ybar, rybar)
    worst = 0.0
    sums = [np.zeros_like(pb), np.zeros_like(rpb)]
    for k in range(K):
        _, c = layer.forward(p, x)
        xb_k, pb_k = layer.backward(p, c, ybar[k])
        ry_k, rc = layer.rforward(p, c, rx[k])
        rxb_k, rpb_k = layer.rbackward(p, c, rc, ybar[k], rybar[k])
        sums[0] += pb_k
        sums[1] += rpb_k
        worst = max(worst, relative_error(xb[k], xb_k), relative_error(ry[k], ry_k),
                    relative_error(rxb[k], rxb_k))
    return max(worst, relative_error(pb, sums[0]), relative_error(rpb, sums[1]))


def assert_layer(layer, tol=1e-6, **kwargs):
    """Raise ``AssertionError`` naming the failing passes if any error exceeds ``tol``."""
    errors = check_layer(layer, **kwargs)
    bad = {k: v for k, v in errors.items() if not v <= tol}
    if bad:
        raise AssertionError(f"{type(layer).__name__}: passes off by more than {tol}: {bad}")
    return errors
