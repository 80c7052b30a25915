"""Ground-truth systems: Jacobians, identities, trajectories, noise and bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from jdyn.systems import (Flow, Henon, Ikeda, Logistic, Lorenz, Map, Rossler, Tent,
                          add_observational_noise, get_system, list_systems, observe)

MAPS = [Henon, Logistic, Tent, Ikeda]
FLOWS = [Lorenz, Rossler]


def _orbit(system, n=400):
    if system.is_flow:
        return system.trajectory(n, 0.05, transient=0.0)
    return system.trajectory(n, transient=0)


ORBITS = {cls: (cls(), _orbit(cls())) for cls in MAPS + FLOWS}


def _central_difference(f, x, h):
    d = x.size
    J = np.empty((d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        J[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return J


@pytest.mark.parametrize("cls", MAPS + FLOWS, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None)
@given(i=st.integers(0, 399), u=st.lists(st.floats(-1, 1), min_size=3, max_size=3))
def test_jacobian_matches_central_differences(cls, i, u):
    system, orbit = ORBITS[cls]
    x = orbit[i] + 1e-3 * np.asarray(u[:system.dim]) * (1 + np.abs(orbit[i]))
    if cls is Tent and abs(x[0] - 0.5) < 1e-5:
        return  # the kink
    f = system.rhs if system.is_flow else system.step
    h = 1e-6 * (1 + np.abs(x).max())
    fd = _central_difference(f, x, h)
    J = system.jacobian(x)
    assert J.shape == (system.dim, system.dim)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-6 * (1 + np.abs(J).max()))


@pytest.mark.parametrize("cls", MAPS + FLOWS, ids=lambda c: c.__name__)
def test_batch_forms_agree_with_single_state(cls):
    system, orbit = ORBITS[cls]
    X = orbit[:50]
    f = system.rhs if system.is_flow else system.step
    fb = system.rhs_batch if system.is_flow else system.step_batch
    np.testing.assert_allclose(fb(X), np.array([f(x) for x in X]), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(system.jacobian_batch(X), np.array([system.jacobian(x) for x in X]),
                               rtol=1e-14, atol=1e-14)
    assert fb(X[:0]).shape == (0, system.dim)


def test_user_map_batch_defaults_loop_and_check_shapes():
    h = Henon()
    user = Map(h.step, h.jacobian, h.x0, name="user-henon")
    X = ORBITS[Henon][1][:20]
    np.testing.assert_array_equal(user.step_batch(X), h.step_batch(X))
    np.testing.assert_array_equal(user.jacobian_batch(X), h.jacobian_batch(X))
    np.testing.assert_array_equal(user.trajectory(30, transient=5), h.trajectory(30, transient=5))
    with pytest.raises(ValueError, match=r"X has shape \(4, 3\)"):
        user.step_batch(np.zeros((4, 3)))


def test_henon_determinant_is_minus_b_exactly():
    for b in (0.3, -0.7, 0.123):
        h = Henon(b=b)
        J = h.jacobian_batch(_orbit(Henon()))
        det = J[:, 0, 0] * J[:, 1, 1] - J[:, 0, 1] * J[:, 1, 0]
        assert np.all(det == -b)
        assert h.reference["lyapunov_sum"] == math.log(abs(b))


def test_ikeda_determinant_is_u_squared():
    J = Ikeda().jacobian_batch(ORBITS[Ikeda][1])
    np.testing.assert_allclose(np.linalg.det(J), 0.81, rtol=1e-12)


def test_lorenz_divergence_is_constant():
    lor = Lorenz()
    expected = -(10 + 1 + 8 / 3)
    traces = np.trace(lor.jacobian_batch(ORBITS[Lorenz][1]), axis1=1, axis2=2)
    np.testing.assert_allclose(traces, expected, rtol=1e-15)
    assert lor.divergence(lor.x0) == pytest.approx(expected, rel=1e-15)
    assert Flow.divergence(lor, lor.x0) == pytest.approx(expected, rel=1e-15)
    assert lor.reference["lyapunov_sum"] == pytest.approx(-13.6666667, abs=1e-7)


def test_linear_flow_matches_matrix_exponential():
    A = np.array([[-0.1, 2.0], [-2.0, -0.1]])
    flow = Flow(lambda x: A @ x, lambda x: A, [1.0, 0.5], name="linear")
    X = flow.trajectory(60, 0.1, transient=0.3)
    expected = np.array([expm(A * (0.3 + 0.1 * k)) @ flow.x0 for k in range(60)])
    # Global error of DOP853 at rtol=1e-10 over a few time units: ~1e-11 on O(1) values.
    np.testing.assert_allclose(X, expected, rtol=1e-9, atol=1e-9)


def test_flow_sampling_does_not_depend_on_dt():
    lor = Lorenz()
    fine = lor.trajectory(101, 0.01, transient=0.5)
    coarse = lor.trajectory(2, 1.0, transient=0.5)
    np.testing.assert_allclose(fine[[0, -1]], coarse, rtol=1e-7)


def test_map_transient_semantics():
    h = Henon()
    full = h.trajectory(30, transient=0)
    np.testing.assert_array_equal(full[0], h.x0)
    np.testing.assert_array_equal(h.trajectory(10, transient=20), full[20:30])
    np.testing.assert_array_equal(h.trajectory(5, x0=[0.1, 0.1], transient=0)[0], [0.1, 0.1])


@pytest.mark.parametrize("make", [lambda: Henon(), lambda: Lorenz()], ids=["map", "flow"])
def test_dynamical_noise_is_reproducible_with_seeds(make):
    system = make()
    kw = dict(dt=0.05, transient=0.2) if system.is_flow else dict(transient=10)
    a = system.trajectory(40, rng=7, dynamical_noise=1e-3, **kw)
    b = system.trajectory(40, rng=np.random.default_rng(7), dynamical_noise=1e-3, **kw)
    c = system.trajectory(40, rng=8, dynamical_noise=1e-3, **kw)
    clean = system.trajectory(40, rng=7, **kw)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a, clean)
    np.testing.assert_array_equal(clean, system.trajectory(40, **kw))


def test_map_dynamical_noise_has_the_right_variance():
    # x -> 0.5 x + s e is AR(1): stationary variance s^2 / (1 - 0.25).
    ar = Map(lambda x: 0.5 * x, lambda x: np.array([[0.5]]), [0.0], name="ar1")
    s = 0.2
    X = ar.trajectory(40000, transient=50, rng=1, dynamical_noise=s)[:, 0]
    assert X.var() == pytest.approx(s**2 / 0.75, rel=0.04)


def test_flow_dynamical_noise_is_added_per_sample():
    still = Flow(lambda x: np.zeros(2), lambda x: np.zeros((2, 2)), [1.0, -1.0], name="still")
    X = still.trajectory(1001, 0.1, transient=0.0, rng=3, dynamical_noise=0.05)
    np.testing.assert_array_equal(X[0], [1.0, -1.0])
    steps = np.diff(X, axis=0)
    assert steps.std() == pytest.approx(0.05, rel=0.05)
    assert abs(steps.mean()) < 4 * 0.05 / np.sqrt(steps.size)


def test_observational_noise_level_and_seeding():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(0, 3.0, 50000), rng.normal(5, 0.1, 50000),
                         np.full(50000, 2.0)])
    noisy = add_observational_noise(X, 0.1, rng=11)
    resid = noisy - X
    np.testing.assert_allclose(resid[:, :2].std(axis=0), 0.1 * X[:, :2].std(axis=0), rtol=0.02)
    np.testing.assert_array_equal(resid[:, 2], 0.0)
    np.testing.assert_array_equal(noisy, add_observational_noise(X, 0.1, rng=11))
    same = add_observational_noise(X, 0, rng=11)
    np.testing.assert_array_equal(same, X)
    assert same is not X
    series = add_observational_noise(X[:, 0], 0.05, rng=2)
    assert series.shape == (50000,)


def test_observe_picks_coordinates():
    X = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(observe(X, 1), [1, 4, 7, 10])
    assert observe(X, [2, 0]).shape == (4, 2)
    np.testing.assert_array_equal(observe(X, (0,)), X[:, :1])
    for bad in (3, -1, [0, 5], [], 1.0, "x", True):
        with pytest.raises(ValueError, match="coords"):
            observe(X, bad)
    with pytest.raises(ValueError, match="X must be 2-D"):
        observe(np.arange(3.0), 0)


def test_diverging_map_orbit_warns_and_fills_nan():
    with pytest.warns(RuntimeWarning, match=r"logistic: orbit diverged .* at iteration \d+"):
        X = Logistic(r=4.3).trajectory(3000, transient=0)
    bad = np.isnan(X[:, 0])
    first = int(np.argmax(bad))
    assert 0 < first < 3000 and bad[first:].all() and np.isfinite(X[:first]).all()
    with pytest.warns(RuntimeWarning, match="transient iteration"):
        X = Logistic(r=4.3).trajectory(10, transient=5000)
    assert np.isnan(X).all()


def test_map_overflow_exception_counts_as_divergence():
    m = Map(lambda x: np.array([float(x[0]) ** 2 + 1.0]), lambda x: np.array([[2 * x[0]]]),
            [2.0], name="square")
    with pytest.warns(RuntimeWarning, match="square: orbit diverged .* iteration 10"):
        X = m.trajectory(20, transient=0)
    assert np.isfinite(X[:10]).all() and np.isnan(X[10:]).all()


def test_diverging_flow_warns_and_fills_nan():
    blow = Flow(lambda x: x**2, lambda x: np.diag(2 * x), [1.0], name="blowup")  # x = 1/(1-t)
    for noise in (0.0, 1e-6):
        with pytest.warns(RuntimeWarning, match=r"blowup: orbit diverged .* sample 1\d"):
            X = blow.trajectory(30, 0.1, transient=0.0, rng=0, dynamical_noise=noise)
        np.testing.assert_allclose(X[:9, 0], 1 / (1 - 0.1 * np.arange(9)), rtol=1e-4)
        assert np.isnan(X[11:]).all()
    with pytest.warns(RuntimeWarning, match="the transient"):
        assert np.isnan(blow.trajectory(5, 0.1, transient=2.0)).all()


def test_user_functions_are_validated():
    good_j = lambda x: np.eye(2)  # noqa: E731
    with pytest.raises(ValueError, match=r"bad: step returned shape \(3,\) .* expected \(2,\)"):
        Map(lambda x: np.zeros(3), good_j, [0.0, 0.0], name="bad")
    with pytest.raises(ValueError, match=r"jacobian returned shape \(2,\) .* expected \(2, 2\)"):
        Map(lambda x: x, lambda x: np.ones(2), [0.0, 0.0])
    with pytest.raises(ValueError, match=r"step returned NaN or inf at x = \[0.0, 1.0\]"):
        Map(lambda x: np.array([np.nan, 0.0]), good_j, [0.0, 1.0])
    with pytest.raises(ValueError, match="step must return a real array"):
        Map(lambda x: "no", good_j, [0.0, 0.0])
    with pytest.raises(ValueError, match=r"rhs returned shape \(\)"):
        Flow(lambda x: 1.0, good_j, [0.0, 0.0])
    with pytest.raises(ValueError, match=r"X has shape"):
        Flow(lambda x: x, good_j, [0.0, 0.0]).rhs_batch(np.zeros(2))
    with pytest.raises(ValueError, match="step must be callable"):
        Map(3, good_j, [0.0])
    with pytest.raises(ValueError, match="jacobian must be callable or None"):
        Flow(lambda x: x, 3, [0.0])
    with pytest.raises(ValueError, match=r"jacobian must be callable or None; got list \(x0 is"):
        Flow(lambda x: x, [0.0])
    with pytest.raises(ValueError, match="x0 is required"):
        Map(lambda x: x)
    with pytest.raises(ValueError, match="step or step_batch must be given"):
        Map(None, good_j, [0.0, 0.0])
    with pytest.raises(ValueError, match=r"x has shape \(3,\)"):
        Henon().step([0.0, 0.0, 0.0])


def test_user_function_failures_name_the_function_and_the_state():
    def step(x):
        if x[0] > 0.5:
            raise KeyError("boom")
        return 2 * x

    m = Map(step, lambda x: 2 * np.eye(1), [0.1], name="doubling")
    with pytest.raises(ValueError, match=r"doubling: step raised KeyError \('boom'\) at "
                                         r"x = \[0.8\]"):
        m.trajectory(5, transient=0)
    with pytest.raises(ValueError, match=r"step_batch returned shape \(2, 1\) for states .*"
                                         r"expected \(3, 1\)"):
        Map(step_batch=lambda X: X[:2], jacobian_batch=lambda X: np.ones((len(X), 1, 1)),
            x0=[0.1]).step_batch(np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"jacobian raised ZeroDivisionError .* at x = \[0.0\]"):
        Map(lambda x: x, lambda x: np.array([[1 / float(x[0])]]), [0.0])
    with pytest.raises(ValueError, match="step and step_batch disagree at x = "):
        Map(lambda x: x, step_batch=lambda X: 2 * X, x0=[1.0])
    with pytest.raises(ValueError, match=r"x0 has shape \(3,\); expected \(2,\)"):
        get_system("henon", x0=[0.1, 0.1, 0.1])


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n must be >= 1"), (dict(n=2.5), "n must be an integer"),
    (dict(transient=-1), "transient must be >= 0"),
    (dict(x0=[0.0]), r"x0 has shape \(1,\)"), (dict(x0=[np.nan, 0.0]), "x0 contains NaN"),
    (dict(dynamical_noise=-0.1), "dynamical_noise must be finite and >= 0"),
    (dict(rng="seed"), "rng must be"),
])
def test_map_trajectory_bad_input(kwargs, match):
    args = dict(n=5) | kwargs
    with pytest.raises(ValueError, match=match):
        Henon().trajectory(**args)


@pytest.mark.parametrize("kwargs, match", [
    (dict(dt=0.0), "dt must be finite and > 0"), (dict(dt=-0.1), "dt must be"),
    (dict(dt=np.inf), "dt must be"), (dict(transient=-1.0), "transient must be"),
    (dict(rtol=0.0), "rtol must be"), (dict(atol=-1.0), "atol must be"),
    (dict(x0=[1.0, 2.0]), r"x0 has shape \(2,\)"), (dict(n=0), "n must be >= 1"),
])
def test_flow_trajectory_bad_input(kwargs, match):
    args = dict(n=5, dt=0.01) | kwargs
    with pytest.raises(ValueError, match=match):
        Lorenz().trajectory(**args)


def test_bad_system_construction():
    with pytest.raises(ValueError, match="x0 contains NaN"):
        Map(lambda x: x, lambda x: np.eye(1), [np.nan])
    with pytest.raises(ValueError, match="x0 must be 1-D"):
        Map(lambda x: x, lambda x: np.eye(1), [[0.0]])
    with pytest.raises(ValueError, match="parameter a must be a finite real"):
        Henon(a=np.nan)
    with pytest.raises(ValueError, match="parameter rho must be a finite real"):
        Lorenz(rho="28")
    with pytest.warns(RuntimeWarning, match="mu = 2"):
        Tent(mu=2.0)


def test_registry():
    info = list_systems()
    assert set(info) == {"henon", "logistic", "tent", "ikeda", "lorenz", "rossler"}
    assert info["lorenz"]["kind"] == "flow" and info["henon"]["dim"] == 2
    assert info["henon"]["reference"]["lyapunov_exponents"] == (0.41922, -1.62319)
    assert info["henon"]["reference"]["kaplan_yorke"] == 1.25827
    assert info["logistic"]["reference"]["lyapunov_exponents"][0] == pytest.approx(math.log(2))
    assert info["lorenz"]["params"] == {"sigma": 10.0, "rho": 28.0, "beta": 8 / 3}
    h = get_system(" Henon ", a=1.2, x0=[0.1, 0.1])
    assert isinstance(h, Henon) and h.params == {"a": 1.2, "b": 0.3}
    assert "lyapunov_exponents" not in h.reference  # literature values only at defaults
    assert "lyapunov_exponents" in get_system("henon").reference
    assert get_system("rossler").is_flow
    with pytest.raises(ValueError, match=r"name must be one of .*'henon'.*got 'henom'"):
        get_system("henom")
    with pytest.raises(ValueError, match="'c' is not a parameter of system 'henon'"):
        get_system("henon", c=1.0)


def test_params_is_a_copy():
    h = Henon()
    h.params["a"] = 0.0
    assert h.params["a"] == 1.4 and h.a == 1.4


@pytest.mark.parametrize("cls", MAPS + FLOWS, ids=lambda c: c.__name__)
def test_default_x0_is_on_a_bounded_orbit(cls):
    system, orbit = ORBITS[cls]
    assert np.isfinite(orbit).all()
    assert np.abs(orbit).max() < 100
    assert orbit.std(axis=0).min() > 1e-3  # not a fixed point


# -- numerical Jacobians -------------------------------------------------------------------
def _user_copy(system, **kwargs):
    kind = Flow if system.is_flow else Map
    return kind(x0=system.x0, name=f"user-{system.name}", **kwargs)


def _away_from_kinks(cls, X):
    return X[np.abs(X[:, 0] - 0.5) > 1e-4] if cls is Tent else X


@pytest.mark.parametrize("cls", MAPS + FLOWS, ids=lambda c: c.__name__)
def test_numerical_jacobian_matches_the_analytic_one_on_every_builtin(cls):
    system, orbit = ORBITS[cls]
    X = _away_from_kinks(cls, orbit[::8])
    fn = system.rhs if system.is_flow else system.step
    batch = "rhs_batch" if system.is_flow else "step_batch"
    # The per-state built-ins cast to float (central differences); their vectorised
    # forms are complex-safe (complex step).
    for user, method in ((_user_copy(system, **{system._fn_name: fn}), "central"),
                         (_user_copy(system, **{batch: system._f}), "complex-step")):
        assert user.numerical_jacobian.method == method
        assert user.batch_modes["jacobian"] == "numerical"
        assert user.numerical_jacobian.error_estimate < 1e-8
        exact = system.jacobian_batch(X)
        err = np.abs(user.jacobian_batch(X) - exact).max(axis=(1, 2))
        assert np.all(err <= 1e-7 * np.maximum(1.0, np.abs(exact).max(axis=(1, 2))))
        np.testing.assert_allclose(user.jacobian(X[3]), exact[3], rtol=1e-7, atol=1e-7)


def test_complex_step_falls_back_to_central_differences_when_unsafe():
    a, b = 1.7, 0.5

    def lozi(s):  # abs() of a complex number is its modulus: the complex step is wrong
        return np.array([1 - a * abs(s[0]) + s[1], b * s[0]])

    m = Map(lozi, x0=[0.1, 0.1], name="lozi")
    assert m.numerical_jacobian.method == "central"
    assert "disagrees with central differences" in m.numerical_jacobian.fallback_reason
    x = np.array([0.3, -0.2])
    np.testing.assert_allclose(m.jacobian(x), [[-a, 1.0], [b, 0.0]], rtol=1e-9, atol=1e-9)
    real_only = Map(lambda s: np.real(np.sin(s)), x0=[0.4], name="real-only")
    assert real_only.numerical_jacobian.method == "central"
    np.testing.assert_allclose(real_only.jacobian([0.4]), [[math.cos(0.4)]], rtol=1e-9)
    cast = Map(lambda s: np.array([math.sin(s[0])]), x0=[0.4])
    assert cast.numerical_jacobian.fallback_reason.startswith("complex input raised")


def test_central_difference_error_estimate_is_honest():
    # exp has f''' = f: the truncation error h^2 e^x / 6 at x = 3 (h = 6e-6 * 3) is
    # ~1e-9 relative; the estimate must cover the true error without overstating it 100x.
    m = Map(lambda s: np.array([math.exp(s[0])]), x0=[3.0])
    assert m.numerical_jacobian.method == "central"
    true = abs(m.jacobian([3.0])[0, 0] - math.exp(3.0)) / math.exp(3.0)
    est = m.numerical_jacobian.error_estimate
    assert true <= 3 * est and est < 1e-8


# -- batch forms ---------------------------------------------------------------------------
def _henon_step(x):
    return np.array([1.0 - 1.4 * x[0] * x[0] + x[1], 0.3 * x[0]])


def _henon_jacobian(x):
    return np.array([[-2.8 * x[0], 1.0], [0.3, 0.0]])


@pytest.mark.parametrize("step, mode", [
    (_henon_step, "columns"),
    (lambda x: np.array([np.sin(x[1]) + 1.0, 0.5]) * x.sum(), "lanes"),
    (lambda x: np.array([min(x[0], 1 - x[0]), 0.5 * x[1]]), "loop"),
    (lambda x: np.array([math.cos(x[0]), x[1]]), "loop"),
])
def test_per_state_functions_are_batched_only_where_that_reproduces_them(step, mode):
    m = Map(step, _henon_jacobian, [0.1, 0.2])
    assert m.batch_modes == {"step": mode, "jacobian": "lanes"}
    X = np.random.default_rng(3).uniform(-1, 1, size=(7, 2))
    np.testing.assert_allclose(m.step_batch(X), [step(x) for x in X], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(m.jacobian_batch(X), [_henon_jacobian(x) for x in X],
                               rtol=1e-14, atol=1e-15)


def test_batch_functions_alone_define_the_system():
    h = Henon()
    m = Map(step_batch=h._f, jacobian_batch=h._J, x0=h.x0)
    assert m.batch_modes == {"step": "given", "jacobian": "given"}
    np.testing.assert_array_equal(m.trajectory(50, transient=10), h.trajectory(50, transient=10))
    np.testing.assert_array_equal(m.jacobian(h.x0), h.jacobian(h.x0))


# -- time-dependent flows ------------------------------------------------------------------
def test_forced_linear_flow_matches_its_exact_solution():
    # x' = -x + cos t: x(t) = (cos t + sin t) / 2 + (x0 - 1/2) e^-t
    flow = Flow(lambda x, t: -x + np.cos(t), None, x0=[2.0], time_dependent=True)
    assert flow.time_dependent and flow.numerical_jacobian.method == "complex-step"
    t = 1.5 + 0.25 * np.arange(40)
    exact = (np.cos(t) + np.sin(t)) / 2 + 1.5 * np.exp(-t)
    np.testing.assert_allclose(flow.trajectory(40, 0.25, transient=1.5)[:, 0], exact,
                               rtol=1e-8, atol=1e-9)
    noisy = flow.trajectory(40, 0.25, transient=1.5, dynamical_noise=1e-300, rng=0)
    np.testing.assert_allclose(noisy[:, 0], exact, rtol=1e-8, atol=1e-9)
    assert flow.rhs([1.0], t=math.pi) == pytest.approx(-2.0)
    np.testing.assert_allclose(flow.jacobian([1.0], t=0.3), [[-1.0]], rtol=1e-12)


def test_time_dependence_is_checked_at_construction():
    with pytest.raises(TypeError, match=r"rhs of a time-dependent system must accept \(x, t\)"):
        Flow(lambda x: -x, None, x0=[1.0], time_dependent=True)
    with pytest.raises(TypeError, match=r"jacobian of a time-dependent system must accept"):
        Flow(lambda x, t: -x, lambda x: -np.eye(1), x0=[1.0], time_dependent=True)
    with pytest.raises(TypeError, match="pass time_dependent=True"):
        Flow(lambda x, t: -x, None, x0=[1.0])
    forced = Flow(lambda x, t: -x + np.cos(t), None, x0=[1.0], time_dependent=True)
    with pytest.raises(TypeError, match="time-dependent: pass the time t"):
        forced.rhs([1.0])
    with pytest.raises(ValueError, match="time_dependent must be True or False"):
        Flow(lambda x: -x, None, x0=[1.0], time_dependent="yes")


def test_user_systems_of_module_level_functions_pickle():
    import pickle
    for m in (Map(_henon_step, _henon_jacobian, [0.1, 0.2]), Map(_henon_step, None, [0.1, 0.2]),
              Map(step_batch=Henon()._f, x0=[0.1, 0.2])):
        copy = pickle.loads(pickle.dumps(m))
        np.testing.assert_array_equal(copy.trajectory(20, transient=0),
                                      m.trajectory(20, transient=0))
        np.testing.assert_array_equal(copy.jacobian([0.3, 0.1]), m.jacobian([0.3, 0.1]))


@pytest.mark.slow
def test_an_exploding_flow_stops_with_a_warning_instead_of_running_for_ever():
    """Lorenz with sigma = -1 grows e-fold per time unit while its steps shrink: without
    the escape bound the transient alone needs ~1e8 evaluations."""
    from jdyn.systems import get_system
    from jdyn.systems._integrate import ESCAPE_FACTOR
    flow = get_system("lorenz", sigma=-1.0)
    with pytest.warns(RuntimeWarning, match="diverged"):
        out = flow.trajectory(50, 0.01, transient=30.0, rng=0)
    assert np.isnan(out).all() and ESCAPE_FACTOR <= 1e4
