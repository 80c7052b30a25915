"""J-prop: exact weight gradients of functions of a model's input–output Jacobian.

Flake & Pearlmutter (NIPS 1999). With the auxiliary error ``Ẽ = uᵀ f(x; w)`` and the
input-space R-operator ``R_v{·} = d/dr ·(x + r v)|₀``,

* ``∂/∂w ½‖uᵀJ − aᵀ‖² = R_v{∂Ẽ/∂w}`` with ``v = Jᵀu − a`` held fixed (Eq. 1),
* ``∂/∂w ½‖J v − b‖² = R_v{∂Ẽ/∂w}`` with ``u = J v − b`` held fixed (Eq. 2),

each costing one forward, backward, R-forward and R-backward pass. Everything here
is written against :class:`jdyn.models.Sequential`'s pass runners only, so any
composition of layers gets it. Every function returns ``(value, gradient)`` with the
gradient of shape ``(n_params,)``; values are sums over the batch (not means).

Vectors ``u, a, v, b`` are either one vector shared by all samples or one per sample.

A small tanh MLP with the compiled fast path installed (:mod:`jdyn._fast`) runs
``data_loss``, ``vjp_loss``, ``jvp_loss`` and ``frobenius_loss`` as one compiled call
each (:mod:`jdyn.models._compiled`); the results agree with the passes here to rounding.

Each function runs its passes in a model workspace (:meth:`Sequential.workspace`): at
all but small batches, layers that opt in reuse their arrays from call to call. Nothing
from the workspace leaves these functions: they return a Python float and a freshly
allocated gradient.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_batch, as_float_array, as_per_sample, as_rng, check_int
from .models._compiled import compiled_layout
from .models.sequential import unit_seeds

__all__ = ["data_loss", "vjp_loss", "jvp_loss", "frobenius_loss", "double_backprop_loss",
           "bilinear_jacobian"]


def data_loss(model, X, T):
    """``½ Σ_b ‖f(x_b) − t_b‖²`` and its weight gradient (the baseline cost).

    X : (B, n_in); T : (B, n_out).
    """
    X = as_batch(X, "X", model.n_in)
    T = as_per_sample(T, "T", X.shape[0], model.n_out)
    compiled = _compiled(model, 0, X, _NONE, T[None])
    if compiled is not None:
        return compiled
    with model.workspace(X) as ws:
        Y, tape = model.forward(X, ws)
        r = Y - T
        _, grad = model.backward(tape, r, need_input=False)
        return 0.5 * float(np.vdot(r, r)), grad


def vjp_loss(model, X, u, a):
    """Eq. 1: ``E_u = ½ Σ_b ‖u_bᵀ J_b − a_b‖²`` and its exact weight gradient.

    X : (B, n_in); u : (n_out,) or (B, n_out); a : (n_in,) or (B, n_in).
    """
    X = as_batch(X, "X", model.n_in)
    B = X.shape[0]
    U = as_per_sample(u, "u", B, model.n_out)
    A = as_per_sample(a, "a", B, model.n_in)
    compiled = _compiled(model, 1, X, U[None], A[None])
    if compiled is not None:
        return compiled
    with model.workspace(X) as ws:
        _, tape = model.forward(X, ws)
        return _vjp_quadratic(model, tape, U, A)


def jvp_loss(model, X, v, b):
    """Eq. 2: ``E_v = ½ Σ_b ‖J_b v_b − b_b‖²`` and its exact weight gradient.

    X : (B, n_in); v : (n_in,) or (B, n_in); b : (n_out,) or (B, n_out).
    """
    X = as_batch(X, "X", model.n_in)
    B = X.shape[0]
    V = as_per_sample(v, "v", B, model.n_in)
    Bt = as_per_sample(b, "b", B, model.n_out)
    compiled = _compiled(model, 2, X, V[None], Bt[None])
    if compiled is not None:
        return compiled
    with model.workspace(X) as ws:
        _, tape = model.forward(X, ws)
        return _jvp_quadratic(model, tape, V, Bt)


def frobenius_loss(model, X, n_probes=None, rng=None):
    """``½ Σ_b ‖J_b‖_F²`` and its weight gradient.

    Exact by default: the min(n_in, n_out) unit directions run as one batched pass
    (reverse mode over output directions when n_out ≤ n_in, forward mode over input
    directions otherwise). With ``n_probes = K`` it returns instead the unbiased
    random-projection estimate ``½ Σ_b (1/K) Σ_k ‖z_kᵀ J_b‖²`` (or ``‖J_b z_k‖²``)
    with Rademacher probes ``z_k`` drawn from ``rng`` in the smaller of the two
    spaces; both the value and the gradient are unbiased.

    X : (B, n_in).
    """
    X = as_batch(X, "X", model.n_in)
    B = X.shape[0]
    reverse = model.n_out <= model.n_in
    k = model.n_out if reverse else model.n_in
    if n_probes is None:
        seeds = unit_seeds(k, B)
    else:
        K = check_int(n_probes, "n_probes", minimum=1)
        signs = as_rng(rng).integers(0, 2, size=(K, B, k)) * 2.0 - 1.0
        seeds = signs / np.sqrt(K)
    compiled = _compiled(model, 1 if reverse else 2, X, seeds, _NONE)
    if compiled is not None:
        return compiled
    with model.workspace(X) as ws:
        _, tape = model.forward(X, ws)
        if reverse:
            return _vjp_quadratic(model, tape, seeds, None)
        return _jvp_quadratic(model, tape, seeds, None)


def double_backprop_loss(model, X, T):
    """Double backpropagation (Drucker & LeCun 1992): ``½ Σ_b ‖∂E_data/∂x_b‖²``.

    ``∂E_data/∂x = Jᵀ r`` with the residual ``r = f(x) − t``, which depends on the
    weights: besides Eq. 1's term, the exact gradient has ``(∂f/∂w)ᵀ (J v)``, which
    the same passes give when the R-backward pass is seeded with ``R{r} = J v``.

    X : (B, n_in); T : (B, n_out).
    """
    X = as_batch(X, "X", model.n_in)
    T = as_per_sample(T, "T", X.shape[0], model.n_out)
    with model.workspace(X) as ws:
        Y, tape = model.forward(X, ws)
        V, _ = model.backward(tape, Y - T, need_params=False)
        JV = model.rforward(tape, V)
        _, grad = model.rbackward(tape, JV)
        return 0.5 * float(np.vdot(V, V)), grad


def bilinear_jacobian(model, X, u, v):
    """``Σ_b u_bᵀ J_b v_b`` and its weight gradient, with ``u`` and ``v`` held fixed.

    The building block of envelope-theorem gradients: ``σ_max(J) = u₁ᵀ J v₁`` with
    the singular vectors fixed, ``log|det J| = Σ_j (J⁻ᵀ e_j)ᵀ J e_j``. ``u`` and ``v``
    may carry a leading direction axis, ``(K, B, n_out)`` and ``(K, B, n_in)``,
    summed over.

    X : (B, n_in); u : (n_out,), (B, n_out) or (K, B, n_out); v likewise with n_in.
    """
    X = as_batch(X, "X", model.n_in)
    B = X.shape[0]
    U = _seeds(u, "u", B, model.n_out)
    V = _seeds(v, "v", B, model.n_in)
    if U.ndim != V.ndim:
        raise ValueError(f"u and v must both have a direction axis or neither; "
                         f"got shapes {U.shape} and {V.shape}")
    if U.shape[:-2] != V.shape[:-2]:
        raise ValueError(f"u and v have direction axes of different lengths; got shapes "
                         f"{U.shape} and {V.shape}")
    with model.workspace(X) as ws:
        _, tape = model.forward(X, ws)
        model.backward(tape, U, need_input=False, need_params=False)
        JV = model.rforward(tape, V)
        _, grad = model.rbackward(tape)
        return float(np.vdot(U, JV)), grad


# --------------------------------------------------------------------------- cores
_NONE = np.empty((0, 1, 1))   # "no targets" for the compiled kernel


def _compiled(model, mode, X, S, T):
    """``(value, gradient)`` from the compiled kernel when it takes this model, else None.

    ``mode``: 0 data (``T`` the targets), 1 Eq. 1 (``S`` = u, ``T`` = a), 2 Eq. 2 (``S`` = v,
    ``T`` = b); ``S`` and ``T`` as (K, B, ·) direction stacks.
    """
    layout = compiled_layout(model)
    if layout is None:
        return None
    kernels, p, wo, bo, sizes = layout
    grad = np.zeros(model.n_params)
    c = np.ascontiguousarray
    value = kernels.objective(mode, p, wo, bo, sizes, c(X), c(S), c(T), grad)
    return float(value), grad


def _vjp_quadratic(model, tape, U, A):
    """Eq. 1 on a forwarded tape; ``U`` (…, B, m), ``A`` like ``Jᵀu`` or None (zero)."""
    G, _ = model.backward(tape, U, need_params=False)
    Vdir = G if A is None else G - A
    model.rforward(tape, Vdir)
    _, grad = model.rbackward(tape)
    return 0.5 * float(np.vdot(Vdir, Vdir)), grad


def _jvp_quadratic(model, tape, V, Bt):
    """Eq. 2 on a forwarded tape; ``V`` (…, B, n), ``Bt`` like ``J v`` or None (zero)."""
    JV = model.rforward(tape, V)
    Udir = JV if Bt is None else JV - Bt
    model.backward(tape, Udir, need_input=False, need_params=False)
    _, grad = model.rbackward(tape)
    return 0.5 * float(np.vdot(Udir, Udir)), grad


def _seeds(value, name, B, d):
    """Per-sample vectors (d,) / (B, d), or a direction axis (K, B, d)."""
    arr = as_float_array(value, name)
    if arr.ndim == 3:
        if arr.shape[1:] != (B, d):
            raise ValueError(f"{name} has shape {arr.shape}; expected (K, {B}, {d})")
        return arr
    return as_per_sample(arr, name, B, d)
