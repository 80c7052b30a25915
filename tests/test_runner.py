"""The scenario runner: results, resume, lock, crashes, SIGKILL, Dask, overhead."""

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from jdyn.cli import main
from jdyn.scenarios import loads, open_results, run
from jdyn.scenarios.results import LOCK

TESTS = str(Path(__file__).parent)
if TESTS not in sys.path:  # the fake job functions are imported by name
    sys.path.insert(0, TESTS)

from _runs import (assert_same, fake_jobs_env, scenario_file_fixture,  # noqa: E402,F401
                   values)

SCENARIO = """\
[scenario]
name = "fake"
description = "runner tests"
[system]
name = "henon"
[observation]
length = 500
[objective]
regulariser = "jacobian"
[sweep]
noise = [0.0, 0.05, 0.1]
dim = [2, 3]
seed = [0, 1]
"""


scenario_file = scenario_file_fixture(SCENARIO, "fake.toml")


def test_results_dataset(scenario_file, tmp_path):
    summary = run(scenario_file, out_dir=tmp_path / "r", jobs=1, progress=False)
    assert (summary.n_jobs, summary.n_run, summary.n_errors) == (12, 12, 0)
    ds = open_results(tmp_path / "r")
    assert ds["lyapunov"].dims == ("noise", "dim", "seed", "exponent")
    assert ds.sizes["exponent"] == 3 and ds["exponent"].values.tolist() == [1, 2, 3]
    assert np.isnan(ds["lyapunov"].sel(dim=2).values[..., 2]).all()
    assert np.isfinite(ds["lyapunov"].sel(dim=3).values).all()
    np.testing.assert_allclose(ds["lyapunov"].sel(noise=0.1, dim=2, seed=0, exponent=1),
                               0.32, atol=0.01)
    assert ds["loss_curve"].dims == ("noise", "dim", "seed", "iteration")
    assert ds["true_lyapunov"].dims == ("exponent",)
    assert float(ds["true_correlation_dim"]) == 1.21
    assert ds["status"].values.tolist() == np.full((3, 2, 2), "ok").tolist()
    assert ds["method"].values.flat[0] == "jacobian"
    assert ds["lyapunov"].attrs["long_name"].startswith("Lyapunov exponents of the")
    assert ds["lyapunov"].attrs["units"] == "nats/iteration"
    assert ds["noise"].attrs["long_name"].startswith("noise level")
    assert ds.attrs["scenario"] == SCENARIO
    assert ds.attrs["seeds"].tolist() == [0, 1]
    assert "numpy=" in ds.attrs["package_versions"] and "scipy=" in ds.attrs["package_versions"]
    assert ds.attrs["jdyn_version"] == "0.1"
    copy = (tmp_path / "r" / "scenario.toml").read_text()
    assert copy == SCENARIO
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert len(manifest["jobs"]) == 12 and manifest["axes"]["dim"] == [2, 3]
    assert not (tmp_path / "r" / LOCK).exists()


def test_same_scenario_twice_gives_identical_numbers(scenario_file, tmp_path):
    run(scenario_file, out_dir=tmp_path / "a", jobs=1, progress=False)
    run(scenario_file, out_dir=tmp_path / "b", jobs=2, progress=False)
    assert_same(values(open_results(tmp_path / "a")), values(open_results(tmp_path / "b")))


def test_crashing_job_is_recorded_and_the_others_survive(scenario_file, tmp_path, capsys,
                                                        monkeypatch):
    monkeypatch.setenv("JDYN_JOB_FN", "_fake_jobs:crashy_job")
    assert main(["run", str(scenario_file), "--out", str(tmp_path / "r"), "--jobs", "1",
                 "--no-report"]) == 0
    err = capsys.readouterr().err
    assert "12 jobs run, 4 ended with status 'error'" in err
    ds = open_results(tmp_path / "r")
    status = ds["status"].sel(noise=0.05).values
    assert (status == "error").all()
    assert (ds["status"].sel(noise=[0.0, 0.1]).values == "ok").all()
    assert ds["reason"].sel(noise=0.05).values.flat[0] == ("FloatingPointError: the fit "
                                                          "blew up at noise 0.05")
    assert np.isnan(ds["lyapunov"].sel(noise=0.05).values).all()
    record = next(iter((tmp_path / "r" / "jobs").glob("*.json"))).read_text()
    assert '"config"' in record


def test_existing_directory_needs_resume(scenario_file, tmp_path, capsys):
    out = tmp_path / "r"
    run(scenario_file, out_dir=out, jobs=1, progress=False)
    before = sorted(p.name for p in (out / "jobs").iterdir())
    assert main(["run", str(scenario_file), "--out", str(out)]) == 2
    assert "already exists; pass --resume" in capsys.readouterr().err
    assert sorted(p.name for p in (out / "jobs").iterdir()) == before


def test_resume_skips_finished_jobs(scenario_file, tmp_path):
    out = tmp_path / "r"
    run(scenario_file, out_dir=out, jobs=1, progress=False)
    full = values(open_results(out))
    removed = sorted((out / "jobs").glob("*.json"))[:5]
    for path in removed:
        path.unlink()
    (out / "results.nc").unlink()
    summary = run(scenario_file, out_dir=out, jobs=1, resume=True, progress=False)
    assert (summary.n_skipped, summary.n_run) == (7, 5)
    assert_same(full, values(open_results(out)))
    again = run(scenario_file, out_dir=out, jobs=1, resume=True, progress=False)
    assert (again.n_skipped, again.n_run) == (12, 0)


def test_resume_refuses_a_changed_scenario(scenario_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "r"
    run(scenario_file, out_dir=out, jobs=1, progress=False)
    scenario_file.write_text(SCENARIO.replace("[0.0, 0.05, 0.1]", "[0.0, 0.05, 0.2]"))
    assert main(["run", str(scenario_file), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds a run of a different scenario; changed: sweep.noise ([0.0, 0.05, 0.1] -> " \
           "[0.0, 0.05, 0.2])" in err
    assert "Use a new --out directory" in err
    monkeypatch.setenv("JDYN_JOB_FN", "_fake_jobs:slow_job")
    scenario_file.write_text(SCENARIO)
    with pytest.raises(ValueError, match="job function"):
        run(scenario_file, out_dir=out, jobs=1, resume=True, progress=False)


def test_lock_stops_a_second_run_and_stale_locks_are_taken_over(scenario_file, tmp_path):
    import socket
    out = tmp_path / "r"
    out.mkdir()
    live = {"pid": os.getpid(), "host": socket.gethostname()}
    (out / LOCK).write_text(json.dumps(live))
    with pytest.raises(ValueError, match=f"being written by another jdyn run \\(pid {os.getpid()}"):
        run(scenario_file, out_dir=out, jobs=1, progress=False)
    assert not (out / "manifest.json").exists()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    summary = run(scenario_file, out_dir=out, jobs=1, progress=False)
    assert summary.n_run == 12 and not (out / LOCK).exists()


def test_plain_progress_line_has_an_eta(scenario_file, tmp_path, capsys):
    run(scenario_file, out_dir=tmp_path / "r", jobs=1, progress="plain")
    err = capsys.readouterr().err
    assert "[12/12] 100%" in err and "ETA" in err


def test_a_worker_dying_on_every_attempt_fails_that_job_only(scenario_file, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.setenv("JDYN_JOB_FN", "_fake_jobs:dying_job")
    out = tmp_path / "r"
    scenario_file.write_text(SCENARIO.replace("dim = [2, 3]\nseed = [0, 1]\n", ""))
    assert main(["run", str(scenario_file), "--out", str(out), "--jobs", "2",
                 "--no-report"]) == 0
    assert "3 jobs run, 1 ended with status 'error'" in capsys.readouterr().err
    ds = open_results(out)
    assert ds["status"].values.tolist() == ["ok", "error", "ok"]
    assert "worker process died 2 times (exit code 3" in ds["reason"].sel(noise=0.05).values.flat[0]
    assert not (out / LOCK).exists()


def test_bad_return_value_is_an_error_status(tmp_path):
    s = loads(SCENARIO.split("[sweep]")[0])
    run(s, out_dir=tmp_path / "r", jobs=1, progress=False, job_fn="json:dumps")
    ds = open_results(tmp_path / "r")
    assert ds["status"].item() == "error"
    assert "job function returned str" in ds["reason"].item()


def test_report_command(scenario_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "r"
    monkeypatch.setitem(sys.modules, "jdyn.report", None)
    assert main(["run", str(scenario_file), "--out", str(out), "--jobs", "1"]) == 0
    assert "report module (jdyn.report) is not available" in capsys.readouterr().err
    assert main(["report", str(out)]) == 1
    calls = []
    fake = types.SimpleNamespace(build_report=lambda d: calls.append(d) or Path(d) / "report.html")
    monkeypatch.setitem(sys.modules, "jdyn.report", fake)
    (out / "results.nc").unlink()
    assert main(["report", str(out)]) == 0
    assert calls == [out] and (out / "results.nc").exists()
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nowhere")]) == 2


def test_runner_overhead_per_job(tmp_path, capsys):
    text = SCENARIO.replace("seed = [0, 1]", f"seed = {list(range(40))}")
    t0 = time.perf_counter()
    summary = run(loads(text), out_dir=tmp_path / "r", jobs=1, progress=False,
                  job_fn="_fake_jobs:noop_job")
    per_job = (time.perf_counter() - t0) / summary.n_jobs
    with capsys.disabled():
        print(f"\nrunner overhead: {1000 * per_job:.1f} ms per job (inline, "
              f"{summary.n_jobs} no-op jobs, results.nc included)")
    assert per_job < 0.2


def test_sigkill_then_resume_matches_an_uninterrupted_run(scenario_file, tmp_path, monkeypatch):
    out = tmp_path / "killed"
    env = dict(os.environ, JDYN_JOB_FN="_fake_jobs:slow_job", JDYN_FAKE_SLEEP="0.5")
    proc = subprocess.Popen([sys.executable, "-m", "jdyn", "run", str(scenario_file), "--out",
                             str(out), "--jobs", "2", "--no-report"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list((out / "jobs").glob("*.json"))) < 2:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    try:  # the orphaned workers notice their parent is gone and exit
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.killpg(proc.pid, 0)
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("worker processes outlived the killed run")
    except ProcessLookupError:
        pass
    finished = len(list((out / "jobs").glob("*.json")))
    assert 2 <= finished < 12 and (out / LOCK).exists() and not (out / "results.nc").exists()
    monkeypatch.setenv("JDYN_JOB_FN", "_fake_jobs:slow_job")
    summary = run(scenario_file, out_dir=out, jobs=1, resume=True, progress=False)
    assert summary.n_skipped == finished and summary.n_run == 12 - finished
    run(scenario_file, out_dir=tmp_path / "whole", jobs=1, progress=False)
    assert_same(values(open_results(out)), values(open_results(tmp_path / "whole")))


def test_dask_local_cluster_matches_the_local_pool(scenario_file, tmp_path):
    """Threads-only cluster here, for speed; the slow test below uses worker processes."""
    pytest.importorskip("dask.distributed", reason="dask[distributed] is an optional extra")
    from dask.distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        run(scenario_file, out_dir=tmp_path / "dask", executor="dask",
            scheduler=cluster.scheduler_address, jobs=2, progress=False)
    run(scenario_file, out_dir=tmp_path / "local", jobs=2, progress=False)
    a, b = open_results(tmp_path / "dask"), open_results(tmp_path / "local")
    assert_same(values(a), values(b))
    assert a.attrs["scenario_hash"] == b.attrs["scenario_hash"]


def test_dask_missing_is_a_clear_error(scenario_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert main(["run", str(scenario_file), "--out", str(tmp_path / "r"),
                 "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--executor dask needs dask.distributed" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_dask_worker_processes_and_resume(scenario_file, tmp_path, capsys):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is an optional extra")
    out = tmp_path / "dask"
    run(scenario_file, out_dir=tmp_path / "inline", jobs=1, progress=False)
    assert main(["run", str(scenario_file), "--out", str(out), "--jobs", "2",
                 "--executor", "dask", "--no-report"]) == 0
    for path in sorted((out / "jobs").glob("*.json"))[:4]:
        path.unlink()
    assert main(["run", str(scenario_file), "--out", str(out), "--jobs", "2",
                 "--executor", "dask", "--resume", "--no-report"]) == 0
    assert "4 jobs run, 8 already finished" in capsys.readouterr().err
    assert_same(values(open_results(out)), values(open_results(tmp_path / "inline")))


@pytest.mark.slow
def test_pool_overhead_per_job(tmp_path, capsys):
    """Steady-state cost of one job through the pool (submit, pickle, run a no-op,
    return, atomic JSON write with fsync, progress): the spacing of finish times,
    which leaves out the workers' start-up (reported separately)."""
    from datetime import datetime
    text = SCENARIO.replace("seed = [0, 1]", f"seed = {list(range(40))}")
    t0 = time.perf_counter()
    summary = run(loads(text), out_dir=tmp_path / "r", jobs=2, progress=False,
                  job_fn="_fake_jobs:noop_job")
    total = time.perf_counter() - t0
    stamps = sorted(datetime.fromisoformat(json.loads(p.read_text())["finished"])
                    for p in (tmp_path / "r" / "jobs").glob("*.json"))
    per_job = (stamps[-1] - stamps[0]).total_seconds() / (len(stamps) - 1)
    with capsys.disabled():
        print(f"\npool overhead: {1000 * per_job:.1f} ms per job in steady state; "
              f"{total:.1f} s in all for {summary.n_jobs} no-op jobs on 2 workers")
    assert per_job < 0.2


def test_atomic_writes_get_ordinary_file_permissions(tmp_path):
    import os
    from jdyn.scenarios.results import write_atomic
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.json", b"{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644


def test_unreachable_dask_scheduler_is_refused_before_writing(scenario_file, tmp_path, capsys,
                                                              monkeypatch):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is an optional extra")
    from jdyn.scenarios.daskpool import DaskExecutor
    monkeypatch.setattr(DaskExecutor, "connect_timeout", "2s")
    assert main(["run", str(scenario_file), "--out", str(tmp_path / "r"),
                 "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
