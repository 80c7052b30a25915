"""as_series: irregular time stamps and masked arrays are refused; regular input unchanged."""

import numpy as np
import pytest
import xarray as xr

from jdyn.estimators import DelayMapEstimator, StateMapEstimator
from jdyn.estimators._data import as_series

X = np.sin(0.3 * np.arange(200))


def series(t, x=X):
    return xr.DataArray(x[: len(t)], dims="time", coords={"time": t})


# ------------------------------------------------------------------- unchanged

@pytest.mark.parametrize("t", [0.05 * np.arange(200), np.linspace(0, 7, 200),
                               (0.05 * np.arange(200)).astype(np.float32),
                               3 * np.arange(200)])
def test_regular_coordinates_give_the_median_spacing(t):
    values, dt = as_series(series(t))
    assert dt == float(np.median(np.diff(t.astype(float))))
    np.testing.assert_array_equal(values, X)


def test_datetime_coordinate_in_seconds_and_plain_inputs():
    t = np.datetime64("2024-01-01") + np.arange(200) * np.timedelta64(250, "ms")
    assert as_series(series(t))[1] == 0.25
    for data in (X, list(X), np.ma.masked_array(X), series(np.arange(200))):
        values, dt = as_series(data)
        assert dt is None
        np.testing.assert_array_equal(values, X)
    assert as_series(X, dt=0.5) == (pytest.approx(X), 0.5)


def test_decreasing_coordinate_message_unchanged_and_ignored_with_dt():
    t = -0.1 * np.arange(200)
    with pytest.raises(ValueError, match="the time coordinate must increase; median spacing"):
        as_series(series(t))
    assert as_series(series(t), dt=0.1)[1] == 0.1


# ------------------------------------------------------------------ irregular

def test_irregular_coordinate_names_the_first_index():
    t = np.r_[0.1 * np.arange(100), 10.5 + 0.1 * np.arange(100)]
    with pytest.raises(ValueError) as info:
        as_series(series(t), "series")
    msg = str(info.value)
    assert msg.startswith("series has irregular time stamps: the spacing at index 100 "
                          "(10.5 - 9.9 = 0.6) departs from the typical spacing 0.1")
    assert "resample" in msg and "\n" not in msg
    with pytest.raises(ValueError, match="index 100"):
        as_series(series(t), dt=0.1)              # dt does not make the samples even


def test_small_jitter_is_refused_float_rounding_is_not():
    t = 0.05 * np.arange(200)
    assert as_series(series(t + 1e-12 * np.sin(np.arange(200))))[1] == pytest.approx(0.05)
    jitter = t.copy()
    jitter[37] += 1e-5                            # 2e-4 of a step
    with pytest.raises(ValueError, match="at index 37 "):
        as_series(series(jitter))


def test_repeated_and_datetime_stamps():
    t = 0.05 * np.arange(200)
    t[50] = t[49]
    with pytest.raises(ValueError, match="does not increase at index 50"):
        as_series(series(t))
    stamps = np.datetime64("2024-01-01") + np.arange(200) * np.timedelta64(1, "m")
    stamps[120:] += np.timedelta64(1, "m")
    with pytest.raises(ValueError, match=r"index 120 \(2024-01-01T02:01:00 - "
                                         r"2024-01-01T01:59:00 = 120 s\) departs from the "
                                         r"typical spacing 60 s"):
        as_series(series(stamps))


def test_estimators_refuse_irregular_series():
    t = np.r_[0.1 * np.arange(100), 10.5 + 0.1 * np.arange(100)]
    with pytest.raises(ValueError, match="irregular time stamps"):
        DelayMapEstimator(2, hidden=(3,), max_iter=1, rng=0).fit(series(t))


# ------------------------------------------------------------------- pandas

def test_pandas_irregular_index():
    pd = pytest.importorskip("pandas")
    assert as_series(pd.Series(X))[1] is None
    idx = pd.date_range("2024-01-01", periods=201, freq="s").delete(5)
    with pytest.raises(ValueError, match="series has irregular time stamps: the spacing at "
                                         "index 5"):
        as_series(pd.Series(X, index=idx))
    gaps = pd.Series(X).drop([30, 31])          # an integer index with rows missing
    with pytest.raises(ValueError, match="at index 30 "):
        as_series(gaps)
    frame = pd.DataFrame({"a": X, "b": -X}, index=0.5 * np.arange(200))
    assert as_series(frame, "data", ndim=2)[1] == 0.5


# ------------------------------------------------------------------- masked

def test_masked_values_are_refused():
    masked = np.ma.masked_greater(X, 0.99)
    n = int(masked.mask.sum())
    first = int(np.flatnonzero(masked.mask)[0])
    with pytest.raises(ValueError) as info:
        as_series(masked)
    assert str(info.value).startswith(
        f"series is a masked array with {n} masked value(s) (first at index {first}); "
        "masked values are not allowed: fill them")
    with pytest.raises(ValueError, match="masked values are not allowed"):
        DelayMapEstimator(2, hidden=(3,), max_iter=1, rng=0).fit(masked)


def test_masked_two_dimensional():
    data = np.ma.masked_array(np.c_[X, -X], mask=np.zeros((200, 2), bool))
    values, _ = as_series(data, "data", ndim=2)
    np.testing.assert_array_equal(values, np.c_[X, -X])
    data[7, 1] = np.ma.masked
    with pytest.raises(ValueError, match=r"data is a masked array with 1 masked value\(s\) "
                                         r"\(first at index \(7, 1\)\)"):
        StateMapEstimator(hidden=(3,), max_iter=1, rng=0).fit(data)
