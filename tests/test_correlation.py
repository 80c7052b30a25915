"""Correlation sums (exact against brute force), correlation dimension and slope fits."""

import functools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from jdyn.analysis import (
    SlopeFit,
    correlation_dim,
    correlation_sum,
    fit_slope,
    fixed_region,
    linear_region,
)
from jdyn.analysis.correlation import _pair_counts
from jdyn.systems import Henon, Lorenz


def _sq_distances_like_scipy(X):
    """Squared distances of all pairs, summed in the KD-tree's order (4 accumulators)."""
    sq = (X[:, None, :] - X[None, :, :]) ** 2
    m = X.shape[1]
    if m < 4:
        d = sq[..., 0].copy()
        for i in range(1, m):
            d = d + sq[..., i]
        return d
    n4 = m // 4 * 4
    acc = sq[..., 0:4].copy()
    for i in range(4, n4, 4):
        acc = acc + sq[..., i:i + 4]
    d = ((acc[..., 0] + acc[..., 1]) + acc[..., 2]) + acc[..., 3]
    for i in range(n4, m):
        d = d + sq[..., i]
    return d


def brute_force(X, radii, w, metric):
    """O(N^2) pair counts with |i - j| > w and distance <= r, and the number of pairs."""
    if metric == "chebyshev":
        D, thresholds = np.abs(X[:, None, :] - X[None, :, :]).max(axis=-1), radii
    else:  # squared distance against r**2 as C pow() rounds it, like the KD-tree
        D = _sq_distances_like_scipy(X)
        thresholds = np.array([math.pow(r, 2.0) for r in radii])
    i, j = np.triu_indices(len(X), 1)
    d = D[i, j][(j - i) > w]
    return np.array([(d <= t).sum() for t in thresholds]), d.size


@st.composite
def point_sets(draw):
    N = draw(st.integers(2, 30))
    m = draw(st.integers(1, 5))
    if draw(st.booleans()):  # a grid: many exact ties
        scale = draw(st.sampled_from([1.0, 0.1, 1 / 3]))
        X = draw(arrays(np.int64, (N, m), elements=st.integers(-3, 3))) * scale
    else:
        X = draw(arrays(np.float64, (N, m), elements=st.floats(-10, 10, width=64)))
    w = draw(st.integers(0, N - 2))
    metric = draw(st.sampled_from(["euclidean", "chebyshev"]))
    radii = draw(st.lists(st.floats(1e-3, 30), min_size=1, max_size=4))
    D = (np.sqrt(_sq_distances_like_scipy(X)) if metric == "euclidean"
         else np.abs(X[:, None] - X[None]).max(-1))
    exact = sorted(set(D[D > 0].tolist()))
    if exact:  # radii equal to pair distances test the <= convention
        radii += draw(st.lists(st.sampled_from(exact), min_size=1, max_size=4))
    return np.asarray(X, float), np.array(radii), w, metric


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(point_sets())
def test_correlation_sum_equals_brute_force_exactly(case):
    X, radii, w, metric = case
    counts, n_pairs = brute_force(X, radii, w, metric)
    C = correlation_sum(X, radii, theiler_window=w, metric=metric)
    np.testing.assert_array_equal(C, counts / n_pairs)
    # Reference-point counting with every point as reference counts each pair twice.
    p = 2.0 if metric == "euclidean" else np.inf
    c2, n2 = _pair_counts(X, radii, w, p, np.arange(len(X)))
    np.testing.assert_array_equal(c2, 2 * counts)
    assert n2 == 2 * n_pairs


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(point_sets(), st.data())
def test_reference_subset_counts_are_exact_for_that_subset(case, data):
    X, radii, w, metric = case
    N = len(X)
    ref = np.array(sorted(data.draw(st.sets(st.integers(0, N - 1), min_size=1, max_size=N))))
    p = 2.0 if metric == "euclidean" else np.inf
    counts, n_pairs = _pair_counts(X, radii, w, p, ref)
    D = (_sq_distances_like_scipy(X) if metric == "euclidean"
         else np.abs(X[:, None] - X[None]).max(-1))
    thresholds = (np.array([math.pow(r, 2.0) for r in radii]) if metric == "euclidean"
                  else radii)
    lag = np.abs(np.arange(N)[:, None] - np.arange(N)[None, :])
    allowed = (lag > w)[ref]
    assert n_pairs == allowed.sum()
    np.testing.assert_array_equal(counts, [(D[ref][allowed] <= t).sum() for t in thresholds])


def test_conventions_self_pairs_ties_and_theiler_window():
    X = np.array([[0.0], [1.0], [3.0]])
    # pairs: (0,1) d=1 lag 1; (1,2) d=2 lag 1; (0,2) d=3 lag 2
    np.testing.assert_array_equal(correlation_sum(X, [0.5, 1.0, 2.0, 3.0]),
                                  [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_array_equal(correlation_sum(X, [1.0, 3.0], theiler_window=1), [0, 1])
    np.testing.assert_array_equal(correlation_sum(X[:, 0], [1.0]), [1 / 3])  # 1-D input


def test_subsampled_sum_is_close_to_exact():
    X = Henon().trajectory(4000, rng=0)
    radii = [0.01, 0.05, 0.2]
    exact = correlation_sum(X, radii, theiler_window=2)
    sub = correlation_sum(X, radii, theiler_window=2, n_reference=1000, rng=1)
    np.testing.assert_allclose(sub, exact, rtol=0.1)
    assert np.array_equal(correlation_sum(X, radii, n_reference=4000), correlation_sum(X, radii))


# -- correlation dimension ---------------------------------------------------------------
def test_henon_correlation_dimension_from_20000_points():
    res = correlation_dim(Henon().trajectory(20_000, rng=3))
    assert abs(res.dimension - 1.21) < 0.03
    assert res.n_reference == res.n_points == 20_000
    lo, hi = res.fit_range
    assert res.radii[0] <= lo < hi <= res.radii[-1]
    assert res.local_slopes.shape == (res.radii.size - 1,)
    assert np.all(np.diff(res.csum) >= 0) and np.all(res.counts >= 1000)
    assert 0 < res.stderr < 0.1 and res.fit.stderr_method == "local-slope spread"


@pytest.mark.slow
def test_lorenz_correlation_dimension():
    X = Lorenz().trajectory(20_000, 0.1, rng=0, rtol=1e-8, atol=1e-10)
    res = correlation_dim(X, theiler_window=10)
    assert abs(res.dimension - 2.05) < 0.05


def test_large_sets_subsample_reference_points():
    X = Henon().trajectory(25_000, rng=4)
    res = correlation_dim(X, rng=0)
    assert res.n_reference == 400_000_000 // 25_000
    assert abs(res.dimension - 1.21) < 0.05


def test_user_fit_rules():
    X = Henon().trajectory(3000, rng=5)
    fixed = correlation_dim(X, fit=(0.01, 0.2))
    assert 0.01 <= fixed.fit_range[0] and fixed.fit_range[1] <= 0.2
    assert fixed.fit.method.startswith("fixed_region")
    tight = correlation_dim(X, fit=functools.partial(linear_region, tol=0.3, min_points=4))
    assert tight.fit.method == "linear_region(tol=0.3, min_points=4)"


# -- slope fits ------------------------------------------------------------------------------
def _kinked(n=40):
    x = np.linspace(0, 10, n)
    y = np.where(x < 3, 2 * 3 + 0.2 * (x - 3), np.where(x > 7, 2 * 7 + 0.1 * (x - 7), 2 * x))
    return x, y


def test_linear_region_picks_the_straight_part():
    x, y = _kinked()
    fit = linear_region(x, y)
    assert fit.slope == pytest.approx(2.0, abs=1e-12)
    assert 3 <= fit.fit_range[0] <= 3.3 and 6.7 <= fit.fit_range[1] <= 7
    assert fit.stderr == pytest.approx(0.0, abs=1e-12)
    lo, hi = fit.confidence_interval()
    assert lo <= fit.slope <= hi
    assert isinstance(fit, SlopeFit) and fit.local_slopes.shape == (39,)


def test_fixed_region_and_dispatch():
    x, y = _kinked()
    assert fixed_region(x, y, 0.0, 2.5).slope == pytest.approx(0.2)
    assert fit_slope(x, y, (4.0, 6.0)).slope == pytest.approx(2.0)
    assert fit_slope(x, y, lambda a, b: fixed_region(a, b, 8, 10)).slope == pytest.approx(0.1)
    with pytest.raises(ValueError, match="SlopeFit"):
        fit_slope(x, y, lambda a, b: 1.0)
    with pytest.raises(ValueError, match="fit"):
        fit_slope(x, y, "auto")
    with pytest.raises(ValueError, match="holds 1 points"):
        fixed_region(x, y, 4.05, 4.2)


def test_slope_fit_bad_input():
    x = np.linspace(0, 1, 10)
    noisy = np.random.default_rng(0).normal(size=10) * 10
    with pytest.raises(ValueError, match="no scaling region"):
        linear_region(x, noisy, tol=0.01)
    with pytest.raises(ValueError, match="at least 5"):
        linear_region(x[:3], x[:3])
    with pytest.raises(ValueError, match="increasing"):
        linear_region(x[::-1], x)
    with pytest.raises(ValueError, match="x"):
        linear_region(np.r_[x[:-1], np.nan], x)
    with pytest.raises(ValueError, match="tol"):
        linear_region(x, x, tol=0)


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize("points, kwargs, name", [
    (np.array([[0.0], [np.nan], [1.0]]), {}, "points"),
    (np.array([[0.0], [np.inf], [1.0]]), {}, "points"),
    (np.zeros((3, 2, 2)), {}, "points"),
    (np.arange(10.0), dict(radii=[0.0]), "radii"),
    (np.arange(10.0), dict(radii=[-1.0, 1.0]), "radii"),
    (np.arange(10.0), dict(radii=[[1.0]]), "radii"),
    (np.arange(10.0), dict(radii=[]), "radii"),
    (np.arange(10.0), dict(theiler_window=-1), "theiler_window"),
    (np.arange(10.0), dict(theiler_window=9), "theiler_window"),
    (np.arange(10.0), dict(metric="cosine"), "metric"),
    (np.arange(10.0), dict(n_reference=0), "n_reference"),
])
def test_correlation_sum_bad_input(points, kwargs, name):
    args = dict(radii=[1.0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        correlation_sum(points, args.pop("radii"), **args)


def test_correlation_dim_bad_input():
    with pytest.raises(ValueError, match="constant"):
        correlation_dim(np.ones((100, 2)))
    with pytest.raises(ValueError, match="min_pairs"):
        correlation_dim(np.random.default_rng(0).normal(size=(50, 2)))
    with pytest.raises(ValueError, match="n_reference"):
        correlation_dim(np.arange(100.0), n_reference="some")
    with pytest.raises(ValueError, match="radii"):
        correlation_dim(np.arange(100.0), fit=(0.0, 1.0))
