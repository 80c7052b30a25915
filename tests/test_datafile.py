"""jdyn.datafile.read_series: every format, time columns, and one-line errors for bad files."""

import numpy as np
import pytest
import xarray as xr

from jdyn.datafile import MIN_SAMPLES, SeriesFile, is_time_name, read_series, time_spacing

N = 150
T = 0.01 * np.arange(N)
X = np.sin(7 * T) + 0.1 * np.cos(31 * T)


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def csv_lines(header="t,x", fmt="{:.6g},{:.6g}", t=T, x=X):
    return ([header] if header else []) + [fmt.format(a, b) for a, b in zip(t, x)]


def error(path, **kwargs):
    with pytest.raises(ValueError) as info:
        read_series(path, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    return msg


# ------------------------------------------------------------------ text formats

def test_csv_with_header_and_time_column(tmp_path):
    s = read_series(write(tmp_path, "data.csv", csv_lines()))
    assert isinstance(s, SeriesFile) and len(s) == N
    assert s.name == "x" and s.path.endswith("data.csv")
    assert s.dt == pytest.approx(0.01, rel=1e-12)
    assert s.values.dtype == np.float64 and s.values.shape == (N,)
    np.testing.assert_allclose(s.values, X, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s.time, T, atol=1e-12)


@pytest.mark.parametrize("name, sep", [("d.tsv", "\t"), ("d.csv", ";"), ("d.txt", " "),
                                       ("d.dat", "  \t ")])
def test_delimiters_are_sniffed(tmp_path, name, sep):
    s = read_series(write(tmp_path, name, csv_lines(f"Time{sep}value", "{:.6g}" + sep + "{:.6g}")))
    assert s.name == "value" and s.dt == pytest.approx(0.01)


def test_semicolon_file_with_decimal_commas(tmp_path):
    lines = [line.replace(",", ";").replace(".", ",") for line in csv_lines()]
    s = read_series(write(tmp_path, "eu.csv", lines))
    assert s.dt == pytest.approx(0.01)
    np.testing.assert_allclose(s.values, X, rtol=1e-5, atol=1e-6)


def test_headerless_one_and_two_columns(tmp_path):
    one = read_series(write(tmp_path, "one.txt", [f"{v:.6g}" for v in X]))
    assert one.dt is None and one.time is None and one.name == "column 0"
    two = read_series(write(tmp_path, "two.dat", csv_lines(None, "{:.6g} {:.6g}")))
    assert two.dt == pytest.approx(0.01) and two.name == "column 1"


def test_headerless_two_columns_read_the_first_as_time(tmp_path):
    path = write(tmp_path, "xy.csv", [f"{a:.17g},{-a:.17g}" for a in X])
    msg = error(path)
    assert msg.startswith(f"{path}, line 2, column 0 (read as time: the first of two columns")
    assert "add a header row" in msg and "is irregular" in msg


def test_excel_style_csv_with_bom_quotes_and_crlf(tmp_path):
    path = tmp_path / "excel.csv"
    body = "".join(f"{i * 0.1:.1f},{v:.6f}\r\n" for i, v in enumerate(X))
    path.write_text('"Time","x"\r\n' + body, encoding="utf-8-sig", newline="")
    s = read_series(path)
    assert s.name == "x" and s.dt == 0.1


def test_savetxt_comment_header_and_comments(tmp_path):
    path = tmp_path / "saved.txt"
    np.savetxt(path, np.c_[T, X], header="time x")         # "# time x", %.18e
    s = read_series(path)
    assert s.name == "x" and s.dt == pytest.approx(0.01)
    np.testing.assert_array_equal(s.values, X)


def test_header_without_time_column_and_pandas_index(tmp_path):
    s = read_series(write(tmp_path, "v.csv", ["x"] + [f"{v:.17g}" for v in X]))
    assert s.dt is None and s.name == "x"
    lines = [",x"] + [f"{i},{v:.17g}" for i, v in enumerate(X)]     # DataFrame.to_csv()
    s = read_series(write(tmp_path, "pd.csv", lines))
    assert s.name == "x" and s.dt is None


@pytest.mark.parametrize("column, name", [("y", "y"), ("Y", "y"), (2, "y"), ("2", "y"),
                                          (1, "x")])
def test_column_by_name_or_index(tmp_path, column, name):
    lines = ["t,x,y"] + [f"{a:.2f},{b:.17g},{-b:.17g}" for a, b in zip(T, X)]
    s = read_series(write(tmp_path, "xy.csv", lines), column=column)
    assert s.name == name and s.dt == pytest.approx(0.01)


def test_several_value_columns_need_column(tmp_path):
    lines = ["t,x,y"] + [f"{a:.2f},{b:.17g},{-b:.17g}" for a, b in zip(T, X)]
    path = write(tmp_path, "xy.csv", lines)
    assert error(path) == (f"{path}: 2 value columns ('x', 'y'); choose one with column "
                           "(a name or a 0-based index)")
    assert error(path, column="z") == f"{path}: no column 'z'; columns are 't', 'x', 'y'"
    assert "no column 7 (0-based); columns are 't', 'x', 'y'" in error(path, column=7)
    assert "column 't' is the time column; choose a value column ('x', 'y')" in error(
        path, column="t")
    headerless = write(tmp_path, "three.csv", [f"{b:.17g},{b:.17g},{b:.17g}" for b in X])
    assert "3 value columns (0, 1, 2)" in error(headerless)
    assert "no header row, so choose a column by 0-based index" in error(headerless,
                                                                       column="x")


def test_iso_datetime_time_column(tmp_path):
    stamps = np.datetime64("2024-03-01T12:00:00") + np.arange(N) * np.timedelta64(30, "s")
    lines = ["timestamp,temp"] + [f"{s},{v:.17g}" for s, v in zip(stamps, X)]
    s = read_series(write(tmp_path, "dates.csv", lines))
    assert s.dt == 30.0 and s.time.dtype == np.dtype("datetime64[us]")
    np.testing.assert_array_equal(s.time, stamps.astype("datetime64[us]"))
    zoned = ["date;temp"] + [f"{str(s).replace('T', ' ')}.250+02:00;{v:.17g}"
                             for s, v in zip(stamps, X)]
    s = read_series(write(tmp_path, "zoned.csv", zoned))
    assert s.dt == 30.0 and s.time[0] == np.datetime64("2024-03-01T10:00:00.250")


def test_rounded_time_stamps_pass_real_irregularity_fails(tmp_path):
    # 1/300 steps written with 6 significant digits: rounding reaches 30 % of a step
    t = np.arange(3000) / 300.0 + 90.0
    x = np.sin(t)
    s = read_series(write(tmp_path, "r.csv", csv_lines("t,x", t=t, x=x)))
    # the end-to-end spacing is known to the written precision (1e-4 over a span of 10)
    assert s.dt == pytest.approx(1 / 300, rel=1e-5)
    assert read_series(s.path, dt=1 / 300).dt == 1 / 300
    gap = np.delete(t, 1234)
    msg = error(write(tmp_path, "gap.csv", csv_lines("t,x", t=gap, x=x[:-1])))
    assert "line 1236, column 't': time 94.1167" in msg and "is irregular" in msg
    jitter = T + 1e-4 * np.random.default_rng(0).normal(size=N)
    msg = error(write(tmp_path, "jit.csv", csv_lines("t,x", "{:.8f},{:.6g}", t=jitter)))
    assert "line 3, column 't'" in msg and "departs from the typical spacing" in msg


def test_time_spacing_tolerance():
    t = 0.01 * np.arange(10)
    assert time_spacing(t) == (pytest.approx(0.01), None)
    assert time_spacing(np.r_[t, 0.1 + 5e-9])[1] is None        # 5e-7 relative: rounding
    assert time_spacing(np.r_[t, 0.1 + 1e-6])[1] == 10           # 1e-4 relative: not


def test_is_time_name():
    for name in ("t", "T", "time", "Time (s)", "t [ms]", "timestamp", "date", "Datetime"):
        assert is_time_name(name)
    for name in ("temp", "x", "tx", "value", "theta"):
        assert not is_time_name(name)


# ----------------------------------------------------------------------- dt argument

def test_dt_argument(tmp_path):
    path = write(tmp_path, "data.csv", csv_lines())
    assert read_series(path, dt=0.01).dt == 0.01
    assert read_series(path, dt=0.01 * (1 + 5e-7)).dt == 0.01 * (1 + 5e-7)
    msg = error(path, dt=0.02)
    assert msg == (f"{path}: dt=0.02 disagrees with the spacing 0.01 of column 't' "
                   "(relative difference 1 > 1e-06); omit dt to use the file's time stamps")
    values_only = write(tmp_path, "v.txt", [f"{v:.17g}" for v in X])
    assert read_series(values_only, dt=0.5).dt == 0.5
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        read_series(path, dt=-1)


# ----------------------------------------------------------------------- bad text

def replace_line(lines, number, text):
    lines = list(lines)
    lines[number - 1] = text
    return lines


@pytest.mark.parametrize("text, expected", [
    ("0.15,abc", "line 17, column 'x': 'abc' is not a number"),
    ("0.15,", "line 17, column 'x': missing value (empty cell)"),
    ("0.15,NaN", "line 17, column 'x': missing value ('NaN')"),
    ("0.15,NA", "line 17, column 'x': missing value ('NA')"),
    ("0.15,inf", "line 17, column 'x': 'inf' is not a finite number"),
    (",0.5", "line 17, column 't': missing value (empty cell)"),
    ("0.15", "line 17: 1 field, expected 2 (as on line 1)"),
    ("0.15,1,2", "line 17: 3 fields, expected 2 (as on line 1)"),
    ("0.17,0.5", "line 17, column 't': time 0.17 is irregular: the spacing 0.03 from line 16"),
    ("0.14,0.5", "line 17, column 't': time 0.14 does not increase (line 16 has 0.14)"),
    ("", "line 17: empty line (a missing sample)"),
])
def test_bad_cells_name_file_line_and_column(tmp_path, text, expected):
    path = write(tmp_path, "data.csv", replace_line(csv_lines(), 17, text))
    msg = error(path)
    assert msg.startswith(f"{path}, {expected}")


def test_exact_non_number_message(tmp_path):
    path = write(tmp_path, "data.csv", replace_line(csv_lines(), 17, "0.15,abc"))
    assert error(path) == f"{path}, line 17, column 'x': 'abc' is not a number"


def test_headerless_cells_are_named_by_index(tmp_path):
    lines = replace_line(csv_lines(None), 5, "0.04,?")
    assert ", line 5, column 1: missing value ('?')" in error(write(tmp_path, "n.csv", lines))


def test_bad_datetime_stamp(tmp_path):
    stamps = np.datetime64("2024-03-01") + np.arange(N) * np.timedelta64(1, "D")
    lines = ["date,x"] + [f"{s},{v:.17g}" for s, v in zip(stamps, X)]
    msg = error(write(tmp_path, "d.csv", replace_line(lines, 9, f"yesterday,{X[7]:.17g}")))
    assert "line 9, column 'date': 'yesterday' is not a number or an ISO 8601 date-time" in msg
    zoned = f"2024-03-08T00:00:00Z,{X[7]:.17g}"
    msg = error(write(tmp_path, "d.csv", replace_line(lines, 9, zoned)))
    assert "line 9, column 'date'" in msg and "time zone" in msg
    msg = error(write(tmp_path, "d.csv", replace_line(lines, 9, "2024-03-09T00:00:01,0.5")))
    assert "line 9, column 'date': time 2024-03-09T00:00:01" in msg and "irregular" in msg


def test_constant_short_and_missing_file(tmp_path):
    path = write(tmp_path, "c.csv", ["x"] + ["1.5"] * N)
    assert error(path) == (f"{path}, column 'x': the series is constant (every value is "
                           "1.5); there is nothing to analyse")
    path = write(tmp_path, "s.csv", csv_lines()[:MIN_SAMPLES])
    assert error(path) == (f"{path}, column 'x': {MIN_SAMPLES - 1} samples; at least "
                           f"{MIN_SAMPLES} are needed")
    assert error(tmp_path / "absent.csv") == f"{tmp_path / 'absent.csv'}: file does not exist"
    assert "no data lines" in error(write(tmp_path, "empty.csv", ["# nothing"]))
    assert "0 samples" in error(write(tmp_path, "head.csv", ["t,x"]))


def test_unknown_or_unparseable_files(tmp_path):
    path = write(tmp_path, "data.xlsx", ["1"])
    assert "unknown file type (extension '.xlsx'); expected one of .csv" in error(path)
    assert "no extension" in error(write(tmp_path, "data", ["1"]))
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x93NUMPY\x00\x01" + bytes(100))
    assert "is a binary file, not delimited text" in error(binary)
    (tmp_path / "sub.csv").mkdir()
    assert "is a directory" in error(tmp_path / "sub.csv")


def test_reading_writes_nothing(tmp_path):
    write(tmp_path, "data.csv", csv_lines())
    before = sorted(p.name for p in tmp_path.iterdir())
    read_series(tmp_path / "data.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ------------------------------------------------------------------------- .npy

def test_npy_one_and_two_dimensional(tmp_path):
    np.save(tmp_path / "a.npy", X)
    s = read_series(tmp_path / "a.npy", dt=0.1)
    assert s.dt == 0.1 and s.time is None and s.name == "column 0"
    np.testing.assert_array_equal(s.values, X)
    np.save(tmp_path / "b.npy", np.c_[X, 2 * X].astype(np.float32))
    s = read_series(tmp_path / "b.npy", column=1)
    assert s.values.dtype == np.float64 and s.name == "column 1"
    np.testing.assert_allclose(s.values, 2 * X, rtol=1e-6)
    assert read_series(tmp_path / "b.npy", column="0").name == "column 0"


def test_npy_errors(tmp_path):
    np.save(tmp_path / "b.npy", np.c_[X, X])
    path = tmp_path / "b.npy"
    assert error(path) == (f"{path}: holds an array of shape ({N}, 2), 2 columns (0 to 1); "
                           "choose one with column (a 0-based index)")
    assert "no column 2" in error(path, column=2)
    assert "chosen by 0-based index; got 'x'" in error(path, column="x")
    bad = np.c_[X, X]
    bad[41, 1] = np.nan
    np.save(path, bad)
    assert error(path, column=1).startswith(f"{path}, row 42, column 1: missing value")
    np.save(path, X.astype(complex))
    assert "holds dtype complex128; expected real numbers" in error(path)
    np.save(path, np.zeros((N, 2, 2)))
    assert "expected 1-D (n,) or 2-D (n, k)" in error(path)
    np.save(path, X)
    assert "1-D array" in error(path, column=1)
    fake = write(tmp_path, "fake.npy", ["1,2,3"])
    assert "cannot be read as a NumPy .npy file" in error(fake)


# ----------------------------------------------------------------------- netCDF

def dataset(time, **variables):
    return xr.Dataset({k: ("time", v) for k, v in variables.items()}, coords={"time": time})


def test_netcdf_default_variable_and_datetime_coordinate(tmp_path):
    stamps = np.datetime64("2024-01-01") + np.arange(N) * np.timedelta64(10, "m")
    path = tmp_path / "a.nc"
    ds = dataset(stamps, x=X)
    ds["scalar"] = 1.0
    ds.to_netcdf(path)
    s = read_series(path)
    assert s.name == "x" and s.dt == 600.0
    np.testing.assert_array_equal(s.values, X)
    assert np.issubdtype(s.time.dtype, np.datetime64)


def test_netcdf_numeric_coordinate_and_column(tmp_path):
    path = tmp_path / "b.nc"
    dataset(0.05 * np.arange(N), x=X, y=-X).to_netcdf(path)
    s = read_series(path, column="y")
    assert s.name == "y" and s.dt == pytest.approx(0.05)
    np.testing.assert_array_equal(s.values, -X)
    msg = error(path)
    assert msg == (f"{path}: 2 data variables with a time dimension (data variables are "
                   "'x', 'y'); choose one with column (its name)")
    assert error(path, column="z") == f"{path}: no data variable 'z'; data variables are 'x', 'y'"
    assert "disagrees with the spacing 0.05 of coordinate 'time'" in error(path, column="x",
                                                                          dt=1.0)


def test_netcdf_errors(tmp_path):
    path = tmp_path / "c.nc"
    t = 0.05 * np.arange(N)
    t[60:] += 0.05
    dataset(t, x=X).to_netcdf(path)
    assert error(path).startswith(f"{path}, row 61, variable 'x', coordinate 'time': time 3.05 "
                                  "is irregular")
    y = X.copy()
    y[9] = np.nan
    dataset(0.05 * np.arange(N), x=y).to_netcdf(path)
    assert error(path).startswith(f"{path}, row 10, variable 'x': missing value")
    xr.Dataset({"x": (("time", "lat"), np.c_[X, X])}).to_netcdf(path)
    assert "expected one dimension (select a point first)" in error(path)
    junk = write(tmp_path, "junk.nc", ["not netcdf"])
    assert "cannot be opened as netCDF" in error(junk)
