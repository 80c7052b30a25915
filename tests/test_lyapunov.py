"""Lyapunov spectra and the Kaplan–Yorke dimension: identities, literature values,
honest error bars, divergence and bad input."""

import math
import warnings

import numpy as np
import pytest
from scipy.signal import lfilter

from jdyn.analysis import (
    kaplan_yorke_dim,
    lyapunov_spectrum,
    lyapunov_spectrum_from_jacobians,
)
from jdyn.systems import Flow, Henon, Logistic, Lorenz, Map

LN03 = math.log(0.3)
LORENZ_SUM = -(10.0 + 1.0 + 8.0 / 3.0)


def _qr_reference(J):
    """Plain per-step QR (numpy), the textbook algorithm, for one sequence (T, d, d)."""
    d = J.shape[-1]
    Q, s = np.eye(d), np.zeros(d)
    for Jt in J:
        Q, R = np.linalg.qr(Jt @ Q)
        s += np.log(np.abs(np.diag(R)))
    return np.sort(s / len(J))[::-1]


class HenonLike:
    """A Map-like object with single-state functions only (as a learned model might be)."""

    is_flow = False
    x0 = np.array([0.1, 0.1])

    def step(self, x):
        return np.array([1.0 - 1.4 * (x[0] * x[0]) + x[1], 0.3 * x[0]])

    def jacobian(self, x):
        return np.array([[-2.8 * x[0], 1.0], [0.3, 0.0]])


# -- exact identities ------------------------------------------------------------------
def test_henon_sum_is_ln_b_to_rounding():
    res = lyapunov_spectrum(Henon(), 20_000, n_orbits=8, rng=0)
    assert abs(res.exponents.sum() - LN03) < 1e-12
    np.testing.assert_allclose(res.per_orbit.sum(axis=1), LN03, rtol=0, atol=1e-12)
    assert res.exponents[0] > res.exponents[1]


@pytest.mark.parametrize("diag", [(0.9,), (0.3, 0.9), (0.9, -0.5, 0.2), (0.7, -0.95, 0.4, 0.1)])
def test_diagonal_linear_map_gives_ln_abs_diagonal(diag):
    A = np.diag(diag)
    system = Map(lambda x: A @ x, lambda x: A, np.ones(len(diag)), name="linear")
    res = lyapunov_spectrum(system, 3000, n_orbits=1, transient=100, rng=1)
    expected = np.sort(np.log(np.abs(diag)))[::-1]
    np.testing.assert_allclose(res.exponents, expected, rtol=0, atol=1e-12)


def test_diagonal_jacobians_including_expanding_ones():
    diag = np.array([3.0, 0.5, -2.0, 1e-3])
    J = np.broadcast_to(np.diag(diag), (5000, 4, 4))
    res = lyapunov_spectrum_from_jacobians(J)
    np.testing.assert_allclose(res.exponents, np.sort(np.log(np.abs(diag)))[::-1],
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.stderr, 0.0, atol=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_block_products_match_per_step_qr(d):
    rng = np.random.default_rng(d)
    J = rng.normal(size=(3000, d, d))
    res = lyapunov_spectrum_from_jacobians(J)
    np.testing.assert_allclose(res.exponents, _qr_reference(J), rtol=0, atol=1e-10)
    sign, logdet = np.linalg.slogdet(J)
    assert abs(res.exponents.sum() - logdet.mean()) < 1e-10


def test_several_sequences_and_sampling_interval():
    rng = np.random.default_rng(3)
    J = rng.normal(size=(10, 500, 3, 3))
    res = lyapunov_spectrum_from_jacobians(J, dt=0.5)
    per = np.array([_qr_reference(j) for j in J]) / 0.5
    np.testing.assert_allclose(np.sort(res.per_orbit, axis=1)[:, ::-1], per, atol=1e-10)
    np.testing.assert_allclose(res.exponents, res.per_orbit.mean(axis=0), atol=1e-14)
    assert res.stderr_method == "orbits" and res.n_orbits == 10 and res.dt == 0.5
    np.testing.assert_allclose(res.stderr, res.per_orbit.std(axis=0, ddof=1) / math.sqrt(10))


def test_lorenz_sum_is_minus_trace_to_integrator_tolerance():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # orbits too short to decorrelate: not the point
        res = lyapunov_spectrum(Lorenz(), 50, n_orbits=8, dt=0.1, transient=1.0, rng=0)
    assert abs(res.exponents.sum() - LORENZ_SUM) < 1e-8
    np.testing.assert_allclose(res.per_orbit.sum(axis=1), LORENZ_SUM, atol=1e-8)
    assert res.dt == 0.1 and res.n_steps == 50


def test_user_map_and_map_like_object_agree_with_builtin():
    like = lyapunov_spectrum(HenonLike(), 3000, n_orbits=8, rng=5)
    user = lyapunov_spectrum(Map(HenonLike().step, HenonLike().jacobian, [0.1, 0.1]),
                             3000, n_orbits=8, rng=5)
    np.testing.assert_array_equal(like.exponents, user.exponents)  # same arithmetic
    # The built-in rounds differently, so its chaotic orbits differ: agree statistically.
    ref = lyapunov_spectrum(Henon(), 3000, n_orbits=8, rng=5, x0=[0.1, 0.1])
    assert abs(like.exponents[0] - ref.exponents[0]) < 5 * math.hypot(like.stderr[0],
                                                                       ref.stderr[0])


# -- literature values -------------------------------------------------------------------
def test_henon_literature_values_and_kaplan_yorke():
    res = lyapunov_spectrum(Henon(), 15_625, n_orbits=64, rng=11)
    assert abs(res.exponents[0] - 0.41922) < 0.002
    assert abs(res.exponents[1] + 1.62319) < 0.002
    assert abs(res.kaplan_yorke - 1.258) < 0.005
    assert res.stderr[0] < 0.001 and res.kaplan_yorke_stderr < 0.001


def test_logistic_r4_gives_ln2():
    res = lyapunov_spectrum(Logistic(), 25_000, n_orbits=16, rng=2)
    assert abs(res.exponents[0] - math.log(2)) < 0.005
    assert res.kaplan_yorke == 1.0


@pytest.mark.slow
def test_lorenz_literature_values():
    res = lyapunov_spectrum(Lorenz(), 1000, n_orbits=100, dt=0.1, rng=4)
    for got, want, tol in zip(res.exponents, (0.9056, 0.0, -14.5723), (0.01, 0.01, 0.05)):
        assert abs(got - want) < tol
    # The zero exponent: an honest error bar covers 0 at about the 1-sigma rate, so the
    # test allows 3 sigma (a 1-sigma test would fail a third of the time).
    assert abs(res.exponents[1]) < 3 * res.stderr[1]
    assert abs(res.kaplan_yorke - 2.06215) < 0.01


# -- honest error bars -------------------------------------------------------------------
def _spread_ratio(estimates, stderrs):
    """Spread of independent estimates over the RMS of their reported errors."""
    return np.std(estimates, ddof=1) / np.sqrt(np.mean(np.square(stderrs)))


def test_stderr_across_orbits_matches_spread_across_seeds():
    runs = [lyapunov_spectrum(Henon(), 1000, n_orbits=8, transient=100, rng=100 + s)
            for s in range(60)]
    ratio = _spread_ratio([r.exponents[0] for r in runs], [r.stderr[0] for r in runs])
    assert all(r.stderr_method == "orbits" for r in runs)
    assert 0.5 < ratio < 2.0


def test_stderr_from_blocks_of_one_sequence_matches_spread():
    henon, k, T = Henon(), 30, 20_000
    X = henon.x0 + 1e-6 * np.random.default_rng(0).normal(size=(k, 2))
    for _ in range(500):
        X = henon.step_batch(X)
    states = np.empty((T, k, 2))
    for t in range(T):
        states[t], X = X, henon.step_batch(X)
    J = henon.jacobian_batch(states.reshape(-1, 2)).reshape(T, k, 2, 2)
    runs = [lyapunov_spectrum_from_jacobians(J[:, o], discard=100) for o in range(k)]
    assert all(r.stderr_method == "blocks" and r.n_blocks == 32 for r in runs)
    assert 0.5 < _spread_ratio([r.exponents[0] for r in runs], [r.stderr[0] for r in runs]) < 2.0


def _ar1_jacobians(rng, T, phi):
    """1-D 'Jacobians' exp(z_t) with z an AR(1) series of unit variance: strongly
    correlated local stretching (correlation time (1 + phi) / (1 - phi) steps)."""
    e = rng.normal(size=T) * math.sqrt(1 - phi ** 2)
    e[0] = rng.normal()
    z = lfilter([1.0], [1.0, -phi], e)
    return np.exp(z)[:, None, None]


def test_short_blocks_understate_correlated_errors_default_blocks_do_not():
    # Batch means are honest only if blocks are much longer than the correlation time
    # (here 39 steps): 5-step blocks must understate the error by a factor ~3, the
    # default (32 blocks of 3125 steps) must not.
    phi, rng = 0.95, np.random.default_rng(7)
    tau = (1 + phi) / (1 - phi)
    default, short = [], []
    for _ in range(12):
        default.append(lyapunov_spectrum_from_jacobians(_ar1_jacobians(rng, 100_000, phi)))
        short.append(lyapunov_spectrum_from_jacobians(_ar1_jacobians(rng, 5000, phi),
                                                      n_blocks=1000))
    assert default[0].n_blocks == 32 and short[0].n_blocks == 1000
    rms = lambda runs: np.sqrt(np.mean([r.stderr[0] ** 2 for r in runs]))  # noqa: E731
    assert 0.7 < rms(default) / math.sqrt(tau / 100_000) < 1.3
    assert rms(short) / math.sqrt(tau / 5000) < 0.5


def test_transient_too_short_for_independent_orbits_warns():
    with pytest.warns(RuntimeWarning, match="not yet independent"):
        lyapunov_spectrum(Henon(), 100, n_orbits=4, transient=0, rng=0)


# -- divergence -------------------------------------------------------------------------
def _first_overflow(x):
    with np.errstate(over="ignore"):
        for t in range(10_000):
            if not (np.isfinite(x) and np.isfinite(2 * x)):
                return t
            x = x * x + 2.0


def test_diverging_map_gives_nan_and_names_the_step():
    system = Map(lambda x: x * x + 2.0, lambda x: np.array([[2.0 * x[0]]]), [0.0], name="blowup")
    step = _first_overflow(0.0)
    with pytest.warns(RuntimeWarning, match=rf"non-finite at iteration {step}\b"):
        res = lyapunov_spectrum(system, 100, n_orbits=1, transient=0, rng=0)
    assert res.diverged and np.isnan(res.exponents).all() and np.isnan(res.kaplan_yorke)
    assert f"iteration {step}" in res.reason


def test_one_diverging_orbit_among_several():
    J = np.full((3, 50, 1, 1), 0.5)
    J[1, 20:] = np.inf
    with pytest.warns(RuntimeWarning, match="orbit 1 became non-finite at step 20"):
        res = lyapunov_spectrum_from_jacobians(J)
    assert np.isnan(res.exponents).all() and res.diverged
    np.testing.assert_allclose(res.per_orbit[[0, 2], 0], math.log(0.5))
    assert np.isnan(res.per_orbit[1]).all()


def test_jacobian_sequence_with_nan_warns_with_step():
    J = np.tile(np.eye(2), (30, 1, 1))
    J[17, 0, 1] = np.nan
    with pytest.warns(RuntimeWarning, match="J became non-finite at step 17"):
        res = lyapunov_spectrum_from_jacobians(J)
    assert np.isnan(res.exponents).all()


def test_flow_blowing_up_in_finite_time_gives_nan():
    # x' = x^2 from x0 blows up at t = 1 / x0 = 1.55 (+- 0.003 from the perturbation).
    system = Flow(lambda x: x * x, lambda x: np.array([[2.0 * x[0]]]), [1 / 1.55], name="blowup")
    with pytest.warns(RuntimeWarning, match="re-orthonormalisation step 15 "):
        res = lyapunov_spectrum(system, 50, n_orbits=1, dt=0.1, transient=0.0, rng=0)
    assert res.diverged and np.isnan(res.exponents).all()


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, name", [
    (dict(n_steps=0), "n_steps"), (dict(n_orbits=0), "n_orbits"), (dict(dt=0.1), "dt"),
    (dict(x0=[np.nan, 0.0]), "x0"), (dict(x0=[[0.0, 0.0]]), "x0"),
    (dict(stderr_method="bootstrap"), "stderr_method"), (dict(transient=-1), "transient"),
    (dict(n_orbits=1, stderr_method="orbits"), "stderr_method"), (dict(n_blocks=1), "n_blocks"),
])
def test_bad_arguments_for_maps(kwargs, name):
    args = dict(n_steps=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        lyapunov_spectrum(Henon(), args.pop("n_steps"), **args)


@pytest.mark.parametrize("dt", [0.0, -0.1, np.inf])
def test_bad_dt_for_flows(dt):
    with pytest.raises(ValueError, match="dt"):
        lyapunov_spectrum(Lorenz(), 10, dt=dt)


def test_jacobian_of_wrong_shape():
    system = Map(HenonLike().step, lambda x: np.eye(3), [0.1, 0.1], name="bad")
    with pytest.raises(ValueError, match="jacobian"):
        lyapunov_spectrum(system, 10)

    class BadBatch(HenonLike):
        def jacobian_batch(self, X):
            return np.zeros((len(X), 2))

    with pytest.raises(ValueError, match="jacobian_batch"):
        lyapunov_spectrum(BadBatch(), 10)


def test_not_a_system():
    with pytest.raises(ValueError, match="system"):
        lyapunov_spectrum(object(), 10)


@pytest.mark.parametrize("J", [np.zeros((10, 2, 3)), np.zeros((10, 2)), np.zeros((2, 3, 4, 2, 2)),
                               np.zeros((0, 2, 2)), "abc"])
def test_bad_jacobian_sequences(J):
    with pytest.raises(ValueError, match="J"):
        lyapunov_spectrum_from_jacobians(J)


def test_bad_options_for_sequences():
    J = np.tile(np.eye(2), (10, 1, 1))
    with pytest.raises(ValueError, match="dt"):
        lyapunov_spectrum_from_jacobians(J, dt=0)
    with pytest.raises(ValueError, match="discard"):
        lyapunov_spectrum_from_jacobians(J, discard=10)
    with pytest.raises(ValueError, match="n_blocks"):
        lyapunov_spectrum_from_jacobians(J, n_blocks=1)


def test_result_is_frozen():
    res = lyapunov_spectrum_from_jacobians(np.tile(np.eye(2), (10, 1, 1)))
    with pytest.raises(AttributeError):
        res.exponents = None


# -- Kaplan–Yorke -------------------------------------------------------------------------
@pytest.mark.parametrize("exponents, expected", [
    ((0.41922, -1.62319), 1 + 0.41922 / 1.62319),
    ((0.9056, 0.0, -14.5723), 2 + 0.9056 / 14.5723),
    ((-1.62319, 0.41922), 1 + 0.41922 / 1.62319),      # any order
    ((-0.1, -2.0), 0.0),                                # all negative: a stable point
    ((0.5, 0.2), 2.0),                                  # every partial sum >= 0: d
    ((0.5, -0.5), 2.0),                                 # a zero partial sum counts
    ((1.0, -0.5, -1.0), 2.5),
    ((0.3, -np.inf), 1.0),
    ((0.0,), 1.0),
])
def test_kaplan_yorke(exponents, expected):
    assert kaplan_yorke_dim(exponents) == pytest.approx(expected, abs=1e-14)


def test_kaplan_yorke_nan_and_bad_input():
    assert math.isnan(kaplan_yorke_dim([0.1, np.nan]))
    for bad in ([], [[0.1, -1.0]], [np.inf, -1.0], "x"):
        with pytest.raises(ValueError, match="exponents"):
            kaplan_yorke_dim(bad)


def test_no_warning_on_a_clean_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lyapunov_spectrum(Henon(), 500, n_orbits=8, rng=0)
