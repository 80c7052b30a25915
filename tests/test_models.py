"""Models: Jacobians, jvp/vjp, the flat parameter vector and its documented layouts,
and bad input, for every model type (MLP, RBFNetwork, HigherOrderNetwork,
PolynomialRegression and a user Sequential mixing layer types)."""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import jdyn
from jdyn.gradcheck import numerical_derivative, relative_error
from jdyn.layers import (RBF, Dense, PolynomialFeatures, Sigmoid, SigmaPi, Softplus)
from jdyn.models import (MLP, HigherOrderNetwork, PolynomialRegression, RBFNetwork,
                         Sequential)


def _examples(k):
    """At least ``k`` examples, more under a more thorough hypothesis profile."""
    return max(k, settings.default.max_examples)


def mixed(n, m, rng=None):
    """A user composition of every layer family."""
    f = PolynomialFeatures(n, 2)
    return Sequential([f, Dense(f.n_out, 4), Softplus(4), SigmaPi(4, 3), Sigmoid(3),
                       RBF(3, 3), Dense(3, m)], rng=rng)


MODELS = {
    "MLP": lambda n, m, rng: MLP([n, 5, 4, m], activation="tanh", rng=rng),
    "MLP-sigmoid": lambda n, m, rng: MLP([n, 3, m], activation="sigmoid",
                                         output_activation="tanh", rng=rng),
    "RBFNetwork": lambda n, m, rng: RBFNetwork(n, 4, m, rng=rng),
    "HigherOrderNetwork": lambda n, m, rng: HigherOrderNetwork([n, 3, m], rng=rng),
    "PolynomialRegression": lambda n, m, rng: PolynomialRegression(n, m, degree=3, rng=rng),
    "Sequential": mixed,
}
NAMES = list(MODELS)


def _build(name, n, m, seed):
    model = MODELS[name](n, m, seed)
    rng = np.random.default_rng(seed + 1)
    # move off the initialisation (zero biases etc.) so every parameter matters
    model.params = model.params + 0.2 * rng.standard_normal(model.n_params)
    return model, rng


def shape_cases(f):
    """m = 1, m > 1, n < m, n > m and n = m are always among the examples."""
    for n, m in [(1, 1), (3, 1), (2, 3), (3, 2), (2, 2)]:
        f = example(n=n, m=m, batch=3, seed=7)(f)
    return f


# ------------------------------------------------------------- Jacobian, jvp, vjp
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=_examples(12), deadline=None)
@shape_cases
@given(n=st.integers(1, 4), m=st.integers(1, 4), batch=st.integers(1, 5),
       seed=st.integers(0, 2**31))
def test_jacobian_matches_central_differences(name, n, m, batch, seed):
    model, rng = _build(name, n, m, seed)
    X = rng.standard_normal((batch, n))
    J = model.jacobian(X)
    assert J.shape == (batch, m, n) and J.dtype == np.float64
    J_fd = np.stack([numerical_derivative(lambda r: model(X + r * e))
                     for e in np.eye(n)], axis=2)
    assert relative_error(J, J_fd) <= 1e-6


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=_examples(12), deadline=None)
@shape_cases
@given(n=st.integers(1, 4), m=st.integers(1, 4), batch=st.integers(1, 5),
       seed=st.integers(0, 2**31))
def test_jvp_and_vjp_match_jacobian(name, n, m, batch, seed):
    model, rng = _build(name, n, m, seed)
    X = rng.standard_normal((batch, n))
    J = model.jacobian(X)
    V = rng.standard_normal((batch, n))
    U = rng.standard_normal((batch, m))
    assert relative_error(model.jvp(X, V), np.einsum("bmn,bn->bm", J, V)) <= 1e-12
    assert relative_error(model.vjp(X, U), np.einsum("bm,bmn->bn", U, J)) <= 1e-12
    # one vector shared by every sample
    assert relative_error(model.jvp(X, V[0]), J @ V[0]) <= 1e-12
    assert relative_error(model.vjp(X, U[0]), U[0] @ J) <= 1e-12
    assert model.jvp(X, V).shape == (batch, m) and model.vjp(X, U).shape == (batch, n)
    assert model(X).shape == (batch, m)


# ------------------------------------------------------------------- parameters
@pytest.mark.parametrize("name", NAMES)
def test_params_round_trip(name):
    model, rng = _build(name, 3, 2, 0)
    p = model.params
    assert p.shape == (model.n_params,) and p.dtype == np.float64
    assert model.n_params == sum(layer.n_params for layer in model.layers)
    new = rng.standard_normal(model.n_params)
    model.params = new
    np.testing.assert_array_equal(model.params, new)
    got = model.params
    got[:] = 0.0                       # a copy: the model is untouched
    np.testing.assert_array_equal(model.params, new)
    new[:] = 1.0                       # copied in: later edits of the source do not leak
    assert not np.all(model.params == 1.0)
    model.params = list(range(model.n_params))   # ints are converted
    np.testing.assert_array_equal(model.params, np.arange(model.n_params, dtype=float))
    offset = 0
    for l, layer in enumerate(model.layers):
        np.testing.assert_array_equal(model.layer_params(l),
                                      model.params[offset:offset + layer.n_params])
        offset += layer.n_params


def _take(p, offset, *shape):
    size = int(np.prod(shape))
    return p[offset:offset + size].reshape(shape), offset + size


def _mlp_by_hand(model, X):
    p, o, z = model.params, 0, X
    sizes = model.sizes
    for l, (a, b) in enumerate(zip(sizes, sizes[1:])):
        W, o = _take(p, o, b, a)
        bias, o = _take(p, o, b)
        z = z @ W.T + bias
        if l < len(sizes) - 2:
            z = np.tanh(z)
    assert o == p.size
    return z


def _rbf_by_hand(model, X):
    p, n, k, m = model.params, model.n_in, model.n_centres, model.n_out
    C, o = _take(p, 0, k, n)
    s, o = _take(p, o, k)
    W, o = _take(p, o, m, k)
    b, o = _take(p, o, m)
    assert o == p.size
    phi = np.exp(-((X[:, None, :] - C) ** 2).sum(axis=2) / (2.0 * np.exp(s) ** 2))
    return phi @ W.T + b


def _higher_order_by_hand(model, X):
    p, o, z = model.params, 0, X
    sizes = model.sizes
    for l, (a, k) in enumerate(zip(sizes, sizes[1:])):
        pairs = [(i, j) for i in range(a) for j in range(i, a)]
        W, o = _take(p, o, k, len(pairs))
        V, o = _take(p, o, k, a)
        b, o = _take(p, o, k)
        out = z @ V.T + b
        for t, (i, j) in enumerate(pairs):
            out = out + np.outer(z[:, i] * z[:, j], W[:, t])
        z = np.tanh(out) if l < len(sizes) - 2 else out
    assert o == p.size
    return z


def _polynomial_by_hand(model, X):
    n, m, D = model.n_in, model.n_out, model.degree
    feats = np.stack([np.prod(X[:, list(c)], axis=1) for d in range(1, D + 1)
                      for c in combinations_with_replacement(range(n), d)], axis=1)
    W, o = _take(model.params, 0, m, feats.shape[1])
    b, o = _take(model.params, o, m)
    assert o == model.n_params
    return feats @ W.T + b


@pytest.mark.parametrize("model,by_hand", [
    (MLP([3, 5, 4, 2], rng=1), _mlp_by_hand),
    (MLP([1, 1], rng=1), _mlp_by_hand),
    (RBFNetwork(3, 4, 2, rng=1), _rbf_by_hand),
    (HigherOrderNetwork([3, 4, 2], rng=1), _higher_order_by_hand),
    (HigherOrderNetwork([2, 1], rng=1), _higher_order_by_hand),
    (PolynomialRegression(3, 2, degree=3, rng=1), _polynomial_by_hand),
], ids=["MLP", "MLP-linear", "RBFNetwork", "HigherOrder", "HigherOrder-quadratic",
        "PolynomialRegression"])
def test_documented_parameter_layout(model, by_hand):
    rng = np.random.default_rng(5)
    model.params = rng.standard_normal(model.n_params)
    X = rng.standard_normal((6, model.n_in))
    np.testing.assert_allclose(model(X), by_hand(model, X), rtol=1e-12, atol=1e-14)


def test_rbf_network_takes_given_centres():
    C = np.arange(8.0).reshape(4, 2)
    net = RBFNetwork(2, 4, 1, centres=C, width=0.5, rng=0)
    np.testing.assert_array_equal(net.params[:8], C.ravel())
    np.testing.assert_allclose(net.params[8:12], np.log(0.5))


# --------------------------------------------------------------------- bad input
def _one_of_each(n=3, m=2):
    return [MODELS[name](n, m, 0) for name in NAMES]


BAD_X = [
    (np.zeros(3), r"X has shape \(3,\); expected \(\?, 3\)"),
    (np.zeros((2, 3, 1)), r"X has shape \(2, 3, 1\); expected \(\?, 3\)"),
    (np.zeros((4, 2)), r"X has shape \(4, 2\); expected \(\?, 3\)"),
    (np.array([[0.0, np.nan, 1.0]]), r"X contains NaN or inf"),
    (np.array([[0.0, 1.0, np.inf]]), r"X contains NaN or inf"),
    (np.array([["a", "b", "c"]]), r"X must be a real numeric array; got dtype <U1"),
    ([[1.0, "b", 3.0]], r"X must be a real numeric array"),
    (np.ones((2, 3), dtype=complex), r"X must be a real numeric array; got dtype complex"),
    (np.array([[1.0, None, 2.0]], dtype=object), r"X must be a real numeric array"),
]


@pytest.mark.parametrize("X,message", BAD_X, ids=range(len(BAD_X)))
def test_bad_X_is_refused_by_every_entry_point(X, message):
    for model in _one_of_each():
        for call in (model, model.jacobian, lambda X: model.jvp(X, np.ones(3)),
                     lambda X: model.vjp(X, np.ones(2))):
            with pytest.raises(ValueError, match=message):
                call(X)


def test_integer_X_is_converted_to_float64():
    Xi = np.arange(6).reshape(2, 3) - 2
    for model in _one_of_each():
        y = model(Xi)
        assert y.dtype == np.float64
        np.testing.assert_array_equal(y, model(Xi.astype(float)))
        np.testing.assert_array_equal(model.jacobian(Xi), model.jacobian(Xi.astype(float)))
        np.testing.assert_array_equal(model(Xi.tolist()), y)


def test_bad_directions_are_refused():
    X = np.zeros((4, 3))
    for model in _one_of_each():
        with pytest.raises(ValueError, match=r"V has shape \(2,\); expected \(3,\) .* "
                                             r"or \(4, 3\)"):
            model.jvp(X, np.ones(2))
        with pytest.raises(ValueError, match=r"V has shape \(5, 3\)"):
            model.jvp(X, np.ones((5, 3)))
        with pytest.raises(ValueError, match=r"U has shape \(3,\); expected \(2,\)"):
            model.vjp(X, np.ones(3))
        with pytest.raises(ValueError, match=r"U contains NaN or inf"):
            model.vjp(X, [np.nan, 0.0])
        with pytest.raises(ValueError, match=r"V must be a real numeric array"):
            model.jvp(X, ["a", "b", "c"])


def test_bad_params_are_refused_and_leave_the_model_unchanged():
    for model in _one_of_each():
        k = model.n_params
        before = model.params
        # "(k,)" or "(k)": _validation renders a 1-tuple without its comma
        for bad, message in [
            (np.zeros(k - 1), rf"params has shape \({k - 1},\); expected \({k},?\)"),
            (np.zeros(k + 1), rf"params has shape \({k + 1},\); expected \({k},?\)"),
            (np.zeros((1, k)), rf"params has shape \(1, {k}\); expected \({k},?\)"),
            (np.full(k, np.nan), r"params contains NaN or inf"),
            (np.array(["x"] * k), r"params must be a real numeric array"),
        ]:
            with pytest.raises(ValueError, match=message):
                model.params = bad
            np.testing.assert_array_equal(model.params, before)


@pytest.mark.parametrize("build,message", [
    (lambda: RBFNetwork(0, 3, 1), "n_in"),
    (lambda: RBFNetwork(2, 0, 1), "n_centres"),
    (lambda: RBFNetwork(2, 3, 1.5), "n_out"),
    (lambda: RBFNetwork(2, 3, 1, centres=np.zeros((3, 3))),
     r"centres has shape \(3, 3\); expected \(3, 2\)"),
    (lambda: RBFNetwork(2, 3, 1, width=-1.0), "width"),
    (lambda: HigherOrderNetwork([3]), "sizes"),
    (lambda: HigherOrderNetwork(3), "sizes"),
    (lambda: HigherOrderNetwork([3, 0, 1]), "sizes"),
    (lambda: HigherOrderNetwork([3, 2, 1], activation="relu"), "activation"),
    (lambda: PolynomialRegression(2, 1, degree=0), "degree"),
    (lambda: PolynomialRegression(0, 1), "n_in"),
    (lambda: RBFNetwork(2, 3, 1, rng=-1), "rng"),
])
def test_bad_constructor_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_new_names_are_exported():
    for name in ("RBFNetwork", "HigherOrderNetwork", "PolynomialRegression"):
        assert name in jdyn.models.__all__
        # the package root may re-export them; if it does, they must be the same objects
        assert getattr(jdyn, name, getattr(jdyn.models, name)) is getattr(jdyn.models, name)
    for name in ("RBF", "SigmaPi", "PolynomialFeatures"):
        assert name in jdyn.layers.__all__
