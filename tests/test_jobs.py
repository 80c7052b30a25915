"""The real scenario job: simulate, observe, fit, read invariants, run the baselines."""

import math

import numpy as np
import pytest

import sys
from pathlib import Path

from jdyn.scenarios import contract, expand, load_scenario, run
from jdyn.scenarios.jobs import known_logdet, observe, reference, run_job
from jdyn.scenarios.results import open_results
from jdyn.systems import get_system

TESTS = str(Path(__file__).parent)
if TESTS not in sys.path:  # the fake job functions are imported by name
    sys.path.insert(0, TESTS)

TINY = """
[scenario]
name = "tiny"
[system]
name = "{system}"
[observation]
length = 300
transient = 100
noise = 0.05
{extra}
[embedding]
dim = 2
[model]
hidden = [4]
[objective]
regulariser = "{regulariser}"
strength = 1e-3
[training]
max_iter = 15
[analysis]
lyapunov_steps = 200
free_run_steps = 300
correlation_points = 300
n_orbits = 2
baselines = {baselines}
[sweep]
seed = [3]
"""


def _config(tmp_path, system="henon", regulariser="jacobian", baselines="true", extra=""):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(system=system, regulariser=regulariser, baselines=baselines,
                                extra=extra))
    job = expand(load_scenario(path))[0]
    return job.config if hasattr(job, "config") else job


def test_run_job_returns_the_results_variables(tmp_path):
    out = run_job(_config(tmp_path))
    assert out["status"] == "ok"
    assert np.shape(out["lyapunov"]) == (2,) and np.shape(out["lyapunov_free"]) == (2,)
    for key in ("kaplan_yorke", "one_step_error", "multi_step_error", "train_seconds",
                "strength_used", "nolds_lyapunov_max", "nolds_correlation_dim"):
        assert np.isfinite(out[key]) or key == "kaplan_yorke", key
    assert "nolds.lyap_r" in out["nolds_settings"]
    assert out["history_total"]["dims"] == ["iteration"]


def test_same_config_same_numbers(tmp_path):
    a = run_job(_config(tmp_path, baselines="false"))
    b = run_job(_config(tmp_path, baselines="false"))
    np.testing.assert_array_equal(a["lyapunov"], b["lyapunov"])


def test_observational_noise_is_seeded_and_of_the_right_size(tmp_path):
    clean, noisy, _ = observe(_config(tmp_path))
    assert np.std(noisy - clean) == pytest.approx(0.05 * np.std(clean), rel=0.2)


def test_known_logdet_only_where_the_physics_fixes_it(tmp_path):
    henon = get_system("henon")
    assert known_logdet(henon, _config(tmp_path)) == pytest.approx(math.log(0.3))
    lorenz_cfg = _config(tmp_path, system="lorenz", regulariser="logdet",
                         extra="dt = 0.05")
    assert known_logdet(get_system("lorenz"), lorenz_cfg) is None
    with pytest.raises(ValueError, match="logdet_target"):
        run_job(lorenz_cfg)


@pytest.fixture(scope="module")
def henon_reference(tmp_path_factory):
    """The real reference of the tiny Hénon scenario (computed once: it takes seconds)."""
    return reference(_config(tmp_path_factory.mktemp("ref")))


def test_reference_of_henon_is_the_literature(henon_reference):
    np.testing.assert_allclose(henon_reference["true_lyapunov"], [0.41922, -1.62319],
                               atol=0.003)
    assert abs(henon_reference["true_correlation_dim"] - 1.21) < 0.03


def test_the_system_knows_its_delay_logdet():
    henon = get_system("henon", b=0.2)
    assert henon.delay_logdet(2, 1) == pytest.approx(math.log(0.2))
    assert henon.delay_logdet(3, 1) is None and henon.delay_logdet(2, 2) is None
    assert get_system("lorenz").delay_logdet(2, 1) is None


_CACHED = {}


def cached_reference(config):
    """The real reference, computed once per test module (see ``henon_reference``)."""
    return _CACHED["reference"]


def test_real_job_output_is_the_declared_contract(tmp_path, henon_reference):
    """The real job function and reference, run by the runner into results.nc: every
    variable the contract declares is there with its dims, units and long name, and
    nothing else is; a drift in any variable, unit or dimension fails here."""
    _CACHED["reference"] = henon_reference
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(system="henon", regulariser="jacobian", baselines="true",
                                extra="").replace("noise = 0.05\n", "")
                    .replace("seed = [3]", "seed = [3]\nnoise = [0.05]"))
    run(path, out_dir=tmp_path / "run", jobs=1, progress=False, reference_fn=cached_reference)
    ds = open_results(tmp_path / "run")
    assert ds.attrs["Conventions"] == "CF-1.10" and ds["status"].values.ravel()[0] == "ok"
    sweep = ("seed", "noise")
    assert set(ds.data_vars) == set(contract.VARIABLES)
    for name, var in contract.VARIABLES.items():
        lead = () if var.source == contract.REFERENCE else sweep
        assert ds[name].dims == lead + var.dims, name
        assert ds[name].attrs["units"] == contract.units_of(var, "iteration", "1"), name
        assert ds[name].attrs["long_name"] == var.long_name, name
    for dim, (long_name, units) in contract.DIMS.items():
        assert ds[dim].attrs == {"long_name": long_name, "units": units}, dim
    assert np.isfinite(ds["fit_lo"]).all() and (ds["fit_lo"] < ds["fit_hi"]).all()
    r = ds["log_r"].values[np.isfinite(ds["log_r"].values)]     # fit range in ln r, inside
    assert r.min() - 1e-9 <= float(ds["fit_lo"].min()) <= float(ds["fit_hi"].max()) <= r.max()


@pytest.mark.parametrize("change, problem", [
    (lambda out: out.pop("kaplan_yorke"), "kaplan_yorke: missing"),
    (lambda out: out.update(extra_thing=1.0), "extra_thing: not in the results contract"),
    (lambda out: out.update(lyapunov=0.4), "lyapunov: 0-d; expected a list over exponent"),
    (lambda out: out.update(log_r={"dims": ["r"], "data": [1.0]}),
     "log_r: dims ('r',); expected ('radius',)"),
    (lambda out: out.update(nolds_settings=3.0), "nolds_settings: got float; expected str"),
])
def test_check_result_names_every_drift(tmp_path, change, problem):
    import _fake_jobs
    config = _config(tmp_path)
    out = _fake_jobs.contract_job(config)
    change(out)
    with pytest.raises(ValueError, match="breaks the results contract") as info:
        contract.check_result(out, config)
    assert problem in str(info.value)


def test_the_scenarios_guide_carries_the_contract_table():
    guide = Path(__file__).parents[1] / "docs" / "guide" / "scenarios.md"
    assert contract.markdown_table() in guide.read_text(encoding="utf-8")
