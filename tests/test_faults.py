"""Fault injection: hung jobs, SIGTERM, killed workers, a full disk, tampered job files.

Each fault is followed by the check that matters: the sweep finished (or stopped with
one line), nothing partial was left, and a resumed run gives exactly the numbers of an
undisturbed one.
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jdyn.cli import main
from jdyn.scenarios import loads, open_results, run
from jdyn.scenarios.results import LOCK

TESTS = str(Path(__file__).parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from _runs import (assert_same, fake_jobs_env, scenario_file_fixture,  # noqa: E402,F401
                   values)

SCENARIO = """\
[scenario]
name = "faults"
[system]
name = "henon"
[observation]
length = 500
[sweep]
noise = [0.0, 0.05, 0.1]
seed = [0, 1]
"""


scenario_file = scenario_file_fixture(SCENARIO, "faults.toml")


@pytest.fixture
def undisturbed(scenario_file, tmp_path):
    """Every data variable (but wall times) of a clean run of the same scenario."""
    run(scenario_file, out_dir=tmp_path / "clean", jobs=1, progress=False,
        job_fn="_fake_jobs:math_job")
    return values(open_results(tmp_path / "clean"))


def messages(capsys):
    """The lines of stderr that are not progress lines."""
    return [line for line in capsys.readouterr().err.splitlines()
            if not line.startswith("[") and ": running " not in line]


def leftovers(out):
    """Temporary files a failed write could leave behind."""
    return sorted(p.name for p in Path(out).rglob(".*.tmp"))


@pytest.mark.parametrize("job, jobs", [("hanging_job", 1),
                                       pytest.param("hanging_job", 2, marks=pytest.mark.slow),
                                       ("native_hang_job", 2)])
def test_a_hanging_job_times_out_and_the_sweep_finishes(scenario_file, tmp_path, capsys, job,
                                                        jobs, monkeypatch):
    out = tmp_path / "r"
    monkeypatch.setenv("JDYN_JOB_FN", f"_fault_jobs:{job}")
    t0 = time.monotonic()
    code = main(["run", str(scenario_file), "--out", str(out), "--jobs", str(jobs),
                 "--job-timeout", "0.5", "--no-report"])
    assert code == 0 and time.monotonic() - t0 < 60
    assert "2 stopped at the time limit (status 'timeout')" in capsys.readouterr().err
    ds = open_results(out)
    assert (ds["status"].sel(noise=0.05).values == "timeout").all()
    assert (ds["status"].sel(noise=[0.0, 0.1]).values == "ok").all()
    assert "job time limit of 0.5 s" in ds["reason"].sel(noise=0.05).values.flat[0]
    assert np.isfinite(ds["lyapunov"].sel(noise=0.1).values[..., 0]).all()


def test_retry_errors_reruns_timeouts_with_a_longer_limit(scenario_file, tmp_path,
                                                          monkeypatch):
    out = tmp_path / "r"
    monkeypatch.setenv("JDYN_JOB_FN", "_fault_jobs:slow_job")
    monkeypatch.setenv("JDYN_FAKE_SLEEP", "0.3")
    first = run(scenario_file, out_dir=out, jobs=1, progress=False, job_timeout=0.1)
    assert first.n_timeouts == 6
    again = run(scenario_file, out_dir=out, jobs=1, progress=False, job_timeout=30,
                resume=True, retry_errors=True)
    assert again.n_run == 6 and again.n_timeouts == 0


def _wait_for_jobs(out, n, proc):
    deadline = time.monotonic() + 120
    while len(list((out / "jobs").glob("*.json"))) < n:
        assert proc.poll() is None, "the run ended before the signal"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def _assert_group_gone(pgid):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)
    pytest.fail("worker processes outlived the terminated run")


@pytest.mark.slow
def test_sigterm_ends_like_ctrl_c_and_resume_is_exact(scenario_file, tmp_path, undisturbed,
                                                      monkeypatch):
    out = tmp_path / "r"
    env = dict(os.environ, JDYN_JOB_FN="_fault_jobs:slow_job", JDYN_FAKE_SLEEP="0.5")
    proc = subprocess.Popen([sys.executable, "-m", "jdyn", "run", str(scenario_file), "--out",
                             str(out), "--jobs", "2", "--no-report"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    _wait_for_jobs(out, 2, proc)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143
    assert "terminated (SIGTERM); finished jobs are kept" in err and "Traceback" not in err
    assert not (out / LOCK).exists() and not leftovers(out)
    _assert_group_gone(proc.pid)
    finished = len(list((out / "jobs").glob("*.json")))
    assert 2 <= finished < 6
    monkeypatch.setenv("JDYN_JOB_FN", "_fault_jobs:slow_job")
    summary = run(scenario_file, out_dir=out, jobs=2, resume=True, progress=False)
    assert (summary.n_skipped, summary.n_run) == (finished, 6 - finished)
    assert_same(values(open_results(out)), undisturbed)


def test_a_worker_killed_mid_job_is_replaced_and_the_job_retried(scenario_file, tmp_path,
                                                                 undisturbed, monkeypatch):
    monkeypatch.setenv("JDYN_FAULT_MARKS", str(tmp_path))
    summary = run(scenario_file, out_dir=tmp_path / "r", jobs=2, progress=False,
                  job_fn="_fault_jobs:killed_once_job")
    assert summary.n_errors == 0 and len(list(tmp_path.glob("*-0.05-2"))) == 2
    assert_same(values(open_results(tmp_path / "r")), undisturbed)


def _full_disk_after(monkeypatch, n_jobs):
    """os.fsync raising ENOSPC for every job file after the first ``n_jobs``: the disk
    fills up while the sweep runs (the injected writer)."""
    real, seen = os.fsync, []

    def fsync(fd):
        target = os.readlink(f"/proc/self/fd/{fd}")
        if f"{os.sep}jobs{os.sep}." in target:
            seen.append(target)
            if len(seen) > n_jobs:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    return real


def test_disk_full_while_writing_a_job_file(scenario_file, tmp_path, capsys, undisturbed,
                                            monkeypatch):
    out = tmp_path / "r"
    real_fsync = _full_disk_after(monkeypatch, 2)
    assert main(["run", str(scenario_file), "--out", str(out), "--jobs", "1",
                 "--no-report"]) == 2
    err = messages(capsys)
    assert len(err) == 1 and "No space left on device" in err[0]
    assert f"cannot write {out / 'jobs'}" in err[0] and "--resume" in err[0]
    assert not leftovers(out) and not (out / LOCK).exists()
    assert len(list((out / "jobs").glob("*.json"))) == 2
    for path in (out / "jobs").glob("*.json"):
        json.loads(path.read_text())          # whole files only
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert main(["run", str(scenario_file), "--out", str(out), "--jobs", "1", "--resume",
                 "--no-report"]) == 0
    assert_same(values(open_results(out)), undisturbed)


def test_disk_full_while_assembling_results(scenario_file, tmp_path, capsys, undisturbed,
                                            monkeypatch):
    import xarray as xr
    out = tmp_path / "r"
    real = xr.Dataset.to_netcdf

    def to_netcdf(self, path, *args, **kwargs):
        Path(path).write_bytes(b"CDF\x01 half a file")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(xr.Dataset, "to_netcdf", to_netcdf)
    assert main(["run", str(scenario_file), "--out", str(out), "--jobs", "1",
                 "--no-report"]) == 2
    err = messages(capsys)
    assert len(err) == 1 and f"cannot write {out / 'results.nc'}: No space left" in err[0]
    assert not (out / "results.nc").exists() and not leftovers(out)
    assert len(list((out / "jobs").glob("*.json"))) == 6
    monkeypatch.setattr(xr.Dataset, "to_netcdf", real)
    assert main(["run", str(scenario_file), "--out", str(out), "--resume",
                 "--no-report"]) == 0
    assert_same(values(open_results(out)), undisturbed)


def _tamper(out, how):
    path = sorted((out / "jobs").glob("*.json"))[0]
    text = path.read_text()
    if how == "edited":
        record = json.loads(text)
        record["result"]["kaplan_yorke"] = 1.99
        path.write_text(json.dumps(record, indent=1))
    else:
        path.write_text(text[: len(text) // 2])
    return path


@pytest.mark.parametrize("how, says", [("edited", "does not match its checksum"),
                                       ("corrupted", "is not valid JSON")])
def test_tampered_job_files_are_named_and_rerun_or_refused(scenario_file, tmp_path, capsys,
                                                           undisturbed, how, says):
    out = tmp_path / "r"
    run(scenario_file, out_dir=out, jobs=1, progress=False)
    (out / "results.nc").unlink()
    path = _tamper(out, how)
    assert main(["report", str(out)]) == 2
    err = messages(capsys)
    assert len(err) == 1 and f"{path} {says}" in err[0] and "--resume" in err[0]
    assert not (out / "results.nc").exists()
    summary = run(scenario_file, out_dir=out, jobs=1, resume=True, progress=False)
    err = capsys.readouterr().err
    assert f"{path} {says}" in err and "running that job again" in err
    assert (summary.n_skipped, summary.n_run) == (5, 1)
    assert_same(values(open_results(out)), undisturbed)


def test_a_job_file_moved_to_another_id_is_refused(scenario_file, tmp_path, capsys):
    out = tmp_path / "r"
    run(scenario_file, out_dir=out, jobs=1, progress=False)
    first, second = sorted((out / "jobs").glob("*.json"))[:2]
    second.write_text(first.read_text())
    assert main(["report", str(out)]) == 2
    assert f"{second} holds the record of another job" in capsys.readouterr().err


def test_a_failing_quantity_costs_that_quantity_only(monkeypatch):
    """The issue's case: the model's iterates overflow in the 5-step prediction error
    (and here the nolds baselines fail too); the invariants already computed are kept."""
    from jdyn.estimators import DelayMapEstimator
    from jdyn.scenarios import expand, jobs
    text = ('[scenario]\nname = "q"\n[system]\nname = "henon"\n[observation]\nlength = 400\n'
            '[model]\nhidden = [4]\n[training]\nmax_iter = 5\n[analysis]\n'
            'lyapunov_steps = 100\nfree_run_steps = 200\ncorrelation_points = 150\n')
    config = expand(loads(text))[0].config

    def overflow(self, *args, **kwargs):
        raise ValueError("Input X contains NaN or inf")

    def nolds_fails(*args, **kwargs):
        raise FloatingPointError("nolds blew up")
    monkeypatch.setattr(DelayMapEstimator, "prediction_error", overflow)
    monkeypatch.setattr(jobs, "_baselines", nolds_fails)
    out = jobs.run_job(config)
    assert out["status"] == "partial"
    assert "prediction_error failed: ValueError: Input X contains NaN or inf" in out["reason"]
    assert "baselines failed: FloatingPointError: nolds blew up" in out["reason"]
    assert np.isnan(out["one_step_error"]) and np.isnan(out["multi_step_error"])
    assert np.isnan(out["nolds_lyapunov_max"]) and out["nolds_settings"] == ""
    assert np.all(np.isfinite(out["lyapunov"])) and np.isfinite(out["train_seconds"])


@pytest.mark.slow
def test_a_hanging_job_times_out_on_a_local_dask_cluster(scenario_file, tmp_path, capsys,
                                                         monkeypatch):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is an optional extra")
    monkeypatch.setenv("JDYN_JOB_FN", "_fault_jobs:native_hang_job")
    out = tmp_path / "r"
    assert main(["run", str(scenario_file), "--out", str(out), "--jobs", "2",
                 "--executor", "dask", "--job-timeout", "3", "--no-report"]) == 0
    ds = open_results(out)
    assert (ds["status"].sel(noise=0.05).values == "timeout").all()
    assert (ds["status"].sel(noise=[0.0, 0.1]).values == "ok").all()
