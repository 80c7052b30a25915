"""``jdyn analyse FILE``: results.nc and the report on small files, bad input, escaping."""

import contextlib
import io
import json

import numpy as np
import pytest
import xarray as xr

from jdyn.cli import build_parser, main
from jdyn.pipeline import cli as analyse_cli
from jdyn.pipeline.dataset import VARIABLES
from jdyn.pipeline.report import NO_TRUTH, write_report
from jdyn.systems import Henon, add_observational_noise

#: Tiny settings: a member fits in well under a second.
FAST = ["--members", "3", "--dim", "2", "--lag", "1", "--jobs", "1",
        "--hidden", "6", "--max-iter", "50", "--n-steps", "400", "--n-orbits", "1"]


def _series():
    x = Henon().trajectory(700, rng=0)[200:, 0]
    return add_observational_noise(x, 0.05, rng=1)


def _csv(path, x, dt=0.1):
    np.savetxt(path, np.c_[dt * np.arange(x.size), x], delimiter=",", header="t,x",
               comments="", fmt="%.8g")
    return path


def _main(argv):
    """Exit code, stdout and stderr of ``jdyn ARGV`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("csv")
    path = _csv(tmp / "henon.csv", _series())
    out = tmp / "out"
    rc, stdout, stderr = _main(["analyse", path, "--out", out, *FAST])
    return {"rc": rc, "out": out, "stdout": stdout, "stderr": stderr, "path": path}


def test_csv_run_writes_results_and_report(csv_run):
    assert csv_run["rc"] == 0, csv_run["stderr"]
    for name in ("results.nc", "report.html", "report.md", "analysis.png"):
        assert (csv_run["out"] / name).stat().st_size > 0
    assert not [p for p in csv_run["out"].iterdir() if p.name.startswith(".")]
    assert "jdyn analysis of 500 samples (dt = 0.1)" in csv_run["stdout"]
    assert f"report: {csv_run['out'] / 'report.html'}" in csv_run["stdout"]
    assert "member 1/6" in csv_run["stderr"] and "member 6/6" in csv_run["stderr"]


def test_results_nc_holds_the_declared_contract(csv_run):
    with xr.open_dataset(csv_run["out"] / "results.nc") as ds:
        for name, (dims, _long, units) in VARIABLES.items():
            assert name in ds, name
            assert ds[name].dims == dims
            if units:
                assert ds[name].attrs["units"], name
        assert ds["exponent_value"].attrs["units"] == "1/time unit"
        assert ds.attrs["dt"] == pytest.approx(0.1)
        assert ds.attrs["embedding_dim"] == 2 and ds.attrs["embedding_lag"] == 1
        method = json.loads(ds.attrs["method"])
        assert method["members"] == 3 and method["options"]["max_iter"] == 50
        assert ds.attrs["input_file"] == str(csv_run["path"])
        assert ds.attrs["input_column"] == "x"
        assert ds.sizes["time"] == 500


def test_report_shows_the_exponent_table_and_says_nothing_is_scored(csv_run):
    html = (csv_run["out"] / "report.html").read_text(encoding="utf-8")
    md = (csv_run["out"] / "report.md").read_text(encoding="utf-8")
    for text in (html, md):
        assert NO_TRUTH in text
        assert "value ± σ" in text and "Kaplan–Yorke" in text and "2σ" in text
        assert "one-step error" in text and "henon.csv" in text
    assert "<th>verdict</th>" in html and "data:image/png;base64," in html
    assert "| # | value ± σ | verdict | reason |" in md and "(analysis.png)" in md


def test_report_rebuilt_from_results_nc_is_the_same(csv_run, tmp_path):
    with xr.open_dataset(csv_run["out"] / "results.nc") as ds:
        paths = write_report(ds.load(), tmp_path)
    assert paths["markdown"].read_text() == (csv_run["out"] / "report.md").read_text()


def test_headerless_text_and_npy_default_out_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = _series()
    np.savetxt(tmp_path / "plain.txt", x, fmt="%.8g")
    rc, _stdout, stderr = _main(["analyse", "plain.txt", "--quiet", *FAST])
    assert rc == 0, stderr
    assert stderr == ""
    assert (tmp_path / "runs" / "analyse-plain" / "report.html").exists()
    with xr.open_dataset(tmp_path / "runs" / "analyse-plain" / "results.nc") as ds:
        assert ds["exponent_value"].attrs["units"] == "1/sample"
    np.save(tmp_path / "arr.npy", x)
    rc, _, stderr = _main(["analyse", "arr.npy", "--out", "npy-out", "--seed", "3", *FAST])
    assert rc == 0, stderr
    assert {p.name for p in (tmp_path / "npy-out").iterdir()} == {
        "results.nc", "report.html", "report.md", "analysis.png"}


def _bad_cell(path):
    x = _series()
    lines = ["t,x"] + [f"{0.1 * k:.6g},{v:.8g}" for k, v in enumerate(x)]
    lines[40] = "3.9,abc"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("case", ["missing", "column", "cell", "short"])
def test_bad_input_is_one_line_naming_the_file_and_writes_nothing(case, tmp_path):
    path, extra = tmp_path / "data.csv", []
    if case == "column":
        _csv(path, _series())
        extra = ["--column", "y"]
    elif case == "cell":
        _bad_cell(path)
    elif case == "short":
        _csv(path, _series()[:150])
    out = tmp_path / "out"
    rc, stdout, stderr = _main(["analyse", path, "--out", out, *extra, *FAST])
    lines = stderr.strip().splitlines()
    assert rc == 2
    assert len(lines) == 1 and lines[0].startswith("jdyn: ") and str(path) in lines[0]
    assert not out.exists() and stdout == ""
    if case == "cell":
        assert "line 41" in lines[0] and "abc" in lines[0]


@pytest.mark.parametrize("option, value", [("--dt", "-1"), ("--dt", "fast"),
                                           ("--members", "2"), ("--jobs", "x"),
                                           ("--dim", "0"), ("--seed", "-4"),
                                           ("--hidden", "a,b")])
def test_bad_option_values_are_one_line_errors(option, value, tmp_path):
    path = _csv(tmp_path / "data.csv", _series())
    out = tmp_path / "out"
    rc, _, stderr = _main(["analyse", path, "--out", out, *FAST, option, value])
    lines = stderr.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and option in lines[0]
    assert not out.exists()


def test_dt_disagreeing_with_the_time_column_is_refused(tmp_path):
    path = _csv(tmp_path / "data.csv", _series())
    rc, _, stderr = _main(["analyse", path, "--out", tmp_path / "out", "--dt", "0.2", *FAST])
    assert rc == 2 and str(path) in stderr and not (tmp_path / "out").exists()


def test_hidden_options_stay_out_of_the_help(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["analyse", "--help"])
    text = capsys.readouterr().out
    assert "--column" in text and "--quiet" in text
    assert "--max-iter" not in text and "--hidden" not in text


def test_strings_are_escaped_in_html_and_markdown(csv_run, tmp_path):
    with xr.open_dataset(csv_run["out"] / "results.nc") as ds:
        ds = ds.load()
    ds.attrs["warnings"] = "plain note\n<script>alert('x')</script> & more"
    ds.attrs["input_file"] = "<img src=x onerror=alert(1)>.csv"
    reason = ds["spurious_reason"].values.astype(object)
    reason[0] = "<b>bold</b>"
    ds["spurious_reason"] = ("exponent", reason.astype(str))
    paths = write_report(ds, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    md = paths["markdown"].read_text(encoding="utf-8")
    for text in (html, md):
        assert "<script>" not in text and "<img src=x" not in text and "<b>" not in text
        assert "&lt;script&gt;" in text and "&amp; more" in text and "plain note" in text
        assert "&lt;b&gt;bold&lt;/b&gt;" in text


class _Interrupted:
    """A Dataset stand-in whose write stops half-way."""

    def to_netcdf(self, path):
        with open(path, "wb") as f:
            f.write(b"CDF\x01half")
        raise KeyboardInterrupt


def test_an_interrupted_write_leaves_no_half_file(tmp_path):
    target = tmp_path / "results.nc"
    with pytest.raises(KeyboardInterrupt):
        analyse_cli.write_results(_Interrupted(), target)
    assert list(tmp_path.iterdir()) == []
