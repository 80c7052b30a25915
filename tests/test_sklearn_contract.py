"""The map estimators are scikit-learn estimators: parameters, cloning, fitted checks,
tags, score, the common estimator checks that apply, and a grid search over a series.

The checks that do not apply are listed here with the reason, and the estimators guide
lists the same ones (a test below holds the two lists together).
"""

import pathlib
import warnings

import numpy as np
import pytest

from jdyn.estimators import DelayMapEstimator, StateMapEstimator
from jdyn.systems import Henon

sklearn = pytest.importorskip("sklearn", reason="scikit-learn (the test extra) is not installed")
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_estimator
from sklearn.utils.validation import check_is_fitted

GUIDE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "guide" / "estimators.md"

#: Checks that do not apply to a time-series estimator, for both estimators.
TIME_SERIES = {
    "check_methods_sample_order_invariance":
        "rows are consecutive times: permuted rows are another series, whose predictions "
        "are not the permuted predictions",
    "check_methods_subset_invariance":
        "a prediction needs the preceding samples: a batch of rows predicts fewer samples "
        "than the same rows inside the whole series",
    "check_estimators_nan_inf":
        "fits 10 samples, fewer than a map estimator needs (11 input-target pairs, to hold "
        "out a validation set); NaN and inf are refused by name, tested here",
    "check_dtype_object":
        "object arrays are refused with a ValueError naming the argument (jdyn's "
        "convention for bad input), not converted element by element",
}
#: Further checks of StateMapEstimator (X of shape (n, d)).
STATE = {**TIME_SERIES,
         "check_fit2d_1feature": "fits 10 samples, fewer than a map estimator needs "
                                 "(11 input-target pairs)"}
_ONE_D = ("the check indexes X as 2-D (X[:, 0], X.shape[1]) after reducing it to the 1-D "
          "series the one_d_array tag declares: scikit-learn's common checks do not handle "
          "1-D estimators (it skips them all for its own)")
#: Further checks of DelayMapEstimator (X is one scalar series, (n,) or (n, 1)).
DELAY = {**TIME_SERIES,
         **{name: _ONE_D for name in (
             "check_dont_overwrite_parameters", "check_n_features_in_after_fitting",
             "check_n_features_in", "check_f_contiguous_array_estimator",
             "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
             "check_fit2d_predict1d")},
         "check_estimator_sparse_array": "scipy cannot build the 1-D sparse arrays the check "
                                         "converts X to (sparse input is refused, tested here)",
         "check_fit1d": "a 1-D X is the scalar series a delay map models; fitting it must work"}


@pytest.fixture(scope="module")
def henon_x():
    return Henon().trajectory(600, rng=0)[:, 0]


def _small(cls, **kw):
    return cls(hidden=(4,), max_iter=5, rng=0, progress=False, **kw)


@pytest.mark.parametrize("est, expected", [(_small(DelayMapEstimator, dim=2), DELAY),
                                           (_small(StateMapEstimator), STATE)],
                         ids=["delay", "state"])
def test_every_applicable_estimator_check_passes(est, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, expected_failed_checks=expected, on_fail=None)
    status = {r["check_name"]: r["status"] for r in results}
    failed = {n: repr(r["exception"]) for r in results
              if r["status"] == "failed" for n in [r["check_name"]]}
    assert not failed
    # Every listed exception is still needed (else the list would hide a passing check).
    assert {n for n, s in status.items() if s == "xfail"} == set(expected)
    skipped = {n for n, s in status.items() if s == "skipped"}
    assert skipped <= {"check_array_api_input"}          # needs SCIPY_ARRAY_API
    assert sum(s == "passed" for s in status.values()) >= 20


def test_the_guide_lists_every_skipped_check_with_its_reason():
    text = GUIDE.read_text(encoding="utf-8")
    missing = [name for name in {**DELAY, **STATE} if f"`{name}`" not in text]
    assert not missing, f"docs/guide/estimators.md does not list {missing}"


def test_grid_search_over_hidden_with_time_series_split(henon_x):
    search = GridSearchCV(DelayMapEstimator(max_iter=30, rng=0, progress=False),
                          {"hidden": [(8,), (16,)]}, cv=TimeSeriesSplit(3))
    search.fit(henon_x)
    assert search.best_params_["hidden"] in [(8,), (16,)]
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)
    check_is_fitted(search.best_estimator_)
    # The refitted best estimator scores as its own score method says.
    best = search.best_estimator_
    assert search.score(henon_x[-150:]) == best.score(henon_x[-150:])


def test_score_is_minus_the_mean_squared_one_step_error_in_data_units(henon_x):
    y = 5.0 + 3.0 * henon_x                       # data units differ from standardised
    est = DelayMapEstimator(2, hidden=(6,), max_iter=40, rng=0, progress=False).fit(y)
    pred = est.predict(y)
    assert pred.shape == (len(y) - 2,)
    expected = -np.mean((pred - y[2:]) ** 2)
    assert est.score(y) == pytest.approx(expected, rel=1e-12)
    assert est.score(y, y=np.zeros(3)) == est.score(y)          # y is ignored
    # The same error, normalised by the series' std, is prediction_error's first step.
    rms = np.sqrt(-est.score(y)) / est.scale_
    assert rms == pytest.approx(est.prediction_error(y, horizon=1)[0], rel=1e-10)


def test_state_map_score_and_predict_shape():
    X = Henon().trajectory(400, rng=1) * [1.0, 10.0]
    est = StateMapEstimator(hidden=(6,), max_iter=30, rng=0, progress=False).fit(X)
    pred = est.predict(X)
    assert pred.shape == (399, 2)
    assert est.score(X) == pytest.approx(-np.mean((pred - X[1:]) ** 2), rel=1e-12)
    assert est.n_features_in_ == 2


def test_check_is_fitted_and_the_not_fitted_error(henon_x):
    from sklearn.exceptions import NotFittedError
    est = _small(DelayMapEstimator)
    with pytest.raises(NotFittedError, match="not fitted"):
        check_is_fitted(est)
    with pytest.raises(NotFittedError, match="not fitted yet: call fit first"):
        est.predict(henon_x)
    est.fit(henon_x)
    check_is_fitted(est)
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    assert {"model_", "history_", "mean_", "scale_", "n_features_in_"} <= set(fitted)


def test_set_params_sets_validates_names_and_clones(henon_x):
    est = DelayMapEstimator()
    assert est.set_params(hidden=(8,), max_iter=7) is est
    assert est.get_params()["hidden"] == (8,) and est.max_iter == 7
    with pytest.raises(ValueError, match="invalid parameter 'hiden'.*valid parameters are: dim"):
        est.set_params(hiden=(8,))
    with pytest.raises(ValueError, match=r"'hidden__units'.*hidden=\(8,\) has no parameters"):
        est.set_params(hidden__units=3)
    with pytest.raises(ValueError, match="invalid parameter"):
        est.set_params(max_iter=3, nonsense=1)
    assert est.max_iter == 7                      # nothing set when a name is wrong
    copy = clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    assert list(est.get_params()) == DelayMapEstimator._get_param_names()
    assert "dim" not in StateMapEstimator().get_params()


def test_tags_declare_a_series_estimator():
    delay, state = get_tags(DelayMapEstimator(rng=0)), get_tags(StateMapEstimator(rng=0))
    assert delay.input_tags.one_d_array and delay.input_tags.two_d_array
    assert not state.input_tags.one_d_array and state.input_tags.two_d_array
    for tags in (delay, state):
        assert not tags.target_tags.required and tags.requires_fit
        assert not tags.input_tags.allow_nan and not tags.input_tags.sparse
        assert not tags.non_deterministic
    assert get_tags(DelayMapEstimator()).non_deterministic        # rng=None: fresh entropy
    old = DelayMapEstimator(rng=0)._more_tags()
    assert old["X_types"] == ["1darray", "2darray"] and old["requires_y"] is False


def test_sparse_and_complex_input_are_refused_by_name(henon_x):
    import scipy.sparse
    with pytest.raises(ValueError, match="data is a sparse .*not supported"):
        _small(StateMapEstimator).fit(scipy.sparse.csr_matrix(np.ones((30, 2))))
    with pytest.raises(ValueError, match="Complex data not supported: series"):
        _small(DelayMapEstimator).fit(henon_x + 1j)
