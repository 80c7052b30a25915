"""nolds wrappers: they run, pass their settings through, state where their defaults
differ from nolds' and refuse bad input."""

import inspect
import warnings

import numpy as np
import pytest

from jdyn import baselines
from jdyn.systems import Henon

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    nolds = pytest.importorskip("nolds")


@pytest.fixture(scope="module")
def x():
    return Henon().trajectory(1200, rng=0)[:, 0]


def test_lyap_r_runs_and_records_settings(x):
    res = baselines.lyap_r(x, 2)
    assert res.estimator == "nolds.lyap_r" and res.nolds_version
    assert abs(res.value - 0.419) < 0.05
    assert res.settings == dict(
        emb_dim=2, lag=1, min_tsep=10, trajectory_len=10, fit_offset=1, min_neighbors=20,
        tau=1.0, fit="poly", n_points=1200,
        not_nolds_defaults="emb_dim=2 (nolds: 10), lag=1 (nolds: None), min_tsep=10 (nolds: "
                           "None), trajectory_len=10 (nolds: 20), fit_offset=1 (nolds: 0), "
                           "fit='poly' (nolds: 'RANSAC')")
    ks, div = res.curve
    assert ks.shape == div.shape == (10,)


def test_lyap_r_passes_settings_through(x):
    kw = dict(lag=2, min_tsep=5, trajectory_len=8, fit_offset=0, tau=0.5)
    res = baselines.lyap_r(x, 3, **kw)
    direct = nolds.lyap_r(x, emb_dim=3, fit="poly", min_neighbors=20, **kw)
    assert res.value == direct
    assert {k: res.settings[k] for k in kw} == kw and res.curve[0].size == 8


def test_lyap_e_runs_and_passes_settings(x):
    res = baselines.lyap_e(x, 3, 3, min_tsep=5)
    direct = nolds.lyap_e(x, emb_dim=3, matrix_dim=3, min_nb=6, min_tsep=5, tau=1.0)
    np.testing.assert_array_equal(res.value, direct)
    assert res.value.shape == (3,) and res.settings["min_nb"] == 6 and res.curve is None
    assert baselines.lyap_e(x, 2, 2).value[0] == pytest.approx(0.42, abs=0.1)


def test_corr_dim_runs_and_passes_settings(x):
    res = baselines.corr_dim(x, 2)
    assert abs(res.value - 1.2) < 0.1 and res.settings["fit"] == "poly"
    sd = np.std(x, ddof=1)
    np.testing.assert_array_equal(res.settings["rvals"],
                                  nolds.logarithmic_r(0.1 * sd, 0.5 * sd, 1.03))
    rvals = np.geomspace(0.05, 0.5, 12)
    own = baselines.corr_dim(x, 2, lag=2, rvals=rvals)
    assert own.value == nolds.corr_dim(x, 2, lag=2, rvals=rvals, fit="poly")
    np.testing.assert_allclose(own.curve[0], np.log(rvals))


# nolds' defaults as of 0.6.2, for the settings where the wrappers chose otherwise (the
# reasons are in the wrappers' docstrings). A nolds release that changes one fails here.
NOLDS_DEFAULTS = {
    "lyap_r": dict(emb_dim=10, lag=None, min_tsep=None, trajectory_len=20, fit_offset=0,
                   fit="RANSAC"),
    "lyap_e": dict(emb_dim=10, matrix_dim=4, min_tsep=0),
    "corr_dim": dict(fit="RANSAC"),
}
OURS = {"lyap_r": dict(lag=1, min_tsep=10, trajectory_len=10, fit_offset=1),
        "lyap_e": dict(min_tsep=10)}


@pytest.mark.parametrize("name", sorted(NOLDS_DEFAULTS))
def test_defaults_that_differ_from_nolds_are_pinned_and_documented(name):
    theirs = inspect.signature(getattr(nolds, name)).parameters
    assert {k: theirs[k].default for k in NOLDS_DEFAULTS[name]} == NOLDS_DEFAULTS[name]
    assert set(baselines._OWN_DEFAULTS[name]) == set(NOLDS_DEFAULTS[name])
    ours = inspect.signature(getattr(baselines, name)).parameters
    for k, v in OURS.get(name, {}).items():
        assert ours[k].default == v != NOLDS_DEFAULTS[name][k]
        assert "nolds" in getattr(baselines, name).__doc__.split(f"{k} :")[1].split(" : ")[0]


def test_settings_state_the_differences_and_nothing_else(x):
    assert baselines.lyap_e(x, 2, 2).settings["not_nolds_defaults"] == (
        "emb_dim=2 (nolds: 10), matrix_dim=2 (nolds: 4), min_tsep=10 (nolds: 0)")
    assert baselines.lyap_e(x, 10, 4, min_tsep=0).settings["not_nolds_defaults"] == ""
    assert baselines.corr_dim(x, 2).settings["not_nolds_defaults"] == \
        "fit='poly' (nolds: 'RANSAC')"


@pytest.mark.parametrize("call, name", [
    (lambda x: baselines.lyap_r(np.r_[x, np.nan], 2), "series"),
    (lambda x: baselines.lyap_r(x[:, None], 2), "series"),
    (lambda x: baselines.lyap_r(x[:20], 2), "series"),
    (lambda x: baselines.lyap_r(np.ones(500), 2), "constant"),
    (lambda x: baselines.lyap_r(x, 0), "emb_dim"),
    (lambda x: baselines.lyap_r(x, 2, trajectory_len=5, fit_offset=4), "fit window"),
    (lambda x: baselines.lyap_r(x, 2, max_points=1000), "max_points"),
    (lambda x: baselines.lyap_e(x, 4, 3), "multiple"),
    (lambda x: baselines.lyap_e(x[:10], 2, 2), "series"),
    (lambda x: baselines.lyap_e(x, 2, 2, tau=0), "tau"),
    (lambda x: baselines.corr_dim(x, 2, rvals=[0.1, -1.0]), "rvals"),
    (lambda x: baselines.corr_dim(x, 2, lag=0), "lag"),
    (lambda x: baselines.corr_dim(np.r_[x, np.inf], 2), "series"),
    (lambda x: baselines.corr_dim(x, 2, max_points=500), "max_points"),
])
def test_bad_input(x, call, name):
    with pytest.raises(ValueError, match=name):
        call(x)
