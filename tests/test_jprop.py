"""J-prop objectives (``jdyn.jprop``) against independent references.

For every model type and hypothesis-drawn shapes (m = 1 and m > 1, n < m and n ≥ m,
batches 1..6, hidden widths 1..8), u/a/v/b/T shared (1-D) and per sample (2-D):

1. the value equals the objective computed independently from ``model.jacobian(X)``
   (relative error ≤ 1e-10);
2. the gradient equals the Richardson central-difference gradient of that independent
   objective (relative error ≤ 1e-6);
3. the gradient equals an independent exact route (≤ 1e-10): per-sample calls summed,
   the J-prop identities through ``bilinear_jacobian``, unit-vector sums for the
   Frobenius norm, polarisation for the bilinear form, ...

Plus: the random-probe Frobenius estimate is unbiased and reproducible, hand-written
references for tiny MLPs, wrong gradients are rejected by the same tolerances, and bad
input raises ``ValueError`` naming the argument and the shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from scipy.special import expit

from jdyn import jprop
from jdyn.gradcheck import numerical_derivative, numerical_gradient, relative_error
from jdyn.layers import RBF, Dense, PolynomialFeatures, Sigmoid, SigmaPi, Softplus, Tanh
from jdyn.models import (MLP, HigherOrderNetwork, PolynomialRegression, RBFNetwork,
                         Sequential)

FD_TOL = 1e-6       # exact gradient vs Richardson central differences (issue 2)
EXACT_TOL = 1e-10   # between exact routes, and values vs the Jacobian
PERTURB = 0.3       # parameters = init + PERTURB · N(0, 1): nonzero biases, generic weights


# ----------------------------------------------------------------------- models
def _mlp(activation):
    def build(n_in, n_out, hidden, rng):
        return MLP([n_in, *hidden, n_out], activation=activation, rng=rng)
    return build


# RBF widths: with centres and inputs ~ N(0, I_n), ‖x − c‖² ≈ 2n, so σ = sqrt(n) keeps
# the units active. With σ = 1 a sample can sit where every unit is ~1e-10 of the
# output, and central differences (absolute error ~ eps·|f|/h) cannot resolve J.
def _rbf(n_in, n_out, hidden, rng):
    return RBFNetwork(n_in, hidden[0], n_out, rng=rng, width=np.sqrt(n_in))


def _higher_order(n_in, n_out, hidden, rng):
    # one hidden sigma-pi stage of width ≤ 4, tanh between: a width-8 quadratic stage
    # has 36 pair weights per unit, which would make the FD checks slow
    return HigherOrderNetwork([n_in, min(hidden[0], 4), n_out], activation="tanh", rng=rng)


def _polynomial(n_in, n_out, hidden, rng):
    return PolynomialRegression(n_in, n_out, degree=1 + hidden[0] % 3, rng=rng)


def _mixed(n_in, n_out, hidden, rng):
    """A user composition of every layer type, with a nonlinear output."""
    h = hidden[0]
    layers = [Dense(n_in, h), Tanh(h), RBF(h, 2, width=np.sqrt(h)),
              PolynomialFeatures(2, 2), SigmaPi(5, 2), Softplus(2), Dense(2, n_out),
              Sigmoid(n_out)]
    return Sequential(layers, rng=rng)


BUILDERS = {
    "mlp-tanh": _mlp("tanh"),
    "mlp-sigmoid": _mlp("sigmoid"),
    "mlp-softplus": _mlp("softplus"),
    "rbf": _rbf,
    "higher-order": _higher_order,
    "polynomial": _polynomial,
    "sequential-mixed": _mixed,
}
KINDS = tuple(BUILDERS)


# Inputs are INPUT_SCALE[kind] · N(0, 1). A sigma-pi stage is quadratic in its
# inputs: at unit scale a lone hidden tanh unit can reach |a| ≈ 11, where tanh' =
# 1 − y² ≈ 1e-9 carries only ~7 significant digits and J ≈ 1e-10: the objective is
# then too flat for a 1e-6 relative check against central differences.
INPUT_SCALE = {"higher-order": 0.5}


def make_inputs(kind, rng, shape):
    return INPUT_SCALE.get(kind, 1.0) * rng.standard_normal(shape)


def make_model(kind, n_in, n_out, hidden, rng):
    model = BUILDERS[kind](n_in, n_out, tuple(hidden), rng)
    assert (model.n_in, model.n_out) == (n_in, n_out)
    model.params = model.params + PERTURB * rng.standard_normal(model.n_params)
    return model


# ----------------------------------------------------------------- drawn problems
REGIMES = ("m=1", "n<m", "n>=m>1")
LAYOUTS = ("shared", "per-sample")


@dataclass
class Problem:
    kind: str
    n_in: int
    n_out: int
    hidden: tuple
    batch: int
    seed: int
    model: object = field(init=False, repr=False)
    X: np.ndarray = field(init=False, repr=False)
    rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)
        self.model = make_model(self.kind, self.n_in, self.n_out, self.hidden, self.rng)
        self.X = make_inputs(self.kind, self.rng, (self.batch, self.n_in))

    def vec(self, d, shared):
        """One vector shared by all samples (d,) or one per sample (B, d)."""
        return self.rng.standard_normal(d if shared else (self.batch, d))


def draw_problem(data, kind, regime) -> Problem:
    if regime == "m=1":
        n_out = 1
        n_in = data.draw(st.integers(1, 5), label="n_in")
    elif regime == "n<m":
        n_in = data.draw(st.integers(1, 4), label="n_in")
        n_out = data.draw(st.integers(n_in + 1, 5), label="n_out")
    else:
        n_out = data.draw(st.integers(2, 5), label="n_out")
        n_in = data.draw(st.integers(n_out, 5), label="n_in")
    hidden = data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=2), label="hidden")
    batch = data.draw(st.integers(1, 6), label="batch")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    problem = Problem(kind, n_in, n_out, tuple(hidden), batch, seed)
    note(repr(problem))
    return problem


def draw_layout(data, layout):
    """Sharedness of the two vectors: both shared, or at least one per sample."""
    if layout == "shared":
        return True, True
    return data.draw(st.sampled_from([(False, False), (False, True), (True, False)]),
                     label="shared flags")


# ------------------------------------------------- independent objectives (from J)
def rows(x, B):
    x = np.asarray(x, dtype=float)
    return np.broadcast_to(x, (B, x.shape[-1]))


def ref_data(model, X, T):
    r = model(X) - rows(T, len(X))
    return 0.5 * np.sum(r * r)


def ref_vjp(model, X, u, a):
    B = len(X)
    r = np.einsum("bm,bmn->bn", rows(u, B), model.jacobian(X)) - rows(a, B)
    return 0.5 * np.sum(r * r)


def ref_jvp(model, X, v, b):
    B = len(X)
    r = np.einsum("bmn,bn->bm", model.jacobian(X), rows(v, B)) - rows(b, B)
    return 0.5 * np.sum(r * r)


def ref_frobenius(model, X):
    J = model.jacobian(X)
    return 0.5 * np.sum(J * J)


def ref_double_backprop(model, X, T):
    r = model(X) - rows(T, len(X))
    g = np.einsum("bm,bmn->bn", r, model.jacobian(X))
    return 0.5 * np.sum(g * g)


def ref_bilinear(model, X, u, v, absolute=False):
    B = len(X)
    U, J, V = rows(u, B), model.jacobian(X), rows(v, B)
    if absolute:  # the scale of the sum's terms, for a cancellation-proof tolerance
        U, J, V = np.abs(U), np.abs(J), np.abs(V)
    return np.einsum("bm,bmn,bn->", U, J, V)


def fd_grad(model, objective):
    """Central-difference gradient of ``objective()`` in the model's parameters."""
    w0 = model.params

    def f(w):
        model.params = w
        return objective()
    try:
        return numerical_gradient(f, w0)
    finally:
        model.params = w0


# ------------------------------------------------------------------- assertions
def assert_value(got, want, scale=None, tol=EXACT_TOL, what="value"):
    assert isinstance(got, float), f"{what} is {type(got).__name__}, not float"
    scale = abs(want) if scale is None else scale
    assert abs(got - want) <= tol * scale, (
        f"{what}: got {got!r}, want {want!r} (|diff| {abs(got - want):.3e} > "
        f"{tol:.0e} × {scale:.3e})")


def assert_grad(got, want, tol, what="gradient"):
    err = relative_error(got, want)
    assert err <= tol, f"{what}: relative error {err:.3e} > {tol:.0e}"


def checked_call(fn, model, X, *args, **kwargs):
    """Call ``fn`` and check the result's types, and that no input was modified."""
    before = [np.array(a, copy=True) for a in (X, *args)]
    params = model.params
    value, grad = fn(model, X, *args, **kwargs)
    for old, new in zip(before, (X, *args)):
        np.testing.assert_array_equal(old, new, err_msg=f"{fn.__name__} modified its input")
    np.testing.assert_array_equal(params, model.params)
    assert isinstance(value, float)
    assert isinstance(grad, np.ndarray) and grad.dtype == np.float64
    assert grad.shape == (model.n_params,)
    assert np.all(np.isfinite(grad))
    return value, grad


def sum_per_sample(fn, model, X, *vectors):
    """Σ_b fn(model, X[b:b+1], vector_b…): one call per sample, each vector 1-D."""
    B = len(X)
    parts = [fn(model, X[i:i + 1], *(rows(vec, B)[i] for vec in vectors)) for i in range(B)]
    return sum(v for v, _ in parts), sum(g for _, g in parts)


parametrize_models = pytest.mark.parametrize("kind", KINDS)
parametrize_regimes = pytest.mark.parametrize("regime", REGIMES)
parametrize_layouts = pytest.mark.parametrize("layout", LAYOUTS)


# ----------------------------------------------- the reference itself: jacobian
@parametrize_models
@parametrize_regimes
@given(data=st.data())
def test_jacobian_reference_matches_finite_differences(kind, regime, data):
    """The independent objectives below read ``model.jacobian``: check it first."""
    p = draw_problem(data, kind, regime)
    model, X = p.model, p.X
    J = model.jacobian(X)
    assert J.shape == (p.batch, p.n_out, p.n_in)
    J_fd = np.stack([numerical_derivative(lambda r, j=j: model(X + r * np.eye(p.n_in)[j]))
                     for j in range(p.n_in)], axis=-1)
    assert_grad(J, J_fd, FD_TOL, "jacobian vs central differences")
    U, V = p.vec(p.n_out, False), p.vec(p.n_in, False)
    assert_grad(model.jvp(X, V), np.einsum("bmn,bn->bm", J, V), EXACT_TOL, "jvp vs J v")
    assert_grad(model.vjp(X, U), np.einsum("bm,bmn->bn", U, J), EXACT_TOL, "vjp vs uᵀJ")


# --------------------------------------------------------------------- data_loss
@parametrize_models
@parametrize_regimes
@parametrize_layouts
@given(data=st.data())
def test_data_loss(kind, regime, layout, data):
    p = draw_problem(data, kind, regime)
    model, X = p.model, p.X
    T = p.vec(p.n_out, layout == "shared")
    value, grad = checked_call(jprop.data_loss, model, X, T)
    assert_value(value, ref_data(model, X, T))
    assert_grad(grad, fd_grad(model, lambda: ref_data(model, X, T)), FD_TOL, "vs FD")
    v_sum, g_sum = sum_per_sample(jprop.data_loss, model, X, T)
    assert_value(value, v_sum, what="sum of per-sample values")
    assert_grad(grad, g_sum, EXACT_TOL, "vs sum of per-sample gradients")


_HAND_ACTIVATIONS = {
    "tanh": (np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    "sigmoid": (expit, lambda a: expit(a) * (1.0 - expit(a))),
    "softplus": (lambda a: np.logaddexp(0.0, a), expit),
}


def hand_mlp_data_loss(sizes, activation, params, X, T):
    """Textbook backprop for an MLP with the documented parameter layout (W row-major, b)."""
    g, dg = _HAND_ACTIVATIONS[activation]
    Ws, bs, k = [], [], 0
    for n_i, n_o in zip(sizes, sizes[1:]):
        Ws.append(params[k:k + n_o * n_i].reshape(n_o, n_i))
        k += n_o * n_i
        bs.append(params[k:k + n_o])
        k += n_o
    assert k == params.size
    L = len(Ws)
    pre, post = [], [X]
    for l in range(L):
        a = post[-1] @ Ws[l].T + bs[l]
        pre.append(a)
        post.append(g(a) if l < L - 1 else a)
    r = post[-1] - T
    delta, grads = r, [None] * L
    for l in reversed(range(L)):
        grads[l] = np.concatenate([(delta.T @ post[l]).ravel(), delta.sum(axis=0)])
        if l:
            delta = (delta @ Ws[l]) * dg(pre[l - 1])
    return 0.5 * np.sum(r * r), np.concatenate(grads)


@pytest.mark.parametrize("activation", sorted(_HAND_ACTIVATIONS))
@pytest.mark.parametrize("sizes", [[1, 1], [1, 2, 1], [2, 3, 1], [3, 4, 2], [2, 3, 3, 2]])
def test_data_loss_matches_hand_written_backprop(sizes, activation):
    rng = np.random.default_rng(sum(sizes))
    model = MLP(sizes, activation=activation, rng=rng)
    model.params = rng.standard_normal(model.n_params)
    X = rng.standard_normal((5, sizes[0]))
    T = rng.standard_normal((5, sizes[-1]))
    value, grad = jprop.data_loss(model, X, T)
    want_value, want_grad = hand_mlp_data_loss(sizes, activation, model.params, X, T)
    assert_value(value, want_value)
    assert_grad(grad, want_grad, EXACT_TOL)


@pytest.mark.parametrize("seed", range(4))
def test_vjp_loss_matches_closed_form_derivative_targeting(seed):
    """The paper's experiment: f(x) = Σ_j w2_j tanh(w1_j x + b1_j) + b2, u = 1,
    E = ½ Σ_b (f'(x_b) − a_b)², differentiated by hand."""
    rng = np.random.default_rng(seed)
    model = MLP([1, 10, 1], activation="tanh", rng=rng)
    model.params = rng.standard_normal(model.n_params)
    x = rng.uniform(-1, 1, size=7)
    a = 4 * np.cos(4 * x) + 5 * np.cos(10 * x)
    w = model.params
    w1, b1, w2 = w[0:10], w[10:20], w[20:30]
    t = np.tanh(np.outer(x, w1) + b1)               # (B, 10)
    s = 1.0 - t * t                                 # tanh'
    fprime = (s * w1) @ w2                          # (B,)
    r = fprime - a
    ds = -2.0 * t * s                               # tanh''
    g_w1 = r @ (w2 * (s + w1 * ds * x[:, None]))
    g_b1 = r @ (w2 * w1 * ds)
    g_w2 = r @ (s * w1)
    want = np.concatenate([g_w1, g_b1, g_w2, [0.0]])
    value, grad = jprop.vjp_loss(model, x[:, None], np.ones(1), a[:, None])
    assert_value(value, 0.5 * np.sum(r * r))
    assert_grad(grad, want, EXACT_TOL)


# ---------------------------------------------------------------------- vjp_loss
@parametrize_models
@parametrize_regimes
@parametrize_layouts
@given(data=st.data())
def test_vjp_loss(kind, regime, layout, data):
    p = draw_problem(data, kind, regime)
    model, X, B = p.model, p.X, p.batch
    shared_u, shared_a = draw_layout(data, layout)
    u, a = p.vec(p.n_out, shared_u), p.vec(p.n_in, shared_a)
    value, grad = checked_call(jprop.vjp_loss, model, X, u, a)
    # (1) value from the full Jacobian
    assert_value(value, ref_vjp(model, X, u, a))
    # (2) central differences of the independent objective
    assert_grad(grad, fd_grad(model, lambda: ref_vjp(model, X, u, a)), FD_TOL, "vs FD")
    # (3a) one call per sample, summed
    v_sum, g_sum = sum_per_sample(jprop.vjp_loss, model, X, u, a)
    assert_value(value, v_sum, what="sum of per-sample values")
    assert_grad(grad, g_sum, EXACT_TOL, "vs sum of per-sample gradients")
    # (3b) shared vectors passed explicitly per sample give the same
    _, g_tiled = jprop.vjp_loss(model, X, np.tile(rows(u, B), 1), np.tile(rows(a, B), 1))
    assert_grad(grad, g_tiled, EXACT_TOL, "vs explicitly per-sample u, a")
    # (3c) the J-prop identity: ∂E_u/∂w = ∂(Σ uᵀ J v)/∂w with v = Jᵀu − a held fixed
    U = rows(u, B)
    Vdir = np.einsum("bm,bmn->bn", U, model.jacobian(X)) - rows(a, B)
    _, g_bil = jprop.bilinear_jacobian(model, X, U, Vdir)
    assert_grad(grad, g_bil, EXACT_TOL, "vs bilinear_jacobian with v = Jᵀu − a fixed")


# ---------------------------------------------------------------------- jvp_loss
@parametrize_models
@parametrize_regimes
@parametrize_layouts
@given(data=st.data())
def test_jvp_loss(kind, regime, layout, data):
    p = draw_problem(data, kind, regime)
    model, X, B = p.model, p.X, p.batch
    shared_v, shared_b = draw_layout(data, layout)
    v, b = p.vec(p.n_in, shared_v), p.vec(p.n_out, shared_b)
    value, grad = checked_call(jprop.jvp_loss, model, X, v, b)
    assert_value(value, ref_jvp(model, X, v, b))
    assert_grad(grad, fd_grad(model, lambda: ref_jvp(model, X, v, b)), FD_TOL, "vs FD")
    v_sum, g_sum = sum_per_sample(jprop.jvp_loss, model, X, v, b)
    assert_value(value, v_sum, what="sum of per-sample values")
    assert_grad(grad, g_sum, EXACT_TOL, "vs sum of per-sample gradients")
    # the J-prop identity: ∂E_v/∂w = ∂(Σ uᵀ J v)/∂w with u = J v − b held fixed
    V = rows(v, B)
    Udir = np.einsum("bmn,bn->bm", model.jacobian(X), V) - rows(b, B)
    _, g_bil = jprop.bilinear_jacobian(model, X, Udir, V)
    assert_grad(grad, g_bil, EXACT_TOL, "vs bilinear_jacobian with u = Jv − b fixed")


# ------------------------------------------------------------ frobenius (exact)
@parametrize_models
@parametrize_regimes
@given(data=st.data())
def test_frobenius_loss_exact(kind, regime, data):
    p = draw_problem(data, kind, regime)
    model, X, B = p.model, p.X, p.batch
    m, n = p.n_out, p.n_in
    value, grad = checked_call(jprop.frobenius_loss, model, X)
    assert_value(value, ref_frobenius(model, X))
    assert_grad(grad, fd_grad(model, lambda: ref_frobenius(model, X)), FD_TOL, "vs FD")
    # Σ over the m output unit vectors of Eq. 1 with a = 0 ...
    by_rows = [jprop.vjp_loss(model, X, np.eye(m)[i], np.zeros(n)) for i in range(m)]
    assert_value(value, sum(v for v, _ in by_rows), what="Σ_i vjp_loss(e_i, 0)")
    assert_grad(grad, sum(g for _, g in by_rows), EXACT_TOL, "vs Σ_i vjp_loss(e_i, 0)")
    # ... and over the n input unit vectors of Eq. 2 with b = 0: the routes agree
    by_cols = [jprop.jvp_loss(model, X, np.eye(n)[j], np.zeros(m)) for j in range(n)]
    assert_value(value, sum(v for v, _ in by_cols), what="Σ_j jvp_loss(e_j, 0)")
    assert_grad(grad, sum(g for _, g in by_cols), EXACT_TOL, "vs Σ_j jvp_loss(e_j, 0)")
    assert_grad(sum(g for _, g in by_rows), sum(g for _, g in by_cols), EXACT_TOL,
                "Σ_i vjp_loss(e_i) vs Σ_j jvp_loss(e_j)")
    # ... and ∂(Σ_j (J e_j)ᵀ J e_j / 2)/∂w = bilinear form with u_j = J e_j fixed,
    # all n columns through bilinear_jacobian's direction axis in one call
    J = model.jacobian(X)
    U = np.moveaxis(J, 2, 0)                                  # (n, B, m): J e_j
    E = np.broadcast_to(np.eye(n)[:, None, :], (n, B, n))     # (n, B, n): e_j
    bil_value, g_bil = jprop.bilinear_jacobian(model, X, U, E)
    assert_value(value, 0.5 * bil_value, what="½ Σ_j (Je_j)ᵀ J e_j")
    assert_grad(grad, g_bil, EXACT_TOL, "vs bilinear_jacobian(u_j = J e_j, v_j = e_j)")


# ---------------------------------------------------------- double backprop
@parametrize_models
@parametrize_regimes
@parametrize_layouts
@given(data=st.data())
def test_double_backprop_loss(kind, regime, layout, data):
    p = draw_problem(data, kind, regime)
    model, X, B = p.model, p.X, p.batch
    T = p.vec(p.n_out, layout == "shared")
    value, grad = checked_call(jprop.double_backprop_loss, model, X, T)
    assert_value(value, ref_double_backprop(model, X, T))
    assert_grad(grad, fd_grad(model, lambda: ref_double_backprop(model, X, T)), FD_TOL,
                "vs FD")
    v_sum, g_sum = sum_per_sample(jprop.double_backprop_loss, model, X, T)
    assert_value(value, v_sum, what="sum of per-sample values")
    assert_grad(grad, g_sum, EXACT_TOL, "vs sum of per-sample gradients")
    # Exact route: Eq. 1 with u = r = f − t held fixed, a = 0, plus the residual's own
    # term (∂f/∂w)ᵀ (J Jᵀ r): a plain backward pass seeded with J Jᵀ r. (Not data_loss
    # at targets f − J Jᵀ r: forming f − (f − J Jᵀ r) cancels when ‖J Jᵀ r‖ ≪ ‖f‖.)
    r = model(X) - rows(T, B)
    J = model.jacobian(X)
    JJr = np.einsum("bmn,bn->bm", J, np.einsum("bm,bmn->bn", r, J))
    v_eq1, g_eq1 = jprop.vjp_loss(model, X, r, np.zeros(p.n_in))
    _, g_res = model.backward(model.forward(X)[1], JJr, need_input=False)
    assert_value(value, v_eq1, what="vjp_loss(u = r, a = 0)")
    assert_grad(grad, g_eq1 + g_res, EXACT_TOL, "vs vjp_loss(u = r) + residual term")


# ----------------------------------------------------------- bilinear_jacobian
@parametrize_models
@parametrize_regimes
@parametrize_layouts
@given(data=st.data())
def test_bilinear_jacobian(kind, regime, layout, data):
    p = draw_problem(data, kind, regime)
    model, X, B = p.model, p.X, p.batch
    m, n = p.n_out, p.n_in
    shared_u, shared_v = draw_layout(data, layout)
    u, v = p.vec(m, shared_u), p.vec(n, shared_v)
    value, grad = checked_call(jprop.bilinear_jacobian, model, X, u, v)
    assert_value(value, ref_bilinear(model, X, u, v),
                 scale=ref_bilinear(model, X, u, v, absolute=True))
    assert_grad(grad, fd_grad(model, lambda: ref_bilinear(model, X, u, v)), FD_TOL, "vs FD")
    v_sum, g_sum = sum_per_sample(jprop.bilinear_jacobian, model, X, u, v)
    assert_value(value, v_sum, scale=ref_bilinear(model, X, u, v, absolute=True),
                 what="sum of per-sample values")
    assert_grad(grad, g_sum, EXACT_TOL, "vs sum of per-sample gradients")
    # Polarisation: ½‖uᵀJ − a‖² = ½‖uᵀJ‖² − uᵀJa + ½‖a‖², so
    # ∂(uᵀJv)/∂w = ∂E_u(u, 0)/∂w − ∂E_u(u, v)/∂w, and likewise through Eq. 2.
    g_vjp = jprop.vjp_loss(model, X, u, np.zeros(n))[1] - jprop.vjp_loss(model, X, u, v)[1]
    g_jvp = jprop.jvp_loss(model, X, v, np.zeros(m))[1] - jprop.jvp_loss(model, X, v, u)[1]
    assert_grad(grad, g_vjp, EXACT_TOL, "vs polarisation through vjp_loss")
    assert_grad(grad, g_jvp, EXACT_TOL, "vs polarisation through jvp_loss")
    # A direction axis (K, B, ·) sums K bilinear forms.
    U2 = np.stack([rows(u, B), p.vec(m, False)])
    V2 = np.stack([rows(v, B), p.vec(n, False)])
    value2, grad2 = checked_call(jprop.bilinear_jacobian, model, X, U2, V2)
    parts = [jprop.bilinear_jacobian(model, X, U2[k], V2[k]) for k in range(2)]
    scale = sum(ref_bilinear(model, X, U2[k], V2[k], absolute=True) for k in range(2))
    assert_value(value2, sum(v for v, _ in parts), scale=scale, what="direction axis value")
    assert_grad(grad2, sum(g for _, g in parts), EXACT_TOL, "direction axis vs K calls")


# ------------------------------------------- wrong gradients are told apart
WRONG_SHAPES = [(3, 2, (5,)), (2, 3, (4, 3)), (1, 1, (6,))]


@parametrize_models
@pytest.mark.parametrize("n_in,n_out,hidden", WRONG_SHAPES)
def test_tolerance_separates_double_backprop_without_residual_term(kind, n_in, n_out, hidden):
    """Dropping (∂f/∂w)ᵀ J Jᵀ r (treating the residual as a constant, i.e. plain Eq. 1
    with u = r fixed) is a plausible mistake: the FD check must reject it by far."""
    rng = np.random.default_rng(n_in * 10 + n_out)
    model = make_model(kind, n_in, n_out, hidden, rng)
    X = make_inputs(kind, rng, (5, n_in))
    T = rng.standard_normal((5, n_out))
    g_fd = fd_grad(model, lambda: ref_double_backprop(model, X, T))
    _, g_right = jprop.double_backprop_loss(model, X, T)
    _, g_wrong = jprop.vjp_loss(model, X, model(X) - T, np.zeros(n_in))
    assert relative_error(g_right, g_fd) <= FD_TOL
    assert relative_error(g_wrong, g_fd) > 1e3 * FD_TOL


@parametrize_models
@pytest.mark.parametrize("n_in,n_out,hidden", WRONG_SHAPES)
def test_tolerance_separates_jvp_loss_with_wrong_held_vector(kind, n_in, n_out, hidden):
    """Holding u = J v (forgetting − b) instead of u = J v − b must fail the FD check."""
    rng = np.random.default_rng(n_in * 10 + n_out + 1)
    model = make_model(kind, n_in, n_out, hidden, rng)
    X = make_inputs(kind, rng, (5, n_in))
    v, b = rng.standard_normal(n_in), rng.standard_normal(n_out)
    g_fd = fd_grad(model, lambda: ref_jvp(model, X, v, b))
    _, g_right = jprop.jvp_loss(model, X, v, b)
    _, g_wrong = jprop.bilinear_jacobian(model, X, model.jvp(X, v), v)
    assert relative_error(g_right, g_fd) <= FD_TOL
    assert relative_error(g_wrong, g_fd) > 1e3 * FD_TOL


# --------------------------------------------------- frobenius (random probes)
# (n_in, n_out): reverse branch (m < n), forward branch (m > n), square
PROBE_SHAPES = [(4, 2), (2, 3), (3, 3)]


def _probe_problem(kind, n_in, n_out, batch=4, seed=11):
    rng = np.random.default_rng(seed)
    model = make_model(kind, n_in, n_out, (4,), rng)
    return model, make_inputs(kind, rng, (batch, n_in))


@parametrize_models
@pytest.mark.parametrize("n_in,n_out", PROBE_SHAPES)
def test_frobenius_probes_reproducible(kind, n_in, n_out):
    model, X = _probe_problem(kind, n_in, n_out)
    v1, g1 = checked_call(jprop.frobenius_loss, model, X, n_probes=3, rng=7)
    v2, g2 = jprop.frobenius_loss(model, X, n_probes=3, rng=7)
    assert v1 == v2
    np.testing.assert_array_equal(g1, g2)
    v3, g3 = jprop.frobenius_loss(model, X, n_probes=3, rng=np.random.default_rng(7))
    v4, g4 = jprop.frobenius_loss(model, X, n_probes=3, rng=np.random.default_rng(7))
    assert v3 == v4
    np.testing.assert_array_equal(g3, g4)
    # a different seed, or the same Generator used again, gives another estimate
    assert jprop.frobenius_loss(model, X, n_probes=3, rng=8)[0] != v1
    gen = np.random.default_rng(7)
    first = jprop.frobenius_loss(model, X, n_probes=3, rng=gen)[0]
    assert jprop.frobenius_loss(model, X, n_probes=3, rng=gen)[0] != first


@parametrize_models
@pytest.mark.parametrize("n_in,n_out", PROBE_SHAPES[:2])
def test_frobenius_probes_gradient_is_gradient_of_the_estimate(kind, n_in, n_out):
    """With the seed fixed the probes are fixed, so the returned gradient must be the
    exact gradient of the returned value."""
    model, X = _probe_problem(kind, n_in, n_out)
    n_probes = 3
    _, grad = jprop.frobenius_loss(model, X, n_probes=n_probes, rng=5)
    g_fd = fd_grad(model, lambda: jprop.frobenius_loss(model, X, n_probes=n_probes, rng=5)[0])
    assert_grad(grad, g_fd, FD_TOL, "probe gradient vs FD of the probe value")


@parametrize_models
@pytest.mark.parametrize("n_in,n_out", [(3, 1), (1, 3), (1, 1)])
@pytest.mark.parametrize("n_probes", [1, 4])
def test_frobenius_probes_exact_with_one_direction(kind, n_in, n_out, n_probes):
    """With min(n, m) = 1 a Rademacher probe is ±1: every estimate is exact."""
    model, X = _probe_problem(kind, n_in, n_out)
    value, grad = jprop.frobenius_loss(model, X)
    for seed in range(3):
        v, g = jprop.frobenius_loss(model, X, n_probes=n_probes, rng=seed)
        assert_value(v, value)
        assert_grad(g, grad, EXACT_TOL)


N_ESTIMATES = 512
N_CHECKPOINTS = (32, 128, 512)


@pytest.mark.parametrize("kind,n_in,n_out", [
    (kind, *PROBE_SHAPES[i % 2]) for i, kind in enumerate(KINDS)])
def test_frobenius_probes_unbiased(kind, n_in, n_out):
    """Mean of N independent single-probe estimates → exact value and gradient.

    The estimates are i.i.d. and bounded, so by the CLT the error of their mean is
    ~ N(0, σ²/N). With σ estimated from the same N samples the error in standard
    errors is ~ Student t with N − 1 degrees of freedom, and |t| > 5 has probability
    2e-5 at N = 32, 8e-7 at N = 512 (per component): a right estimator passes, a
    biased one is caught once 5 standard errors fall below its bias. Checking the
    bound at N = 32, 128, 512 checks that the error falls like 1/sqrt(N). The seeds
    are fixed, so the test is deterministic.
    """
    model, X = _probe_problem(kind, n_in, n_out)
    exact_value, exact_grad = jprop.frobenius_loss(model, X)
    runs = [jprop.frobenius_loss(model, X, n_probes=1, rng=seed)
            for seed in range(N_ESTIMATES)]
    values = np.array([v for v, _ in runs])
    grads = np.array([g for _, g in runs])
    floor_v = 1e-12 * abs(exact_value)             # rounding only
    floor_g = 1e-12 * np.abs(exact_grad).max()
    for N in N_CHECKPOINTS:
        se_v = values[:N].std(ddof=1) / np.sqrt(N)
        se_g = grads[:N].std(axis=0, ddof=1) / np.sqrt(N)
        assert abs(values[:N].mean() - exact_value) <= 5 * se_v + floor_v, (
            f"value: N={N}, mean {values[:N].mean()}, exact {exact_value}, se {se_v}")
        err_g = np.abs(grads[:N].mean(axis=0) - exact_grad)
        bad = err_g > 5 * se_g + floor_g
        assert not bad.any(), (
            f"gradient: N={N}, components {np.flatnonzero(bad)} off by "
            f"{err_g[bad]} > 5 se {5 * se_g[bad]}")
    # the estimator really is random here, and the bound has power: a 25 % bias fails
    se_v = values.std(ddof=1) / np.sqrt(N_ESTIMATES)
    assert se_v > 0
    assert abs(1.25 * values.mean() - exact_value) > 5 * se_v


@pytest.mark.parametrize("n_in,n_out", PROBE_SHAPES[:2])
def test_frobenius_multi_probe_estimate_unbiased_and_less_noisy(n_in, n_out):
    """K probes per call: still unbiased, with about 1/K of the single-probe variance."""
    model, X = _probe_problem("mlp-tanh", n_in, n_out)
    exact_value, exact_grad = jprop.frobenius_loss(model, X)
    N, K = 400, 4
    one = np.array([jprop.frobenius_loss(model, X, n_probes=1, rng=s)[0] for s in range(N)])
    runs = [jprop.frobenius_loss(model, X, n_probes=K, rng=10_000 + s) for s in range(N)]
    values = np.array([v for v, _ in runs])
    grads = np.array([g for _, g in runs])
    assert abs(values.mean() - exact_value) <= 5 * values.std(ddof=1) / np.sqrt(N)
    se_g = grads.std(axis=0, ddof=1) / np.sqrt(N)
    assert np.all(np.abs(grads.mean(axis=0) - exact_grad) <= 5 * se_g + 1e-12)
    # variance ratio 1/K = 0.25; with N = 400 each sample variance has a relative s.d.
    # of ~0.1, so the factor-2 band around 0.25 is several s.d. wide
    ratio = values.var(ddof=1) / one.var(ddof=1)
    assert 0.25 / 2 < ratio < 0.25 * 2


# -------------------------------------------------------------------- bad input
B_BAD, N_IN_BAD, N_OUT_BAD = 4, 3, 2


@pytest.fixture(scope="module")
def bad_setup():
    rng = np.random.default_rng(0)
    model = MLP([N_IN_BAD, 4, N_OUT_BAD], rng=rng)
    good = {
        "X": rng.standard_normal((B_BAD, N_IN_BAD)),
        "T": rng.standard_normal((B_BAD, N_OUT_BAD)),
        "u": rng.standard_normal(N_OUT_BAD),
        "a": rng.standard_normal(N_IN_BAD),
        "v": rng.standard_normal(N_IN_BAD),
        "b": rng.standard_normal(N_OUT_BAD),
    }
    return model, good


SIGNATURES = {
    "data_loss": ("X", "T"),
    "vjp_loss": ("X", "u", "a"),
    "jvp_loss": ("X", "v", "b"),
    "frobenius_loss": ("X",),
    "double_backprop_loss": ("X", "T"),
    "bilinear_jacobian": ("X", "u", "v"),
}
WIDTH = {"T": N_OUT_BAD, "u": N_OUT_BAD, "b": N_OUT_BAD, "a": N_IN_BAD, "v": N_IN_BAD}


def call(name, model, good, **override):
    args = {**good, **override}
    return getattr(jprop, name)(model, *(args[k] for k in SIGNATURES[name]))


def _shape_re(shape):
    return re.escape(str(tuple(shape)))


def _bad_shape_cases():
    B, n = B_BAD, N_IN_BAD
    for name, argnames in SIGNATURES.items():
        # X: not 2-D, or the wrong number of features
        for shape in [(n,), (B, n, 1), (1, B, n), (B, n + 1), (B, n - 1), ()]:
            yield pytest.param(name, "X", shape,
                               rf"X has shape {_shape_re(shape)}; expected \(\?, {n}\)",
                               id=f"{name}-X{shape}")
        for arg in argnames[1:]:
            d = WIDTH[arg]
            shapes = [(d + 1,), (d - 1,), (B + 1, d), (B, d + 1), (B - 1, d), (d, B), ()]
            if name != "bilinear_jacobian":
                shapes.append((1, B, d))
            for shape in shapes:
                if shape == (d, B) and d == B:
                    continue
                yield pytest.param(
                    name, arg, shape,
                    rf"{arg} has shape {_shape_re(shape)}; expected \({d},\) shared by all "
                    rf"samples or \({B}, {d}\), one per sample",
                    id=f"{name}-{arg}{shape}")
            if name == "bilinear_jacobian":
                for shape in [(2, B + 1, d), (2, B, d + 1), (1, 1, B, d)]:
                    pattern = (rf"{arg} has shape {_shape_re(shape)}; expected \(K, {B}, {d}\)"
                               if len(shape) == 3 else rf"{arg} has shape {_shape_re(shape)}")
                    yield pytest.param(name, arg, shape, pattern, id=f"{name}-{arg}{shape}")


@pytest.mark.parametrize("name,arg,shape,pattern", list(_bad_shape_cases()))
def test_bad_shapes_raise_value_error_naming_argument_and_shapes(bad_setup, name, arg, shape,
                                                                 pattern):
    model, good = bad_setup
    with pytest.raises(ValueError, match=pattern):
        call(name, model, good, **{arg: np.ones(shape)})


def _each_argument():
    for name, argnames in SIGNATURES.items():
        for arg in argnames:
            yield pytest.param(name, arg, id=f"{name}-{arg}")


@pytest.mark.parametrize("name,arg", list(_each_argument()))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("per_sample", [False, True])
def test_non_finite_values_raise(bad_setup, name, arg, bad, per_sample):
    model, good = bad_setup
    value = np.array(good[arg], dtype=float)
    if per_sample and value.ndim == 1:
        value = np.tile(value, (B_BAD, 1))
    value.flat[-1] = bad
    with pytest.raises(ValueError, match=rf"{arg} contains NaN or inf"):
        call(name, model, good, **{arg: value})


@pytest.mark.parametrize("name,arg", list(_each_argument()))
@pytest.mark.parametrize("kind", ["str", "object", "complex", "ragged"])
def test_non_numeric_arrays_raise(bad_setup, name, arg, kind):
    model, good = bad_setup
    shape = np.shape(good[arg])
    if kind == "str":
        value = np.full(shape, "1.0")
        pattern = rf"{arg} must be a real numeric array; got dtype <U3"
    elif kind == "object":
        value = np.empty(shape, dtype=object)
        value[...] = None
        pattern = rf"{arg} must be a real numeric array; got dtype object"
    elif kind == "complex":
        value = np.ones(shape, dtype=complex)
        pattern = rf"{arg} must be a real numeric array; got dtype complex128"
    else:
        value = [[1.0] * shape[-1], [1.0]]
        pattern = rf"{arg} must be a numeric array; could not convert"
    with pytest.raises(ValueError, match=pattern):
        call(name, model, good, **{arg: value})


@pytest.mark.parametrize("name", SIGNATURES)
@pytest.mark.parametrize("int_dtype", [np.int64, np.int32, np.uint8])
def test_integer_arrays_are_converted(bad_setup, name, int_dtype):
    model, _ = bad_setup
    rng = np.random.default_rng(3)
    ints = {k: rng.integers(0, 3, size=np.shape(v)).astype(int_dtype)
            for k, v in bad_setup[1].items()}
    floats = {k: v.astype(np.float64) for k, v in ints.items()}
    v_int, g_int = call(name, model, ints)
    v_float, g_float = call(name, model, floats)
    assert v_int == v_float
    np.testing.assert_array_equal(g_int, g_float)
    # plain Python lists of ints too
    lists = {k: v.tolist() for k, v in ints.items()}
    v_list, g_list = call(name, model, lists)
    assert v_list == v_float
    np.testing.assert_array_equal(g_list, g_float)


@pytest.mark.parametrize("name", SIGNATURES)
def test_float32_bool_and_strided_inputs_are_converted(bad_setup, name):
    """float32 and bool arrays, and non-contiguous views, give exactly what their
    contiguous float64 copies give (the computation itself stays float64)."""
    model, good = bad_setup
    want_v, want_g = call(name, model, good)
    # strided views of larger arrays (every other element, transposed storage)
    strided = {k: np.repeat(v, 2, axis=-1)[..., ::2] for k, v in good.items()}
    strided["X"] = np.asfortranarray(good["X"])
    assert not strided["X"].flags.c_contiguous
    got_v, got_g = call(name, model, strided)
    assert got_v == want_v
    np.testing.assert_array_equal(got_g, want_g)
    # float32: the same as its float64 conversion, with a float64 gradient
    f32 = {k: v.astype(np.float32) for k, v in good.items()}
    got_v, got_g = call(name, model, f32)
    ref_v, ref_g = call(name, model, {k: v.astype(np.float64) for k, v in f32.items()})
    assert got_g.dtype == np.float64
    assert got_v == ref_v
    np.testing.assert_array_equal(got_g, ref_g)
    # booleans are numbers too (0 and 1)
    bools = {k: v > 0 for k, v in good.items()}
    got_v, got_g = call(name, model, bools)
    ref_v, ref_g = call(name, model, {k: v.astype(np.float64) for k, v in bools.items()})
    assert got_v == ref_v
    np.testing.assert_array_equal(got_g, ref_g)


@pytest.mark.parametrize("name", SIGNATURES)
def test_results_are_fresh_arrays(bad_setup, name):
    """A returned gradient is not a buffer the next call overwrites, nor a view of
    the parameters."""
    model, good = bad_setup
    params = model.params
    _, g1 = call(name, model, good)
    kept = g1.copy()
    call(name, model, {**good, "X": good["X"] + 1.0})
    np.testing.assert_array_equal(g1, kept)
    g1 += 1.0
    np.testing.assert_array_equal(model.params, params)


@pytest.mark.parametrize("n_probes,pattern", [
    (0, r"n_probes must be >= 1; got 0"),
    (-2, r"n_probes must be >= 1; got -2"),
    (1.5, r"n_probes must be an integer; got 1\.5"),
    (2.0, r"n_probes must be an integer; got 2\.0"),
    ("3", r"n_probes must be an integer; got '3'"),
    (True, r"n_probes must be an integer; got True"),
    (np.float64(2.0), r"n_probes must be an integer"),
])
def test_frobenius_bad_n_probes(bad_setup, n_probes, pattern):
    model, good = bad_setup
    with pytest.raises(ValueError, match=pattern):
        jprop.frobenius_loss(model, good["X"], n_probes=n_probes, rng=0)


def test_frobenius_numpy_integer_n_probes_accepted(bad_setup):
    model, good = bad_setup
    v1, g1 = jprop.frobenius_loss(model, good["X"], n_probes=np.int64(3), rng=1)
    v2, g2 = jprop.frobenius_loss(model, good["X"], n_probes=3, rng=1)
    assert v1 == v2
    np.testing.assert_array_equal(g1, g2)


@pytest.mark.parametrize("rng", ["seed", -1, 1.5, [1, 2]])
def test_frobenius_bad_rng(bad_setup, rng):
    model, good = bad_setup
    with pytest.raises(ValueError, match=r"rng"):
        jprop.frobenius_loss(model, good["X"], n_probes=2, rng=rng)


def test_bilinear_direction_axis_on_one_side_only(bad_setup):
    model, good = bad_setup
    U = np.ones((2, B_BAD, N_OUT_BAD))
    with pytest.raises(ValueError, match=r"u and v must both have a direction axis or "
                                         r"neither; got shapes \(2, 4, 2\) and \(4, 3\)"):
        jprop.bilinear_jacobian(model, good["X"], U, good["v"])


@pytest.mark.parametrize("K_u,K_v", [(3, 2), (3, 1), (1, 3)])
def test_bilinear_direction_axes_of_different_lengths(bad_setup, K_u, K_v):
    """u (K, B, m) and v (K', B, n) with K ≠ K' do not pair up: a ValueError that names
    u and v and both shapes, not a NumPy broadcasting error from deep inside a pass."""
    model, good = bad_setup
    U = np.ones((K_u, B_BAD, N_OUT_BAD))
    V = np.ones((K_v, B_BAD, N_IN_BAD))
    with pytest.raises(ValueError, match=rf"(?s)\bu\b.*\bv\b.*{_shape_re(U.shape)}"
                                         rf".*{_shape_re(V.shape)}"):
        jprop.bilinear_jacobian(model, good["X"], U, V)


@pytest.mark.parametrize("delta", ["+1", "-1", "2-D"])
def test_params_of_the_wrong_length(bad_setup, delta):
    model, _ = bad_setup
    P = model.n_params
    shape = {"+1": (P + 1,), "-1": (P - 1,), "2-D": (1, P)}[delta]
    with pytest.raises(ValueError, match=rf"params has shape {_shape_re(shape)}; "
                                         rf"expected \({P},\)"):
        model.params = np.zeros(shape)


def test_empty_batch_gives_zero(bad_setup):
    model, good = bad_setup
    X0 = np.zeros((0, N_IN_BAD))
    for name in SIGNATURES:
        args = {**good, "X": X0, "T": np.zeros((0, N_OUT_BAD))}
        value, grad = call(name, model, args)
        assert value == 0.0
        np.testing.assert_array_equal(grad, np.zeros(model.n_params))
