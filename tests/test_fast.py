"""The compiled fast path (numba) against the NumPy reference: ≤ 1e-12 relative.

Skipped when numba is not installed; then everything runs on the NumPy path, which the
rest of the suite tests against finite differences.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba")

from jdyn import _fast, jprop
from jdyn.gradcheck import numerical_gradient, relative_error
from jdyn.layers import Dense, Sigmoid, Tanh
from jdyn.models import MLP, Sequential
from jdyn.models._compiled import MAX_WEIGHTS, compiled_layout

TOL = 1e-12


@pytest.fixture
def numpy_path():
    """A function that runs ``f()`` with the fast path off (restored afterwards)."""
    def run(f):
        before = _fast.set_enabled(False)
        try:
            return f()
        finally:
            _fast.set_enabled(before)
    if not _fast.active():
        pytest.skip("the fast path is switched off (JDYN_FAST=0)")
    return run


def objectives(model, gen, B):
    X = gen.uniform(-1.5, 1.5, size=(B, model.n_in))
    n, m = model.n_in, model.n_out
    U, T, Bt = (gen.normal(size=(B, m)) for _ in range(3))
    A, V = (gen.normal(size=(B, n)) for _ in range(2))
    return {"data": lambda: jprop.data_loss(model, X, T),
            "vjp": lambda: jprop.vjp_loss(model, X, U, A),
            "vjp-shared": lambda: jprop.vjp_loss(model, X, np.ones(m), np.zeros(n)),
            "jvp": lambda: jprop.jvp_loss(model, X, V, Bt),
            "frob": lambda: jprop.frobenius_loss(model, X),
            "frob-probes": lambda: jprop.frobenius_loss(model, X, n_probes=3, rng=4)}


def assert_agree(fast, ref):
    assert abs(fast[0] - ref[0]) <= TOL * abs(ref[0])
    assert relative_error(fast[1], ref[1]) <= TOL


@pytest.mark.parametrize("sizes,B", [([2, 10, 10, 1], 100), ([3, 7, 2], 65),
                                     ([1, 60, 4], 9), ([5, 4, 6, 3, 2], 130)])
def test_compiled_objectives_agree_with_numpy(sizes, B, numpy_path):
    model = MLP(sizes, rng=1)
    assert compiled_layout(model) is not None          # the one-call kernel runs these
    for f in objectives(model, np.random.default_rng(2), B).values():
        assert_agree(f(), numpy_path(f))


def test_compiled_tanh_passes_of_wide_models_agree_with_numpy(numpy_path):
    # Larger than the one-call kernel: the chain runner with the compiled tanh passes.
    model = MLP([3, MAX_WEIGHTS // 3 + 1, 5, 2], rng=3)
    assert compiled_layout(model) is None and model.fused
    for f in objectives(model, np.random.default_rng(4), 40).values():
        assert_agree(f(), numpy_path(f))


def test_compiled_gradient_matches_finite_differences(numpy_path):
    model = MLP([2, 6, 2], rng=5)
    gen = np.random.default_rng(6)
    X, U, A = gen.normal(size=(7, 2)), gen.normal(size=(7, 2)), gen.normal(size=(7, 2))
    w0 = model.params

    def value(w):
        model.params = w
        return jprop.vjp_loss(model, X, U, A)[0]

    model.params = w0
    _, grad = jprop.vjp_loss(model, X, U, A)
    assert relative_error(grad, numerical_gradient(value, w0)) < 1e-6
    model.params = w0
    # a wrong formula is far from passing: the gradient of Eq. 2 instead
    assert relative_error(jprop.jvp_loss(model, X, U, A)[1], grad) > 1e-2


def test_only_plain_tanh_mlps_take_the_one_call_kernel(numpy_path):
    class OwnTanh(Tanh):
        def dg(self, x, y):
            return 1.0 - 0.5 * y * y

    assert compiled_layout(MLP([2, 4, 1], activation="sigmoid")) is None
    assert compiled_layout(MLP([2, 4, 1], output_activation="tanh")) is None
    assert compiled_layout(MLP([2, MAX_WEIGHTS // 2 + 1, 1])) is None
    assert compiled_layout(MLP([2, MAX_WEIGHTS // 2, 1])) is not None
    assert compiled_layout(Sequential([Dense(2, 3), OwnTanh(3), Dense(3, 1)])) is None
    assert compiled_layout(Sequential([Dense(2, 3), Tanh(3), Dense(3, 1)], fused=False)) \
        is None
    assert compiled_layout(Sequential([Dense(2, 3), Sigmoid(3), Dense(3, 1)])) is None


def test_vectorised_tanh_is_within_a_few_ulp_of_numpy():
    from numba import njit

    from jdyn._fast._tanh import tanh

    @njit(error_model="numpy")
    def apply(x, y):
        for i in range(x.size):
            y[i] = tanh(x[i])

    gen = np.random.default_rng(7)
    x = np.concatenate([gen.normal(size=20000) * 4, np.logspace(-310, 2, 3000),
                        -np.logspace(-310, 2, 3000), [0.0, -0.0, 19.99, 20.0, 20.01, 700.0]])
    y = np.empty_like(x)
    apply(x, y)
    ref = np.tanh(x)
    assert np.all(np.abs(y - ref) <= 4 * np.spacing(np.abs(ref)))
    assert np.array_equal(np.signbit(y), np.signbit(ref))
    special = np.array([np.nan, np.inf, -np.inf])
    out = np.empty(3)
    apply(special, out)
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == -1.0


def test_environment_variable_switches_the_fast_path_off():
    code = "from jdyn import _fast; print(_fast.active(), _fast.available())"
    env = dict(os.environ, JDYN_FAST="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "True"]
    previous = _fast.set_enabled(False)
    assert not _fast.active() and _fast.kernels() is None
    assert _fast.set_enabled(True) is False and _fast.active() and _fast.kernels() is not None
    _fast.set_enabled(previous)
    assert _fast.active() is previous
