"""Every objective term's exact gradient against finite differences, and its value
against a direct computation (numpy's svd / slogdet, explicit Jacobians)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import jdyn
from jdyn import jprop
from jdyn.gradcheck import numerical_gradient, relative_error
from jdyn.objectives import (Batch, DerivativeTarget, DoubleBackprop, ErrorsInVariables,
                             JacobianPenalty, LogDetTarget, MeanSquaredError, Objective, OutputRange,
                             SigmaMaxPenalty, TangentProp, Term, WeightDecay,
                             errors_in_variables_loss, top_singular_vectors)

TOL = 1e-6  # gradcheck's Richardson differences reach ~1e-9 on these smooth terms
# Example counts come from the profile in conftest.py (JDYN_HYPOTHESIS_PROFILE).
FD = settings(deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def fd_error(term, model, batch):
    """Relative error between a term's gradient and central differences of its value."""
    w0 = model.params
    _, grad = term(model, batch)

    def value(w):
        model.params = w
        return term(model, batch)[0]

    numeric = numerical_gradient(value, w0)
    model.params = w0
    return relative_error(grad, numeric)


def make_model(sizes, activation, output_activation, seed):
    model = jdyn.MLP(sizes, activation=activation, output_activation=output_activation,
                     rng=seed)
    # Non-zero biases so every parameter matters.
    model.params = model.params + 0.3 * np.random.default_rng(seed + 1).standard_normal(
        model.n_params)
    return model


def make_batch(model, B, seed):
    rng = np.random.default_rng(seed)
    n, m = model.n_in, model.n_out
    return Batch(rng.standard_normal((B, n)), rng.standard_normal((B, m)),
                 {"dfdx": rng.standard_normal((B, n)), "u": rng.standard_normal((B, m)),
                  "tangents": rng.standard_normal((B, n)),
                  "dirderiv": rng.standard_normal((B, m)),
                  "logdet": rng.standard_normal(B)})


def _other_model(kind, n_in, hidden, n_out, seed):
    """The other model families in jdyn.models, when present."""
    cls = getattr(jdyn.models, kind)
    if kind == "RBFNetwork":
        model = cls(n_in, hidden, n_out, rng=seed)
    elif kind == "HigherOrderNetwork":
        model = cls([n_in, min(hidden, 3), n_out], rng=seed)
    else:
        model = cls(n_in, n_out, degree=2, rng=seed)
    model.params = model.params + 0.3 * np.random.default_rng(seed + 1).standard_normal(
        model.n_params)
    return model


mlps = st.builds(
    make_model,
    sizes=st.tuples(st.integers(1, 4), st.lists(st.integers(1, 6), min_size=1, max_size=2),
                    st.integers(1, 3)).map(lambda t: [t[0], *t[1], t[2]]),
    activation=st.sampled_from(["tanh", "sigmoid", "softplus"]),
    output_activation=st.sampled_from(["identity", "tanh"]),
    seed=st.integers(0, 10_000))
OTHER = [k for k in ("RBFNetwork", "HigherOrderNetwork", "PolynomialRegression")
         if hasattr(jdyn.models, k)]
models = mlps if not OTHER else st.one_of(mlps, st.builds(
    _other_model, st.sampled_from(OTHER), st.integers(1, 3), st.integers(1, 5),
    st.integers(1, 3), st.integers(0, 10_000)))


def term_for(kind, model, B):
    """The term ``kind`` configured for this model's shape."""
    rng = np.random.default_rng(B)
    if kind == "mse":
        return MeanSquaredError(weight=0.7)
    if kind == "weight_decay":
        return WeightDecay(1e-2)
    if kind == "jacobian_exact":
        return JacobianPenalty(0.3)
    if kind == "jacobian_probes":
        return JacobianPenalty(0.3, n_probes=3, rng=5, resample=False)
    if kind == "double_backprop":
        return DoubleBackprop()
    if kind == "derivative_batch":
        return DerivativeTarget("dfdx", u=None if model.n_out == 1 else "u")
    if kind == "derivative_points":
        P = 3
        return DerivativeTarget(rng.standard_normal((P, model.n_in)),
                                points=rng.standard_normal((P, model.n_in)),
                                u=rng.standard_normal((P, model.n_out)))
    if kind == "tangent_invariance":
        return TangentProp("tangents")
    if kind == "tangent_targets":
        return TangentProp(rng.standard_normal(model.n_in), "dirderiv")
    if kind == "output_range":
        return OutputRange(-0.05, 0.05 + rng.uniform(0, 0.1, model.n_out))
    raise AssertionError(kind)


KINDS = ["mse", "weight_decay", "jacobian_exact", "jacobian_probes", "double_backprop",
         "derivative_batch", "derivative_points", "tangent_invariance", "tangent_targets",
         "output_range"]


@pytest.mark.parametrize("kind", KINDS)
@FD
@given(model=models, B=st.integers(1, 5), seed=st.integers(0, 1000))
def test_term_gradient_matches_finite_differences(kind, model, B, seed):
    batch = make_batch(model, B, seed)
    term = term_for(kind, model, B)
    # The differences' round-off is ~1e-13·|value| (h = 1e-3); a gradient near it (saturated
    # units, an RBF far from its centres) cannot be checked to 1e-6: such examples test nothing.
    value, grad = term(model, batch)
    assume(np.linalg.norm(grad) > 1e-5 * (abs(value) + 1e-3))
    assert fd_error(term, model, batch) <= TOL


small_models = st.builds(
    make_model, sizes=st.tuples(st.integers(1, 3), st.integers(2, 5), st.integers(1, 3)).map(list),
    activation=st.sampled_from(["tanh", "softplus"]), output_activation=st.just("identity"),
    seed=st.integers(0, 10_000))


@FD
@given(model=small_models, B=st.integers(1, 3), seed=st.integers(0, 1000))
def test_sigma_max_value_and_gradient(model, B, seed):
    batch = make_batch(model, B, seed)
    s = np.linalg.svd(model.jacobian(batch.X), compute_uv=False)
    # The envelope gradient needs a simple top singular value; the power iteration
    # then converges like (σ₂/σ₁)^(2k): with σ₂/σ₁ ≤ 0.8, 1000 steps reach tol=1e-12.
    if s.shape[1] > 1:
        assume(np.all(s[:, 1] <= 0.8 * s[:, 0]))
    assume(np.all(s[:, 0] > 1e-3))
    for squared in (False, True):
        for method in ("svd", "power"):
            term = SigmaMaxPenalty(0.5, squared=squared, method=method, n_iter=1000,
                                   tol=1e-12)
            value, grad = term(model, batch)
            expected = 0.5 * np.mean(s[:, 0] ** 2) if squared else np.mean(s[:, 0])
            assert value == pytest.approx(expected, rel=1e-10)
            assert fd_error(term, model, batch) <= TOL


def test_top_singular_vectors_match_svd():
    model = make_model([3, 6, 4], "tanh", "identity", 3)
    X = np.random.default_rng(0).standard_normal((6, 3))
    sigma, U, V, done = top_singular_vectors(model, X, n_iter=2000, tol=1e-13)
    u, s, vt = np.linalg.svd(model.jacobian(X))
    assert done < 2000
    np.testing.assert_allclose(sigma, s[:, 0], rtol=1e-12)
    # Singular vectors up to sign.
    signs = np.sign(np.sum(V * vt[:, 0, :], axis=1))[:, None]
    np.testing.assert_allclose(V, signs * vt[:, 0, :], atol=1e-8)
    np.testing.assert_allclose(U, signs * u[:, :, 0], atol=1e-8)


def test_sigma_max_warns_when_not_converged():
    model = make_model([3, 6, 3], "tanh", "identity", 1)
    X = np.random.default_rng(1).standard_normal((5, 3))
    with pytest.warns(RuntimeWarning, match="did not reach tol"):
        SigmaMaxPenalty(method="power", n_iter=2, tol=1e-14)(model, Batch(X))


def test_sigma_max_methods_agree_and_auto_takes_the_svd():
    model = make_model([3, 6, 2], "tanh", "identity", 4)
    batch = make_batch(model, 5, 4)
    svd = SigmaMaxPenalty(method="svd")(model, batch)
    power = SigmaMaxPenalty(method="power", n_iter=5000, tol=1e-13)(model, batch)
    auto = SigmaMaxPenalty()(model, batch)
    assert svd[0] == pytest.approx(power[0], rel=1e-12)
    np.testing.assert_allclose(svd[1], power[1], rtol=1e-7, atol=1e-12)
    np.testing.assert_array_equal(auto[1], svd[1])
    with pytest.raises(ValueError, match="method must be"):
        SigmaMaxPenalty(method="lanczos")


@FD
@given(n=st.integers(1, 3), hidden=st.integers(2, 6), seed=st.integers(0, 10_000),
       B=st.integers(1, 4), target=st.floats(-1, 1))
def test_logdet_square_value_and_gradient(n, hidden, seed, B, target):
    model = make_model([n, hidden, n], "tanh", "identity", seed)
    X = np.random.default_rng(seed).standard_normal((B, n))
    sign, logdet = np.linalg.slogdet(model.jacobian(X))
    # |det J| ≥ e^-2.5: nearer to singular, log|det|'s curvature makes differences with
    # h = 1e-3 inaccurate (at |det| ≈ 0.01 they are off by 2e-6, with h = 1e-4 by 2e-10).
    assume(np.all(np.abs(logdet) < 2.5))
    term = LogDetTarget(target)
    value, _ = term(model, Batch(X))
    assert value == pytest.approx(0.5 * np.mean((logdet - target) ** 2), rel=1e-10)
    assert fd_error(term, model, Batch(X)) <= TOL


def test_logdet_per_sample_target_from_extras():
    model = make_model([2, 5, 2], "tanh", "identity", 0)
    rng = np.random.default_rng(0)
    X, c = rng.standard_normal((4, 2)), rng.standard_normal(4)
    term = LogDetTarget("c")
    value, _ = term(model, Batch(X, extras={"c": c}))
    _, logdet = np.linalg.slogdet(model.jacobian(X))
    assert value == pytest.approx(0.5 * np.mean((logdet - c) ** 2), rel=1e-12)
    assert fd_error(term, model, Batch(X, extras={"c": c})) <= TOL


@pytest.mark.parametrize("dim", [1, 2, 3, 5])
def test_logdet_companion_equals_slogdet_of_companion_matrix(dim):
    model = make_model([dim, 7, 1], "tanh", "identity", dim + 100)
    X = np.random.default_rng(dim + 100).standard_normal((6, dim))
    grads = model.jacobian(X)[:, 0, :]
    # Away from ∂f/∂x_last = 0, where log|·| is singular and differences with h = 1e-3 fail.
    assert np.abs(grads[:, -1]).min() > 1e-2
    C = np.zeros((6, dim, dim))
    C[:, 0, :] = grads
    C[:, np.arange(1, dim), np.arange(dim - 1)] = 1.0
    sign, logdet = np.linalg.slogdet(C)
    # det = (−1)^(dim+1) ∂f/∂x_last
    np.testing.assert_allclose(sign * np.exp(logdet), (-1) ** (dim + 1) * grads[:, -1],
                               rtol=1e-12)
    term = LogDetTarget(np.log(0.3), companion=True)
    value, _ = term(model, Batch(X))
    assert value == pytest.approx(0.5 * np.mean((logdet - np.log(0.3)) ** 2), rel=1e-10)
    assert fd_error(term, model, Batch(X)) <= TOL


@pytest.mark.parametrize("companion", [False, True])
def test_logdet_mean_target_value_and_gradient(companion):
    """The mean constraint: ½ (mean log|det| − c)², a different function from the
    pointwise target's mean of squares, checked by value and finite differences."""
    sizes = [3, 6, 1] if companion else [2, 6, 2]
    model = make_model(sizes, "tanh", "identity", 3)
    X = np.random.default_rng(3).standard_normal((7, sizes[0]))
    if companion:
        logdet = np.log(np.abs(model.jacobian(X)[:, 0, -1]))
    else:
        logdet = np.linalg.slogdet(model.jacobian(X))[1]
    term = LogDetTarget(-1.0, companion=companion, average=True)
    value, _ = term(model, Batch(X))
    assert value == pytest.approx(0.5 * (logdet.mean() + 1.0) ** 2, rel=1e-10)
    assert value < LogDetTarget(-1.0, companion=companion)(model, Batch(X))[0]
    assert fd_error(term, model, Batch(X)) <= TOL
    with pytest.raises(ValueError, match="one mean value"):
        LogDetTarget("c", average=True)


def test_logdet_rejects_wrong_shapes():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="square Jacobian.*companion=True"):
        LogDetTarget()(jdyn.MLP([2, 3, 1], rng=0), Batch(X))
    with pytest.raises(ValueError, match="scalar delay map"):
        LogDetTarget(companion=True)(jdyn.MLP([2, 3, 2], rng=0), Batch(X))


def test_values_match_direct_computation():
    model = make_model([3, 5, 2], "tanh", "identity", 7)
    batch = make_batch(model, 6, 7)
    Y, J = model(batch.X), model.jacobian(batch.X)
    r = Y - batch.T
    assert MeanSquaredError()(model, batch)[0] == pytest.approx(0.5 * np.mean(np.sum(r**2, 1)))
    assert WeightDecay()(model, batch)[0] == pytest.approx(0.5 * model.params @ model.params)
    assert JacobianPenalty()(model, batch)[0] == pytest.approx(0.5 * np.mean(np.sum(J**2, (1, 2))))
    dbp = np.einsum("bm,bmn->bn", r, J)
    assert DoubleBackprop()(model, batch)[0] == pytest.approx(0.5 * np.mean(np.sum(dbp**2, 1)))
    rows = np.einsum("bm,bmn->bn", batch.extras["u"], J) - batch.extras["dfdx"]
    assert DerivativeTarget(u="u")(model, batch)[0] == pytest.approx(
        0.5 * np.mean(np.sum(rows**2, 1)))
    jv = np.einsum("bmn,bn->bm", J, batch.extras["tangents"]) - batch.extras["dirderiv"]
    assert TangentProp(targets="dirderiv")(model, batch)[0] == pytest.approx(
        0.5 * np.mean(np.sum(jv**2, 1)))


def test_random_projection_is_unbiased_and_resampling_is_explicit():
    model = make_model([4, 6, 3], "tanh", "identity", 2)
    batch = make_batch(model, 5, 2)
    exact, gexact = JacobianPenalty()(model, batch)
    many, gmany = JacobianPenalty(n_probes=4000, rng=0)(model, batch)
    assert many == pytest.approx(exact, rel=0.05)
    assert relative_error(gmany, gexact) < 0.05
    fixed = JacobianPenalty(n_probes=2, rng=1, resample=False)
    assert fixed(model, batch)[0] == fixed(model, batch)[0]
    fresh = JacobianPenalty(n_probes=2, rng=1)
    assert fresh(model, batch)[0] != fresh(model, batch)[0]


def test_objective_is_the_weighted_sum_of_its_terms():
    model = make_model([2, 5, 1], "tanh", "identity", 4)
    batch = make_batch(model, 8, 4)
    terms = [MeanSquaredError(2.0), WeightDecay(0.1), JacobianPenalty(0.5),
             JacobianPenalty(0.25)]
    objective = Objective(terms)
    ev = objective(model, batch)
    parts = [t(model, batch) for t in terms]
    assert ev.value == pytest.approx(sum(t.weight * v for t, (v, _) in zip(terms, parts)))
    np.testing.assert_allclose(ev.grad, sum(t.weight * g for t, (_, g) in zip(terms, parts)))
    assert objective.names == ("mse", "weight_decay", "jacobian", "jacobian_2")
    assert ev.terms["jacobian"] == ev.terms["jacobian_2"] == parts[2][0]
    value, grad, values = ev  # unpacks as a triple
    assert value == ev.value and values is ev.terms
    assert (MeanSquaredError(2.0) + WeightDecay(0.1) + JacobianPenalty(0.5)).names == \
        ("mse", "weight_decay", "jacobian")
    # The validation loss counts data and target terms only.
    assert objective.monitored(model, batch) == pytest.approx(2.0 * parts[0][0])
    assert fd_error(_AsTerm(objective), model, batch) <= TOL


class _AsTerm(Term):
    """An Objective seen as one term, for the gradient check."""

    def __init__(self, objective):
        super().__init__(1.0, "objective")
        self.objective = objective

    def __call__(self, model, batch):
        ev = self.objective(model, batch)
        return ev.value, ev.grad


class _DoubleBackpropWithoutResidualTerm(Term):
    """A plausible mistake: Eq. 1 with u = residual held fixed, dropping (∂f/∂w)ᵀ(J v)."""

    def __call__(self, model, batch):
        r = model(batch.X) - batch.T
        value, grad = jprop.vjp_loss(model, batch.X, r, np.zeros(model.n_in))
        return value / len(batch), grad / len(batch)


def test_output_range_is_zero_inside_and_the_distance_squared_outside():
    model = jdyn.MLP([2, 4, 1], rng=0)
    X = np.random.default_rng(0).standard_normal((6, 2))
    F = model(X)[:, 0]
    inside = OutputRange(F.min() - 1, F.max() + 1)(model, Batch(X))
    assert inside[0] == 0.0 and np.all(inside[1] == 0.0)
    value, _ = OutputRange(F.min(), F.min())(model, Batch(X))
    assert np.isclose(value, 0.5 * np.mean((F - F.min()) ** 2))
    with pytest.raises(ValueError, match="low must not exceed high"):
        OutputRange(1.0, 0.0)


def test_a_wrong_gradient_fails_the_same_check():
    model = make_model([2, 6, 1], "tanh", "identity", 0)
    batch = make_batch(model, 5, 0)
    wrong = _DoubleBackpropWithoutResidualTerm()
    assert wrong(model, batch)[0] == pytest.approx(DoubleBackprop()(model, batch)[0])
    assert fd_error(wrong, model, batch) > 1e-2
    assert fd_error(DoubleBackprop(), model, batch) <= TOL


def test_objective_flags_nonfinite_terms():
    class Bad(Term):
        default_name = "bad"

        def __call__(self, model, batch):
            return np.nan, np.zeros(model.n_params)

    model = jdyn.MLP([1, 3, 1], rng=0)
    ev = Objective([MeanSquaredError(), Bad()])(model, Batch(np.zeros((2, 1)), np.zeros((2, 1))))
    assert ev.nonfinite == ("bad",)


def test_batch_validation_and_messages():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="leading axis 4"):
        Batch(X, extras={"a": np.zeros(3)})
    with pytest.raises(ValueError, match="T has 3 rows"):
        Batch(X, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="mse needs output targets"):
        MeanSquaredError()(jdyn.MLP([2, 3, 1], rng=0), Batch(X))
    with pytest.raises(ValueError, match=r"extras\['dfdx'\], which is missing"):
        DerivativeTarget()(jdyn.MLP([2, 3, 1], rng=0), Batch(X))
    with pytest.raises(ValueError, match="scalar-output"):
        DerivativeTarget()(jdyn.MLP([2, 3, 2], rng=0), Batch(X, extras={"dfdx": X}))
    with pytest.raises(ValueError, match="need the points"):
        DerivativeTarget(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="weight"):
        WeightDecay(-1.0)
    sub = Batch(X, np.ones((4, 1)), {"a": np.arange(4.0)}).take([3, 1])
    np.testing.assert_array_equal(sub.extras["a"], [3.0, 1.0])


# ------------------------------------------------------------------ errors-in-variables
@pytest.mark.parametrize("shape, dim, lag, sizes", [
    ((30,), 3, 2, [3, 5, 1]),      # scalar delay map
    ((20, 2), 1, 1, [2, 5, 2]),    # full-state map of a vector series
    ((25, 2), 2, 3, [4, 4, 2]),    # vector series with delays
])
def test_errors_in_variables_gradient_in_weights_and_latent(shape, dim, lag, sizes):
    rng = np.random.default_rng(sum(shape))
    model = make_model(sizes, "tanh", "identity", 1)
    y = rng.standard_normal(shape)
    eiv = ErrorsInVariables(model, y, gamma=1.7, dim=dim, lag=lag,
                            terms=[WeightDecay(0.01), JacobianPenalty(0.1)])
    z = eiv.pack(model.params, y + 0.1 * rng.standard_normal(shape))
    value, grad = eiv(z)
    numeric = numerical_gradient(lambda zz: eiv(zz)[0], z)
    k = eiv.n_weights
    assert relative_error(grad[:k], numeric[:k]) <= TOL
    assert relative_error(grad[k:], numeric[k:]) <= TOL
    ev = eiv.evaluate(z)
    assert set(ev.terms) == {"observation", "dynamics", "weight_decay", "jacobian"}
    assert value == pytest.approx(ev.terms["observation"] + 1.7 * ev.terms["dynamics"]
                                  + 0.01 * ev.terms["weight_decay"]
                                  + 0.1 * ev.terms["jacobian"])


def test_errors_in_variables_value_by_hand_and_packing():
    model = make_model([2, 4, 1], "tanh", "identity", 0)
    rng = np.random.default_rng(0)
    y, s = rng.standard_normal(12), rng.standard_normal(12)
    parts, gw, gs = errors_in_variables_loss(model, y, s, gamma=3.0, dim=2, lag=1)
    Z = np.column_stack([s[1:-1], s[:-2]])  # most recent delay first
    r = model(Z)[:, 0] - s[2:]
    assert parts["observation"] == pytest.approx(0.5 * np.mean((y - s) ** 2))
    assert parts["dynamics"] == pytest.approx(0.5 * np.mean(r ** 2))
    assert gs.shape == s.shape and gw.shape == (model.n_params,)
    eiv = ErrorsInVariables(model, y, dim=2)
    w, latent = eiv.unpack(eiv.pack(model.params, s))
    np.testing.assert_array_equal(latent, s)
    np.testing.assert_array_equal(w, model.params)
    np.testing.assert_array_equal(eiv.unpack(eiv.initial())[1], y)


def test_errors_in_variables_rejects_bad_geometry():
    with pytest.raises(ValueError, match="needs a model R\\^3"):
        ErrorsInVariables(jdyn.MLP([2, 3, 1], rng=0), np.zeros(20), dim=3)
    with pytest.raises(ValueError, match="too short"):
        ErrorsInVariables(jdyn.MLP([3, 3, 1], rng=0), np.zeros(5), dim=3, lag=2)
    with pytest.raises(ValueError, match="NaN"):
        ErrorsInVariables(jdyn.MLP([1, 3, 1], rng=0), [0.0, np.nan, 1.0, 2.0])


def test_no_global_random_state_is_touched():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    model = make_model([2, 4, 2], "tanh", "identity", 0)
    batch = make_batch(model, 3, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for term in [JacobianPenalty(n_probes=2), SigmaMaxPenalty(method="power", n_iter=5)]:
            term(model, batch)
    assert np.random.random() == before


def test_on_points_evaluates_the_term_on_its_own_inputs():
    from jdyn.objectives import OnPoints
    model = make_model([2, 5, 2], "tanh", "identity", 0)
    batch = make_batch(model, 4, 0)
    points = np.random.default_rng(5).uniform(-1, 1, (7, 2))
    inner = JacobianPenalty(0.3)
    wrapped = OnPoints(inner, points)
    value, grad = wrapped(model, batch)
    expected, expected_grad = inner(model, Batch(points))
    assert value == expected and np.array_equal(grad, expected_grad)
    assert (wrapped.weight, wrapped.name, wrapped.monitor) == (0.3, "jacobian", False)
    assert OnPoints(inner, points, weight=2.0, name="grid").weight == 2.0
    with pytest.raises(ValueError, match="points"):
        OnPoints(inner, [1.0, 2.0])
    with pytest.raises(ValueError, match="points have 3 features"):
        OnPoints(inner, np.zeros((4, 3)))(model, batch)
    targets = np.random.default_rng(6).normal(size=(7, 2))
    on_data = OnPoints(MeanSquaredError(), points)
    with pytest.raises(ValueError):
        on_data(model, batch)                      # no targets at the points
    assert fd_error(OnPoints(LogDetTarget("c"), points, extras={"c": targets[:, 0]}),
                    model, batch) <= TOL


# --------------------------------------------------------- block-wise evaluation
def _every_term():
    from jdyn.objectives import OnPoints
    grid = np.random.default_rng(3).standard_normal((9, 2))
    return [MeanSquaredError(), JacobianPenalty(0.1), DoubleBackprop(0.3),
            DerivativeTarget("dfdx", u="u"), TangentProp("tangents", "dirderiv"),
            TangentProp(np.ones(2)), SigmaMaxPenalty(0.2), SigmaMaxPenalty(squared=True),
            LogDetTarget("logdet"), LogDetTarget(0.1, average=True),
            OutputRange(-0.2, 0.2), WeightDecay(1e-3), OnPoints(JacobianPenalty(), grid),
            DerivativeTarget(np.ones((9, 2)), points=grid, u=np.ones(2))]


@pytest.mark.parametrize("term", _every_term(), ids=lambda t: t.name)
def test_blockwise_evaluation_equals_the_full_batch(term):
    """Blocks of 10 (one of 3 samples) give the full-batch value and gradient to rounding,
    and a term evaluated on a batch that is not its own (or on its mean) is left whole."""
    model = make_model([2, 5, 2], "tanh", "identity", 0)
    batch = make_batch(model, 103, 1)
    full = Objective([term], block_size=None)(model, batch)
    calls = []
    original = type(term).__call__

    def counting(self, m, b):
        calls.append(len(b))
        return original(self, m, b)

    type(term).__call__ = counting
    try:
        part = Objective([term], block_size=10)(model, batch)
    finally:
        type(term).__call__ = original
    assert abs(part.value - full.value) <= 1e-13 * abs(full.value)
    assert relative_error(part.grad, full.grad) <= 1e-13
    assert max(calls) <= (10 if term.per_sample else 103) and len(calls) >= 1
    assert term.per_sample == (len(calls) == 11)


def test_blockwise_is_the_default_and_bounds_memory():
    """Peak memory of a blocked evaluation does not grow with N; a whole one does."""
    import tracemalloc
    objective = MeanSquaredError() + JacobianPenalty(1e-3)
    assert objective.block_size == jdyn.objectives.DEFAULT_BLOCK_SIZE
    gen = np.random.default_rng(0)

    def peak(N, block_size):
        # sigmoid: the NumPy passes (the compiled tanh kernel allocates next to nothing)
        model = jdyn.MLP([2, 20, 1], activation="sigmoid", rng=0)
        batch = Batch(gen.uniform(-1, 1, (N, 2)), gen.normal(size=(N, 1)))
        tracemalloc.start()
        Objective(objective.terms, block_size=block_size)(model, batch)
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    small, large = peak(50_000, 8192), peak(200_000, 8192)
    assert large < 1.25 * small
    assert peak(200_000, None) > 3 * large


def test_block_size_is_validated_and_kept_when_adding_terms():
    with pytest.raises(ValueError, match="block_size"):
        Objective([MeanSquaredError()], block_size=0)
    obj = Objective([MeanSquaredError()], block_size=7) + WeightDecay(1.0)
    assert obj.block_size == 7 and obj.names == ("mse", "weight_decay")
