"""Every layer's four passes against finite differences and complex steps.

Finite differences go through the public checker ``jdyn.assert_layer`` (which also
checks the ``None`` zero seed and the direction axis). Complex steps
``Im f(z + i h dz) / h`` with ``h = 1e-20`` have no subtraction error, so wherever the
forward pass is analytic (no ``expit``/``logaddexp``) they pin the R-forward and
backward passes down to rounding; applied to the backward pass they pin the R-backward
pass down too.
"""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jdyn
from jdyn.layers import (RBF, Dense, Identity, PolynomialFeatures, Sigmoid, SigmaPi,
                         Softplus, Tanh)


def _examples(k):
    """At least ``k`` examples, more under a more thorough hypothesis profile."""
    return max(k, settings.default.max_examples)


def make_layer(name, n_in, n_out, degree=2, bias=False):
    if name == "PolynomialFeatures":
        return PolynomialFeatures(n_in, degree, include_bias=bias)
    if name in ("Tanh", "Sigmoid", "Softplus", "Identity"):
        return {"Tanh": Tanh, "Sigmoid": Sigmoid, "Softplus": Softplus,
                "Identity": Identity}[name](n_in)
    return {"Dense": Dense, "RBF": RBF, "SigmaPi": SigmaPi}[name](n_in, n_out)


ALL = ["Dense", "Tanh", "Sigmoid", "Softplus", "Identity", "RBF", "SigmaPi",
       "PolynomialFeatures"]
ANALYTIC = ["Dense", "Tanh", "Identity", "RBF", "SigmaPi", "PolynomialFeatures"]

sizes = st.integers(1, 6)


# ------------------------------------------------------------ finite differences
@pytest.mark.parametrize("name", ALL)
@settings(max_examples=_examples(20), deadline=None)
@given(n_in=sizes, n_out=sizes, degree=st.integers(1, 3), bias=st.booleans(),
       batch=st.integers(1, 5), K=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_layer_passes_match_finite_differences(name, n_in, n_out, degree, bias, batch, K,
                                               seed):
    layer = make_layer(name, n_in, n_out, degree, bias)
    jdyn.assert_layer(layer, tol=1e-6, batch_size=batch, n_directions=K, rng=seed)


# ------------------------------------------------------------------ complex step
H = 1e-20


def _complex_step(f, z, dz):
    """``Im f(z + i h dz) / h``: the directional derivative, free of cancellation."""
    return np.imag(f(z + 1j * H * dz)) / H


def _random_problem(layer, batch, seed):
    rng = np.random.default_rng(seed)
    p = layer.init_params(rng)
    p = p + 0.1 * rng.standard_normal(p.shape)
    x = rng.standard_normal((batch, layer.n_in))
    ybar, rybar = rng.standard_normal((2, batch, layer.n_out))
    rx = rng.standard_normal((batch, layer.n_in))
    return p, x, ybar, rx, rybar


@pytest.mark.parametrize("name", ANALYTIC)
@settings(max_examples=_examples(15), deadline=None)
@given(n_in=sizes, n_out=sizes, degree=st.integers(1, 3), bias=st.booleans(),
       batch=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_layer_passes_match_complex_step(name, n_in, n_out, degree, bias, batch, seed):
    layer = make_layer(name, n_in, n_out, degree, bias)
    p, x, ybar, rx, rybar = _random_problem(layer, batch, seed)
    y, cache = layer.forward(p, x)
    xbar, pbar = layer.backward(p, cache, ybar)
    ry, rcache = layer.rforward(p, cache, rx)
    rxbar, rpbar = layer.rbackward(p, cache, rcache, ybar, rybar)
    rel = jdyn.relative_error

    def fwd_x(z):
        return layer.forward(p, z)[0]

    assert rel(ry, _complex_step(fwd_x, x, rx)) <= 1e-12
    # x̄[:, i] = Σ_o ȳ_o ∂y_o/∂x_i: perturbing coordinate i of every sample at once is
    # exact because samples do not interact.
    xbar_cs = np.stack([(ybar * _complex_step(fwd_x, x, e)).sum(axis=1)
                        for e in np.eye(layer.n_in)[:, None, :].repeat(batch, axis=1)],
                       axis=1)
    assert rel(xbar, xbar_cs) <= 1e-12
    if p.size:
        pbar_cs = np.array([np.sum(ybar * _complex_step(lambda q: layer.forward(q, x)[0], p, e))
                            for e in np.eye(p.size)])
        assert rel(pbar, pbar_cs) <= 1e-12

    def backward_along(r):
        _, c = layer.forward(p, x + r * rx)
        xb, pb = layer.backward(p, c, ybar + r * rybar)
        return np.concatenate([xb.ravel(), pb])

    d = _complex_step(backward_along, 0.0, 1.0)
    assert rel(rxbar, d[:xbar.size].reshape(xbar.shape)) <= 1e-12
    if p.size:
        assert rel(rpbar, d[xbar.size:]) <= 1e-12


# ------------------------------------------------------- forward passes by hand
def test_rbf_forward_by_hand_and_layout():
    rng = np.random.default_rng(0)
    layer = RBF(3, 4)
    C = rng.standard_normal((4, 3))
    s = rng.standard_normal(4)
    x = rng.standard_normal((5, 3))
    y, _ = layer.forward(np.concatenate([C.ravel(), s]), x)
    sigma = np.exp(s)
    expected = np.exp(-((x[:, None, :] - C) ** 2).sum(axis=2) / (2 * sigma ** 2))
    np.testing.assert_allclose(y, expected, rtol=1e-13, atol=1e-15)


def test_rbf_init_uses_given_centres_and_width():
    C = np.arange(6.0).reshape(3, 2)
    p = RBF(2, 3, centres=C, width=2.0).init_params(np.random.default_rng(0))
    np.testing.assert_array_equal(p[:6], C.ravel())
    np.testing.assert_allclose(p[6:], np.log(2.0))
    p = RBF(2, 3).init_params(np.random.default_rng(0))
    assert p.shape == (9,) and np.all(p[6:] == 0.0)


def test_sigma_pi_forward_by_hand_and_layout():
    rng = np.random.default_rng(1)
    n, k = 3, 2
    layer = SigmaPi(n, k)
    pairs = list(zip(*np.triu_indices(n)))
    assert layer.n_pairs == len(pairs) == 6
    assert [tuple(pq) for pq in layer.pairs] == pairs
    W = rng.standard_normal((k, 6))
    V = rng.standard_normal((k, n))
    b = rng.standard_normal(k)
    x = rng.standard_normal((4, n))
    y, _ = layer.forward(np.concatenate([W.ravel(), V.ravel(), b]), x)
    expected = x @ V.T + b
    for t, (i, j) in enumerate(pairs):
        expected += np.outer(x[:, i] * x[:, j], W[:, t])
    np.testing.assert_allclose(y, expected, rtol=1e-13)
    assert layer.n_params == k * (6 + n + 1)


@pytest.mark.parametrize("n_in,degree,bias", [(1, 1, False), (1, 4, True), (2, 2, False),
                                              (3, 3, True), (4, 2, False)])
def test_polynomial_features_order_and_values(n_in, degree, bias):
    from math import comb
    layer = PolynomialFeatures(n_in, degree, include_bias=bias)
    combos = [c for d in range(0 if bias else 1, degree + 1)
              for c in combinations_with_replacement(range(n_in), d)]
    assert layer.n_out == len(combos) == comb(n_in + degree, degree) - (not bias)
    expected_powers = np.array([np.bincount(c, minlength=n_in) for c in combos])
    np.testing.assert_array_equal(layer.powers, expected_powers)
    x = np.random.default_rng(2).standard_normal((5, n_in))
    y, _ = layer.forward(np.empty(0), x)
    expected = np.stack([np.prod(x[:, list(c)], axis=1) for c in combos], axis=1)
    np.testing.assert_allclose(y, expected, rtol=1e-13)


def test_layer_constructors_refuse_bad_arguments():
    with pytest.raises(ValueError, match="centres has shape"):
        RBF(2, 3, centres=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="width"):
        RBF(2, 3, width=0.0)
    with pytest.raises(ValueError, match="n_out"):
        SigmaPi(2, 0)
    with pytest.raises(ValueError, match="degree"):
        PolynomialFeatures(2, 0)
    with pytest.raises(ValueError, match="n_in"):
        PolynomialFeatures(1.5, 2)


# --------------------------------------------------- the checker can fail
class WrongSecondDerivative(Tanh):
    def d2g(self, x, y, dy):
        return 1.5 * super().d2g(x, y, dy)


class WrongFirstDerivative(Tanh):
    def dg(self, x, y):
        return 1.0 - 0.9 * y * y


class ForgetsSecondOrderTermWithZeroSeed(Sigmoid):
    """Returns R{x̄} = 0 for a zero R{ȳ}, dropping the ȳ g'' R{x} term."""

    def rbackward(self, p, cache, rx, ybar, rybar, *, need_input=True):
        if rybar is None:
            return None, np.empty(0)
        return super().rbackward(p, cache, rx, ybar, rybar, need_input=need_input)


class IgnoresDirectionAxis(Dense):
    """Sums only the first direction's contribution into the weight gradient."""

    def backward(self, p, x, ybar, *, need_input=True, need_params=True):
        xbar, pbar = super().backward(p, x, ybar, need_input=need_input,
                                      need_params=need_params)
        if need_params and ybar.ndim == 3:
            _, pbar = super().backward(p, x, ybar[0], need_input=False)
        return xbar, pbar


@pytest.mark.parametrize("layer,failing", [
    (WrongSecondDerivative(3), "rbackward_input"),
    (WrongFirstDerivative(3), "backward_input"),
    (ForgetsSecondOrderTermWithZeroSeed(3), "rbackward_zero_seed"),
    (IgnoresDirectionAxis(3, 2), "direction_axis"),
])
def test_checker_catches_wrong_layers(layer, failing):
    with pytest.raises(AssertionError, match=failing):
        jdyn.assert_layer(layer, tol=1e-6, rng=0, n_directions=2)
