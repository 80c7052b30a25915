"""Delay embedding, lag choice (AMI, autocorrelation) and false nearest neighbours."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from jdyn.embedding import (autocorrelation, choose_dim, choose_lag, delay_embed,
                            false_nearest_neighbors, mutual_information)
from jdyn.systems import Henon, Ikeda, Logistic, Lorenz


@pytest.fixture(scope="module")
def henon_x():
    return Henon().trajectory(5000)[:, 0]


@pytest.fixture(scope="module")
def lorenz_x():
    return Lorenz().trajectory(10000, 0.01, transient=1.0)[:, 0]


def test_delay_embed_exact_small_example():
    x = np.arange(7.0)
    E = delay_embed(x, 3, 2)
    np.testing.assert_array_equal(E, [[4, 2, 0], [5, 3, 1], [6, 4, 2]])  # most recent first
    assert E.flags.c_contiguous
    np.testing.assert_array_equal(delay_embed(x, 1, 3), x[:, None])
    np.testing.assert_array_equal(delay_embed(x, 7, 1), x[::-1][None, :])
    assert delay_embed(np.arange(100.0), 4, 5).shape == (100 - 15, 4)


def test_mutual_information_basics():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=20000)
    mi = mutual_information(noise, 5, n_bins=8)
    assert mi.shape == (6,)
    # I(0) is the entropy of the binned series; independent lags carry ~ no information.
    counts = np.histogram(noise, bins=8)[0] / noise.size
    assert mi[0] == pytest.approx(-np.sum(counts[counts > 0] * np.log(counts[counts > 0])))
    assert np.all(mi[1:] < 0.01)
    np.testing.assert_allclose(mutual_information(3 * noise - 2, 5, n_bins=8), mi, rtol=1e-12)


def test_autocorrelation_matches_direct_sum():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=500))
    y = x - x.mean()
    direct = np.array([np.dot(y[: y.size - k], y[k:]) for k in range(21)]) / np.dot(y, y)
    np.testing.assert_allclose(autocorrelation(x, 20), direct, rtol=1e-10, atol=1e-12)


def test_choose_lag_autocorrelation_on_a_sine():
    t = np.arange(5000)
    # r(tau) ~ cos(2 pi tau / 90): first non-positive value at tau = 23 (22.5 rounded up).
    res = choose_lag(np.sin(2 * np.pi * t / 90), max_lag=60, method="autocorrelation")
    assert res.lag == 23 and res.method == "autocorrelation"
    assert res.rule == "first zero crossing"
    assert res.lags.shape == res.curve.shape == (61,)


def test_choose_lag_ami_for_lorenz(lorenz_x):
    res = choose_lag(lorenz_x, max_lag=100)
    # The first AMI minimum of Lorenz x is near a quarter of the ~0.75 rotation time.
    assert 10 <= res.lag <= 25
    assert res.method == "mutual_information" and res.rule == "first local minimum"
    assert res.curve[res.lag] < res.curve[res.lag - 1]
    assert res.curve[res.lag] <= res.curve[res.lag + 1]


def test_choose_lag_falls_back_to_autocorrelation_for_a_monotone_ami(henon_x):
    with pytest.warns(RuntimeWarning, match="no AMI minimum"):
        res = choose_lag(henon_x, max_lag=20)
    assert res.lag == 1 and res.method == "autocorrelation"
    assert res.rule.startswith("no AMI minimum")


@pytest.mark.parametrize("system, n", [(Henon, 2000), (Henon, 20000), (Ikeda, 5000)])
def test_dips_in_the_ami_noise_floor_are_not_minima(system, n):
    # A map's AMI decays to the histogram estimator's floor within a few lags and then
    # wobbles there; with the default max_lag those wobbles once came back as "first
    # minima" at lags 12-25.
    x = system().trajectory(n, rng=0)[:, 0]
    with pytest.warns(RuntimeWarning, match="no AMI minimum"):
        res = choose_lag(x)
    assert res.lag == 1 and res.method == "autocorrelation"


def test_choose_lag_one_over_e_rule():
    # AR(1) with coefficient 0.9: r(tau) ~ 0.9^tau stays > 0.2 up to 15 and drops below
    # 1/e at tau = 10 (0.9^9 = 0.387, 0.9^10 = 0.349).
    rng = np.random.default_rng(2)
    e = rng.normal(size=50000)
    x = np.zeros_like(e)
    for i in range(1, x.size):
        x[i] = 0.9 * x[i - 1] + e[i]
    res = choose_lag(x, max_lag=15, method="autocorrelation")
    assert res.lag == 10 and res.rule.startswith("first drop below 1/e")
    with pytest.warns(RuntimeWarning, match="no rule fired"):
        assert choose_lag(x, max_lag=3, method="autocorrelation").lag == 3


def _fnn_brute_force(x, m, lag, rtol, atol, theiler):
    E = delay_embed(x, m + 1, lag)
    pts, extra = E[:, 1:], E[:, 0]
    D = cdist(pts, pts)
    idx = np.arange(len(pts))
    D[np.abs(idx[:, None] - idx[None, :]) <= theiler] = np.inf
    j = np.argmin(D, axis=1)
    r = D[idx, j]
    gap = np.abs(extra - extra[j])
    return np.mean((gap / r > rtol) | (np.sqrt(r**2 + gap**2) > atol * x.std()))


@pytest.mark.parametrize("theiler", [0, 1, 5, 20])
def test_fnn_matches_brute_force(theiler):
    x = Lorenz().trajectory(400, 0.05, transient=0.0)[:, 0]
    got = false_nearest_neighbors(x, 4, 3, rtol=10.0, atol=2.0, theiler=theiler)
    want = [_fnn_brute_force(x, m, 3, 10.0, 2.0, theiler) for m in range(1, 5)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


def test_fnn_chooses_two_for_henon(henon_x):
    res = choose_dim(henon_x, lag=1, max_dim=6)
    assert res.dim == 2
    assert res.fraction[0] > 0.5 and res.fraction[1] <= 0.01
    np.testing.assert_array_equal(res.dims, np.arange(1, 7))


def test_fnn_chooses_one_for_logistic():
    # The added coordinate is the later one: x[t+1] is a function of x[t] (not vice versa).
    x = Logistic().trajectory(3000)[:, 0]
    assert choose_dim(x, lag=1, max_dim=3).dim == 1


def test_fnn_chooses_three_for_lorenz(lorenz_x):
    res = choose_dim(lorenz_x, lag=17, max_dim=5)
    assert res.dim == 3
    assert res.fraction[1] > 0.02


def test_fnn_on_noise_never_drops_and_warns():
    x = np.random.default_rng(3).normal(size=3000)
    with pytest.warns(RuntimeWarning, match="choose_dim: no dimension"):
        res = choose_dim(x, lag=1, max_dim=4)
    assert res.fraction.min() > 0.1


@pytest.mark.parametrize("series, match", [
    (np.r_[np.arange(50.0), np.nan], "series contains NaN"),
    (np.r_[np.arange(50.0), np.inf], "series contains NaN"),
    (np.ones((50, 2)), "series must be 1-D"),
    (np.full(50, 3.0), "series must be a non-constant"),
    (np.array(["a", "b"]), "series must be a real numeric"),
])
@pytest.mark.parametrize("call", [
    lambda s: delay_embed(s, 2, 1), lambda s: mutual_information(s, 3),
    lambda s: autocorrelation(s, 3), lambda s: choose_lag(s, 3),
    lambda s: false_nearest_neighbors(s, 2, 1), lambda s: choose_dim(s, 1, max_dim=2),
], ids=["embed", "ami", "acf", "choose_lag", "fnn", "choose_dim"])
def test_bad_series(series, match, call):
    with pytest.raises(ValueError, match=match):
        call(series)


@pytest.mark.parametrize("call, match", [
    (lambda x: delay_embed(x, 0, 1), "dim must be >= 1"),
    (lambda x: delay_embed(x, 2, 0), "lag must be >= 1"),
    (lambda x: delay_embed(x, 2.0, 1), "dim must be an integer"),
    (lambda x: delay_embed(x, 2, -3), "lag must be >= 1"),
    (lambda x: delay_embed(x[:9], 4, 3), r"series is too short: 9 samples.*dim=4, lag=3"),
    (lambda x: mutual_information(x, 0), "max_lag must be >= 1"),
    (lambda x: mutual_information(x, 5, n_bins=1), "n_bins must be >= 2"),
    (lambda x: mutual_information(x[:12], 5), "series is too short"),
    (lambda x: autocorrelation(x[:12], 5), "series is too short"),
    (lambda x: choose_lag(x, method="fourier"), "method must be"),
    (lambda x: choose_lag(x, max_lag=0), "max_lag must be >= 1"),
    (lambda x: choose_lag(x[:5]), "series is too short"),
    (lambda x: false_nearest_neighbors(x, 0, 1), "max_dim must be >= 1"),
    (lambda x: false_nearest_neighbors(x, 2, 0), "lag must be >= 1"),
    (lambda x: false_nearest_neighbors(x, 2, 1, rtol=0.0), "rtol must be"),
    (lambda x: false_nearest_neighbors(x, 2, 1, atol=-1.0), "atol must be"),
    (lambda x: false_nearest_neighbors(x, 2, 1, theiler=-1), "theiler must be >= 0"),
    (lambda x: false_nearest_neighbors(x[:30], 10, 2), r"series is too short.*max_dim=10"),
    (lambda x: choose_dim(x, 1, threshold=1.0), r"threshold must be in \[0, 1\)"),
    (lambda x: choose_dim(x, 1, threshold=-0.1), "threshold must be"),
])
def test_bad_arguments(henon_x, call, match):
    with pytest.raises(ValueError, match=match):
        call(henon_x[:300])
