"""The real scenario job: simulate, observe, fit, read invariants, run the baselines."""

import math

import numpy as np
import pytest

from jdyn.scenarios import expand, load_scenario
from jdyn.scenarios.jobs import known_logdet, observe, reference, run_job
from jdyn.systems import get_system

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


def test_reference_of_henon_is_the_literature(tmp_path):
    ref = reference(_config(tmp_path))
    np.testing.assert_allclose(ref["true_lyapunov"], [0.41922, -1.62319], atol=0.003)
    assert abs(ref["true_correlation_dim"] - 1.21) < 0.03
