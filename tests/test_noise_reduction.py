"""jdyn.noise_reduction: local frames, local projection, the sensitivity autoencoder, denoise()."""

import numpy as np
import pytest

import jdyn
from jdyn.noise_reduction import (build_autoencoder, denoise, local_frames, local_projection_filter,
                          sensitivity_objective, tangent_spaces)
from jdyn.noise_reduction._windows import end_metric, spread, windows
from jdyn.gradcheck import numerical_gradient, relative_error
from jdyn.objectives import Batch
from jdyn.systems import Henon, add_observational_noise


def _rms(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_tangents_of_points_on_a_plane_span_the_plane():
    gen = np.random.default_rng(0)
    basis = np.linalg.qr(gen.standard_normal((4, 2)))[0]          # a plane in R^4
    X = gen.uniform(-1, 1, (300, 2)) @ basis.T
    T, N = tangent_spaces(X, 2, 12)
    assert T.shape == (300, 2, 4) and N.shape == (300, 2, 4)
    assert np.abs(N @ basis).max() < 1e-10                           # normals ⟂ plane
    assert np.allclose(np.einsum("bqi,bqj->bij", T, T), basis @ basis.T, atol=1e-10)


def test_local_frames_centroid_is_the_neighbourhood_mean():
    X = np.random.default_rng(1).standard_normal((50, 3))
    frames = local_frames(X, 6)
    assert (frames.neighbours[:, 0] == np.arange(50)).all()         # itself is nearest
    assert np.allclose(frames.centroids, X[frames.neighbours].mean(axis=1))
    assert (np.diff(frames.eigenvalues, axis=1) <= 1e-14).all()      # largest first


def test_spread_gives_interior_samples_a_weighted_average():
    n, dim, lag = 30, 4, 2
    M = n - (dim - 1) * lag
    delta = spread(np.full((M, dim), 0.7), n, lag, end_metric(dim))
    assert np.allclose(delta[(dim - 1) * lag: M], 0.7)
    assert windows(np.arange(10.0), 3, 2)[1].tolist() == [1.0, 3.0, 5.0]


def test_local_projection_leaves_a_series_on_its_manifold_unchanged():
    # Windows of a sinusoid lie exactly in a plane: nothing to project out.
    s = np.sin(0.3 * np.arange(400)) + 0.5
    assert np.abs(local_projection_filter(s, 5, 1, 2, 12, 2) - s).max() < 1e-10


def test_local_projection_reduces_noise_on_henon():
    x = Henon().trajectory(1500, rng=0)[:, 0]
    y = add_observational_noise(x, 0.05, rng=1)
    clean = denoise(y, 5)
    assert clean.shape == y.shape
    # Measured 2.3-2.6x at these sizes over seeds 0-4 (noise rng = seed + 1); 1x is no effect.
    assert _rms(y, x) / _rms(clean, x) > 1.8


def _small_problem():
    gen = np.random.default_rng(3)
    model = build_autoencoder(3, hidden=4, bottleneck=2, rng=0)
    model.params = model.params + 0.3 * gen.standard_normal(model.n_params)
    X = gen.standard_normal((7, 3))
    T, N = tangent_spaces(X, 2, 4)
    return model, X, T, N


def test_sensitivity_objective_gradient_matches_finite_differences():
    model, X, T, N = _small_problem()
    objective = sensitivity_objective(X, T, N, 0.7, 1.3)
    batch = Batch(X, X)
    w0 = model.params

    def value(w):
        model.params = w
        return objective(model, batch).value

    model.params = w0
    grad = objective(model, batch).grad
    assert relative_error(grad, numerical_gradient(value, w0)) < 1e-6


def test_sensitivity_terms_are_the_stated_jacobian_errors():
    model, X, T, N = _small_problem()
    terms = sensitivity_objective(X, T, N, 1.0, 1.0)(model, Batch(X, X)).terms
    J = model.jacobian(X)
    JT, JN = np.einsum("bij,bqj->bqi", J, T), np.einsum("bij,bqj->bqi", J, N)
    # Means over (window, direction) pairs: J t = t passes, ‖J n‖ is damped.
    assert terms["tangent_pass"] == pytest.approx(0.5 * np.mean(np.sum((JT - T) ** 2, -1)))
    assert terms["normal_damp"] == pytest.approx(0.5 * np.mean(np.sum(JN ** 2, -1)))
    assert set(sensitivity_objective(X, T, N, 0.0, 0.0).names) == {"mse"}


def test_sensitivity_training_makes_the_jacobian_the_tangent_projector():
    # Points on a circle in R^2: tangent (−sin, cos), normal (cos, sin).
    phi = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    X = np.stack([np.cos(phi), np.sin(phi)], axis=1)
    T, N = np.stack([-X[:, 1], X[:, 0]], 1)[:, None], X[:, None]
    errors = {}
    for weights in ((0.0, 0.0), (1.0, 1.0)):
        model = build_autoencoder(2, hidden=12, rng=0)
        jdyn.training.train(model, sensitivity_objective(X, T, N, *weights), X, X,
                            max_iter=400, progress=False)
        JN = np.einsum("bij,bj->bi", model.jacobian(X), N[:, 0])
        errors[weights] = float(np.sqrt(np.mean(np.sum(JN ** 2, -1))))
    assert errors[(1.0, 1.0)] < 0.1 < errors[(0.0, 0.0)]


@pytest.mark.parametrize("method", ["autoencoder", "plain_autoencoder"])
def test_autoencoder_methods_return_a_series_of_the_same_shape(method):
    s = np.sin(0.3 * np.arange(120))
    out = denoise(s + 0.01 * np.random.default_rng(0).standard_normal(120), 3,
                  method=method, n_iter=1, max_iter=20, hidden=6, rng=0)
    assert out.shape == (120,) and np.isfinite(out).all()


@pytest.mark.parametrize("kwargs, word", [
    (dict(series=np.arange(5.0), dim=6), "dim"),
    (dict(series=np.arange(5.0), dim=3, lag=3), "series"),
    (dict(series=[1.0, np.nan, 2.0, 3.0] * 20, dim=3), "series"),
    (dict(series=np.zeros((10, 2)), dim=3), "series"),
    (dict(series=np.arange(50.0), dim=1), "dim"),
    (dict(series=np.arange(50.0), dim=3, n_neighbours=3), "n_neighbours"),
    (dict(series=np.arange(50.0), dim=3, n_neighbours=60), "n_neighbours"),
    (dict(series=np.arange(50.0), dim=3, n_iter=0), "n_iter"),
    (dict(series=np.arange(50.0), dim=3, manifold_dim=3), "manifold_dim"),
    (dict(series=np.arange(50.0), dim=3, method="ghkss"), "method"),
    (dict(series=np.arange(50.0), dim=3, method="autoencoder", n_neighbours=10,
          normal_weight=-1), "normal_weight"),
    (dict(series=np.arange(50.0), dim=3, method="autoencoder"), "n_neighbours"),
    (dict(series=np.ones(50), dim=3), "constant"),
])
def test_bad_input_is_refused_naming_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        denoise(**kwargs)
