"""The benchmark's peers: the same four objectives on the same MLP in JAX and PyTorch.

Both peers take the weights of a :class:`jdyn.MLP` (dense layers, one hidden
activation, identity output) and the same data, and compute in float64

* ``data``: ``½ Σ_b ‖f(x_b) − t_b‖²``;
* ``vjp``:  ``½ Σ_b ‖u_bᵀ J_b − a_b‖²`` (Eq. 1);
* ``jvp``:  ``½ Σ_b ‖J_b v_b − b_b‖²`` (Eq. 2);
* ``frob``: ``½ Σ_b ‖J_b‖_F²`` exact, over the min(n, m) unit directions,

each with its weight gradient.

JAX (jit, forward-over-reverse)
    The J-prop identities in JAX's own vocabulary: ``Jᵀu`` by ``jax.grad`` of
    ``Ẽ = Σ u·f`` in the input, ``Jv`` by ``jax.jvp``, and the weight gradient as
    ``jax.jvp`` (input direction ``v``) of ``jax.grad`` (weights) of ``Ẽ``, i.e.
    ``R_v{∂Ẽ/∂w}``; the Frobenius objective ``jax.vmap``-s Eq. 1 (or Eq. 2) over the unit
    directions and sums. Everything, including flattening the gradient into jdyn's
    parameter layout, is inside one ``jax.jit``. ``variant="rev-rev"`` instead takes
    ``jax.grad`` of the objective written with ``jax.grad``/``jax.jvp`` (reverse over
    reverse), for comparison.
PyTorch (eager, double backward)
    ``Jᵀu`` by ``torch.autograd.grad(..., create_graph=True)``; ``Jv`` by the
    double-backward trick (``Jv = ∂(Jᵀw · v)/∂w`` with a dummy ``w``); then an ordinary
    backward of the objective to the weights. The Frobenius objective loops over the
    min(n, m) directions (a Python loop of m backward calls with a shared forward was
    the fastest eager variant measured: 1.7× faster than ``is_grads_batched`` and 2.5×
    faster than stacking the directions into one m·B-row forward).

Threads: PyTorch is held to one thread by ``torch.set_num_threads(1)``; XLA ignores
the BLAS variables and sizes its pool from the process's CPU affinity, which
``jdyn bench`` pins to one CPU before JAX starts (:func:`jdyn.bench._timing.pin_to_one_cpu`).
"""

from __future__ import annotations

import numpy as np

from ..layers import Dense

__all__ = ["PEERS", "available", "mlp_spec", "build"]

#: Peer name → human-readable label.
PEERS = {"jax": "JAX-jit", "torch": "PyTorch"}

OBJECTIVES = ("data", "vjp", "jvp", "frob")


def available() -> dict:
    """Peer name → ``(True, version)`` if it imports, else ``(False, reason)``."""
    out = {}
    try:
        import jax
        out["jax"] = (True, jax.__version__)
    except Exception as exc:  # pragma: no cover - depends on the environment
        out["jax"] = (False, f"{type(exc).__name__}: {exc}")
    try:
        import torch
        out["torch"] = (True, torch.__version__)
    except Exception as exc:  # pragma: no cover - depends on the environment
        out["torch"] = (False, f"{type(exc).__name__}: {exc}")
    return out


def mlp_spec(model):
    """``(weights, activation)`` of a jdyn MLP: weights a list of ``(W, b)`` copies.

    Refuses models the peers do not implement (anything but dense layers with one
    hidden activation and an identity output).
    """
    acts = ("tanh", "sigmoid", "softplus", "identity", "linear")
    act = getattr(model, "activation", None)
    if act not in acts or getattr(model, "output_activation", "identity") not in ("identity", "linear"):
        raise ValueError(f"peers implement MLPs with activation in {acts} and a linear "
                         f"output; got {model!r}")
    weights = []
    for l, layer in enumerate(model.layers):
        if isinstance(layer, Dense):
            p = model.layer_params(l)
            k = layer.n_out * layer.n_in
            weights.append((p[:k].reshape(layer.n_out, layer.n_in).copy(), p[k:].copy()))
    return weights, act


def build(name, model, data, *, variant="fwd-rev"):
    """A peer's objectives on ``model``'s weights and ``data``.

    ``data`` holds ``X, T, U, A, V, Bt`` as numpy arrays (per-sample vectors).
    Returns ``{"label", "version", "timed": {obj: callable}, "result": {obj: callable}}``:
    ``timed[obj]()`` computes the value and gradient in the peer's natural form
    (what is timed); ``result[obj]()`` returns ``(value, flat gradient as numpy in
    jdyn's layout)`` for the correctness check.
    """
    weights, act = mlp_spec(model)
    if name == "jax":
        return _build_jax(weights, act, data, model.n_in, model.n_out, variant)
    if name == "torch":
        return _build_torch(weights, act, data, model.n_in, model.n_out)
    raise ValueError(f"peer must be one of {sorted(PEERS)}; got {name!r}")


# --------------------------------------------------------------------------- JAX
def _build_jax(weights, act, data, n_in, n_out, variant):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    if variant not in ("fwd-rev", "rev-rev"):
        raise ValueError(f"variant must be 'fwd-rev' or 'rev-rev'; got {variant!r}")
    g = {"tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid, "softplus": jax.nn.softplus,
         "identity": lambda z: z, "linear": lambda z: z}[act]
    L = len(weights)

    def f(P, X):
        z = X
        for i, (W, b) in enumerate(P):
            z = z @ W.T + b
            if i < L - 1:
                z = g(z)
        return z

    def flat(G):
        return jnp.concatenate([jnp.concatenate([gW.ravel(), gb]) for gW, gb in G])

    def data_loss(P, X, T):
        def E(P):
            r = f(P, X) - T
            return 0.5 * jnp.vdot(r, r)
        val, G = jax.value_and_grad(E)(P)
        return val, flat(G)

    # ---- forward over reverse: the J-prop identities with JAX's transforms
    def eq1_fr(P, X, U, A):
        def aux(P, X):                                   # Ẽ = Σ_b u_b·f(x_b)
            return jnp.vdot(U, f(P, X))
        Vd = jax.grad(aux, argnums=1)(P, X)              # Jᵀu
        if A is not None:
            Vd = Vd - A
        _, G = jax.jvp(lambda X: jax.grad(aux)(P, X), (X,), (Vd,))   # R_v{∂Ẽ/∂w}
        return 0.5 * jnp.vdot(Vd, Vd), G

    def eq2_fr(P, X, V, Bt):
        Ud = jax.jvp(lambda X: f(P, X), (X,), (V,))[1]  # J v
        if Bt is not None:
            Ud = Ud - Bt
        def aux(P, X):
            return jnp.vdot(Ud, f(P, X))
        _, G = jax.jvp(lambda X: jax.grad(aux)(P, X), (X,), (V,))
        return 0.5 * jnp.vdot(Ud, Ud), G

    # ---- reverse over reverse: grad of the objective, for comparison
    def eq1_rr(P, X, U, A):
        def E(P):
            Vd = jax.grad(lambda X: jnp.vdot(U, f(P, X)))(X)
            if A is not None:
                Vd = Vd - A
            return 0.5 * jnp.vdot(Vd, Vd)
        return jax.value_and_grad(E)(P)

    def eq2_rr(P, X, V, Bt):
        def E(P):
            Ud = jax.jvp(lambda X: f(P, X), (X,), (V,))[1]
            if Bt is not None:
                Ud = Ud - Bt
            return 0.5 * jnp.vdot(Ud, Ud)
        return jax.value_and_grad(E)(P)

    eq1, eq2 = (eq1_fr, eq2_fr) if variant == "fwd-rev" else (eq1_rr, eq2_rr)

    def vjp_loss(P, X, U, A):
        val, G = eq1(P, X, U, A)
        return val, flat(G)

    def jvp_loss(P, X, V, Bt):
        val, G = eq2(P, X, V, Bt)
        return val, flat(G)

    B = data["X"].shape[0]
    k = min(n_in, n_out)
    seeds = jnp.asarray(np.broadcast_to(np.eye(k)[:, None, :], (k, B, k)))

    def frob_loss(P, X, S):
        if n_out <= n_in:
            vals, G = jax.vmap(lambda U: eq1(P, X, U, None))(S)
        else:
            vals, G = jax.vmap(lambda V: eq2(P, X, V, None))(S)
        G = jax.tree_util.tree_map(lambda t: t.sum(axis=0), G)
        return vals.sum(), flat(G)

    P = [(jnp.asarray(W), jnp.asarray(b)) for W, b in weights]
    d = {key: jnp.asarray(val) for key, val in data.items()}
    jitted = {"data": (jax.jit(data_loss), (P, d["X"], d["T"])),
              "vjp": (jax.jit(vjp_loss), (P, d["X"], d["U"], d["A"])),
              "jvp": (jax.jit(jvp_loss), (P, d["X"], d["V"], d["Bt"])),
              "frob": (jax.jit(frob_loss), (P, d["X"], seeds))}

    def timed(fn, args):
        return lambda: jax.block_until_ready(fn(*args))

    def result(fn, args):
        def run():
            val, grad = fn(*args)
            return float(val), np.asarray(grad, dtype=np.float64)
        return run

    return {"label": PEERS["jax"] + ("" if variant == "fwd-rev" else f" ({variant})"),
            "version": jax.__version__, "variant": variant,
            "timed": {k_: timed(*v) for k_, v in jitted.items()},
            "result": {k_: result(*v) for k_, v in jitted.items()}}


# ----------------------------------------------------------------------- PyTorch
def _build_torch(weights, act, data, n_in, n_out):
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:   # only settable once, before any inter-op work
        pass
    g = {"tanh": torch.tanh, "sigmoid": torch.sigmoid,
         "softplus": torch.nn.functional.softplus,
         "identity": lambda z: z, "linear": lambda z: z}[act]
    params = []
    for W, b in weights:
        params += [torch.tensor(W, dtype=torch.float64, requires_grad=True),
                   torch.tensor(b, dtype=torch.float64, requires_grad=True)]
    L = len(weights)
    d = {key: torch.from_numpy(np.ascontiguousarray(val, dtype=np.float64))
         for key, val in data.items()}
    X = d["X"]
    grad = torch.autograd.grad

    def wgrad(E):                       # the output bias does not reach J: zeros for it
        return grad(E, params, allow_unused=True, materialize_grads=True)

    def f(X):
        z = X
        for i in range(L):
            z = torch.addmm(params[2 * i + 1], z, params[2 * i].T)
            if i < L - 1:
                z = g(z)
        return z

    def data_loss():
        r = f(X) - d["T"]
        E = 0.5 * (r * r).sum()
        return E, wgrad(E)

    def _jtu(Xg, Y, U):                 # Jᵀu, differentiable
        return grad(Y, Xg, grad_outputs=U, create_graph=True)[0]

    def _jv(Xg, Y, V):                  # J v by double backward
        w = torch.zeros_like(Y, requires_grad=True)
        gx = grad(Y, Xg, grad_outputs=w, create_graph=True)[0]
        return grad(gx, w, grad_outputs=V, create_graph=True)[0]

    def vjp_loss():
        Xg = X.detach().requires_grad_(True)
        Vd = _jtu(Xg, f(Xg), d["U"]) - d["A"]
        E = 0.5 * (Vd * Vd).sum()
        return E, wgrad(E)

    def jvp_loss():
        Xg = X.detach().requires_grad_(True)
        Ud = _jv(Xg, f(Xg), d["V"]) - d["Bt"]
        E = 0.5 * (Ud * Ud).sum()
        return E, wgrad(E)

    eye = torch.eye(max(n_in, n_out), dtype=torch.float64)

    def frob_loss():
        Xg = X.detach().requires_grad_(True)
        Y = f(Xg)
        E = 0.0
        if n_out <= n_in:
            for i in range(n_out):
                r = grad(Y[:, i].sum(), Xg, create_graph=True)[0]
                E = E + 0.5 * (r * r).sum()
        else:
            for j in range(n_in):
                c = _jv(Xg, Y, eye[j, :n_in].expand_as(Xg))
                E = E + 0.5 * (c * c).sum()
        return E, wgrad(E)

    fns = {"data": data_loss, "vjp": vjp_loss, "jvp": jvp_loss, "frob": frob_loss}

    def result(fn):
        def run():
            E, G = fn()
            flat = torch.cat([t.reshape(-1) for t in G])
            return float(E.detach()), flat.detach().numpy().astype(np.float64)
        return run

    return {"label": PEERS["torch"], "version": torch.__version__, "variant": "eager",
            "timed": dict(fns), "result": {k: result(fn) for k, fn in fns.items()}}
