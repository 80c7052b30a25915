"""Scenarios over a user's own series ([data] path, column, dt): bad files are scenario
errors (file, key, given, expected; exit 2; nothing written), and a sweep over a CSV
series runs end to end, with the real job function, into a report that says it has no
truth. The run's results.nc is portable CF netCDF4."""

import json

import numpy as np
import pytest

from jdyn.cli import main
from jdyn.scenarios import ScenarioError, expand, load_scenario, loads
from jdyn.systems import Henon

SCENARIO = ("embedding = {{ dim = 2 }}\nmodel = {{ hidden = [4] }}\n"
            "training = {{ max_iter = 15 }}\nanalysis = {{ lyapunov_steps = 200, "
            "free_run_steps = 300, correlation_points = 300, n_orbits = 2, "
            "baselines = false }}\n") + """\
[scenario]
name = "mydata"
description = "the Henon x-series as if measured"
[data]
path = "{path}"
{extra}
[sweep]
regulariser = ["none", "jacobian"]
seed = [0, 1]
"""


def _series(n=400):
    return Henon().trajectory(n, rng=0)[:, 0]


def _write_csv(path, t, x, header="t,x"):
    rows = "\n".join(f"{a:.6g},{b}" for a, b in zip(t, x))
    path.write_text(f"{header}\n{rows}\n")
    return path


@pytest.fixture()
def csv(tmp_path):
    return _write_csv(tmp_path / "series.csv", 0.5 * np.arange(400), _series())


def _scenario(tmp_path, data_path, extra="", head=""):
    path = tmp_path / "s.toml"
    text = SCENARIO.format(path=data_path, extra=extra)
    path.write_text(text.replace("[scenario]", head + "[scenario]"))
    return path


def _bad_files(tmp_path):
    x, t = _series(), 0.5 * np.arange(400)
    (tmp_path / "garbage.npy").write_bytes(b"\x00\x01 not an array")
    words = tmp_path / "words.csv"
    words.write_text("t,x\n" + "\n".join(f"{a},{'abc' if i == 7 else b}"
                                         for i, (a, b) in enumerate(zip(t, x))) + "\n")
    gap = tmp_path / "gap.csv"
    gap.write_text("t,x\n" + "\n".join(f"{a},{'' if i == 9 else b}"
                                       for i, (a, b) in enumerate(zip(t, x))) + "\n")
    jitter = t.copy()
    jitter[50] += 0.2
    _write_csv(tmp_path / "irregular.csv", jitter, x)
    _write_csv(tmp_path / "ok.csv", t, x)
    return tmp_path


# (id, data path, extra [data] keys, key, fragment of what was expected)
BAD = [
    ("missing", "nope.csv", "", "data.path", "file does not exist"),
    ("unparsable", "garbage.npy", "", "data.path", "cannot be read as a NumPy .npy file"),
    ("non-numeric", "words.csv", "", "data.path", "'abc' is not a"),
    ("gap", "gap.csv", "", "data.path", "line 11"),
    ("irregular", "irregular.csv", "", "data.path", "irregular"),
    ("no-column", "ok.csv", 'column = "pressure"', "data.column", "no column 'pressure'"),
    ("dt-disagrees", "ok.csv", "dt = 0.1", "data.dt", "disagrees with the spacing"),
]


@pytest.mark.parametrize("name, data, extra, key, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_data_file_is_a_scenario_error(tmp_path, capsys, name, data, extra, key,
                                           fragment):
    _bad_files(tmp_path)
    scenario = _scenario(tmp_path, data, extra)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jdyn: {scenario}: {key}: got ")   # file, key, what was given
    assert "; expected a readable, regularly sampled numeric series" in err
    assert fragment in err and data in err
    assert not out.exists()


@pytest.mark.parametrize("head, extra, fragment", [
    ('[system]\nname = "henon"\n', "", "data: given together with [system]; expected one"),
    ("", "[observation]\nnoise = 0.1\n", "observation.noise: given with [data]"),
    ("", '[objective]\nregulariser = "logdet"\n', "objective.logdet_target to be set"),
], ids=["system-and-data", "observation-keys", "logdet-without-target"])
def test_data_scenario_conflicts(tmp_path, csv, capsys, head, extra, fragment):
    scenario = _scenario(tmp_path, csv.name, head=head)
    scenario.write_text(scenario.read_text().replace("[sweep]", extra + "[sweep]")
                        .replace('regulariser = ["none", "jacobian"]\n', ""))
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists()


def test_neither_system_nor_data():
    with pytest.raises(ScenarioError, match=r"system: missing required table \[system\]; "
                                            r"expected \[system\] .* or \[data\]"):
        loads('[scenario]\nname = "x"\n')


def test_data_is_resolved_and_hashed(tmp_path, csv):
    scenario = load_scenario(_scenario(tmp_path, csv.name))
    data = scenario.data["data"]
    assert data["path"] == str(csv.resolve()) and data["dt"] == 0.5 and data["length"] == 400
    assert "system" not in scenario.data and len(data["sha256"]) == 64
    ids = [job.id for job in expand(scenario)]
    _write_csv(csv, 0.5 * np.arange(400), _series() + 1e-9)      # the file changed
    assert [job.id for job in expand(load_scenario(tmp_path / "s.toml"))] != ids


@pytest.fixture(scope="module")
def data_run(tmp_path_factory):
    """A sweep of 2 regularisers x 2 seeds over a CSV series, the real job function."""
    root = tmp_path_factory.mktemp("data_run")
    csv = _write_csv(root / "series.csv", 0.5 * np.arange(400), _series())
    scenario = _scenario(root, csv.name, 'units = "mV"')
    out = root / "run"
    assert main(["run", str(scenario), "--out", str(out), "--jobs", "1"]) == 0
    return out


def test_a_sweep_over_a_csv_series_runs_into_a_report(data_run):
    md = (data_run / "report.md").read_text()
    assert "No truth: the series was read from a file" in md
    assert "series.csv" in md and "Exponents `lyapunov`" in md
    assert "Errors of `lyapunov` against the truth" not in md
    import xarray as xr
    with xr.open_dataset(data_run / "results.nc", engine="h5netcdf") as ds:
        assert not [v for v in ds.variables if v.startswith("true_")]
        assert (ds["status"].values == "ok").all(), ds["reason"].values
        assert ds["lyapunov"].attrs["units"] == "nats/time unit"     # dt = 0.5 from stamps
        assert ds["free_orbit"].attrs["units"] == "mV"
        cfg = json.loads(ds.attrs["scenario_config"])
        assert cfg["data"]["dt"] == 0.5 and ds.attrs["system_kind"] == "data file"


@pytest.mark.parametrize("engine", ["h5netcdf", "netcdf4"])
def test_results_nc_is_portable_cf_netcdf4(data_run, engine):
    pytest.importorskip({"h5netcdf": "h5netcdf", "netcdf4": "netCDF4"}[engine])
    import xarray as xr
    with xr.open_dataset(data_run / "results.nc", engine=engine) as ds:
        assert ds.attrs["Conventions"] == "CF-1.10"
        for name in ds.variables:                       # data variables and coordinates
            attrs = ds[name].attrs
            assert attrs.get("units") and attrs.get("long_name"), name
    with open(data_run / "results.nc", "rb") as f:
        assert f.read(8) == b"\x89HDF\r\n\x1a\n"        # netCDF4 is HDF5, never netCDF3
