"""Size limits before work starts, the dry run, and the runner's memory."""

import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from jdyn.scenarios import loads, run
from jdyn.scenarios.limits import (BYTES_PER_UNIT, SECONDS_PER_JOB, count_jobs,
                                   estimate_seconds, job_memory_mb, model_width)
from jdyn.scenarios.sweep import expand

TESTS = str(Path(__file__).parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from _runs import fake_jobs_env  # noqa: E402,F401

HEAD = '[scenario]\nname = "big"\n[system]\nname = "henon"\n[observation]\nlength = 500\n'
TEN_MILLION = HEAD + ("[sweep]\nseed = %s\nnoise = %s\ndim = %s\nstrength = %s\n" % (
    list(range(1000)), [i / 1e4 for i in range(100)], list(range(1, 21)),
    [float(i) for i in range(1, 6)]))


def test_a_ten_million_job_sweep_is_refused_at_once_in_little_memory(tmp_path):
    scenario = loads(TEN_MILLION)
    assert count_jobs(scenario) == 10_000_000
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="10,000,000 jobs .*--max-jobs N or limits.max_jobs"):
        run(scenario, out_dir=tmp_path / "out", dry_run=True)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 2 and peak < 200e6, (seconds, peak)
    assert not (tmp_path / "out").exists()


def test_memory_estimate_follows_length_width_and_dim():
    base = loads(HEAD + "[model]\nhidden = [10, 20]\n[embedding]\ndim = 3\n")
    assert job_memory_mb(base) == pytest.approx(500 * 30 * 5 * BYTES_PER_UNIT / 1e6)
    swept = loads(HEAD + "[sweep]\nhidden = [[10], [40]]\ndim = [2, 4]\n")
    assert job_memory_mb(swept) == pytest.approx(500 * 40 * 6 * BYTES_PER_UNIT / 1e6)
    assert model_width("polynomial", [30], 2, 3) == 10      # monomials of degree <= 3 in 2
    assert model_width("rbf", [25, 99], 2, 3) == 25


def test_run_time_estimate_grows_with_the_work():
    small = expand(loads(HEAD + "[analysis]\nbaselines = false\n"))
    big = expand(loads(HEAD.replace("500", "50000") + "[analysis]\nbaselines = false\n"
                       "[objective]\nregulariser = \"jacobian\"\n"))
    fixed = SECONDS_PER_JOB       # a job's analysis, independent of its size
    ratio = (estimate_seconds(big, 1) - fixed) / (estimate_seconds(small, 1) - fixed)
    assert ratio == pytest.approx(100 * 2)      # 100 x the samples, J-prop's 2 x the work
    sweep = expand(loads(HEAD + "[sweep]\nseed = [0, 1, 2, 3]\n"))
    assert estimate_seconds(sweep, 4) == pytest.approx(estimate_seconds(sweep, 1) / 4)


def test_limits_do_not_change_the_scenario_identity():
    a = loads(HEAD)
    b = loads(HEAD + "[limits]\njob_timeout = 10.0\nmax_jobs = 5\n")
    assert expand(a)[0].id == expand(b)[0].id
    from jdyn.scenarios import scenario_hash
    assert scenario_hash(a) == scenario_hash(b)


def test_dry_run_piped_into_head_ends_quietly(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(HEAD + f"[sweep]\nseed = {list(range(3000))}\n")
    proc = subprocess.Popen([sys.executable, "-m", "jdyn", "run", str(path), "--dry-run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()                      # what `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and b"3000 jobs" in first
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def _rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_runner_memory_stays_flat_over_two_thousand_jobs(tmp_path, monkeypatch, capsys):
    """The runner's resident memory from its first written job to its last (the pool's
    workers are other processes; results.nc assembly afterwards is not counted)."""
    import jdyn.scenarios.results as files
    samples, write = [], files.write_json

    def sampled(path, obj):
        write(path, obj)
        samples.append(_rss_mb())
    monkeypatch.setattr(files, "write_json", sampled)
    text = HEAD + f"[sweep]\nseed = {list(range(500))}\nnoise = [0.0, 0.01, 0.02, 0.03]\n"
    summary = run(loads(text), out_dir=tmp_path / "r", jobs=2, progress=False,
                  job_fn="_fake_jobs:math_job", reference_fn=False)
    assert summary.n_run == 2000
    growth = max(samples) - samples[0]
    with capsys.disabled():
        print(f"\nrunner RSS {samples[0]:.1f} MB at its first job file, at most "
              f"{max(samples):.1f} MB over {len(samples)} (growth {growth:.1f} MB)")
    assert growth < 20


@pytest.mark.slow
def test_a_local_dask_cluster_serves_no_http(tmp_path):
    pytest.importorskip("dask.distributed", reason="dask[distributed] is an optional extra")
    import socket
    import urllib.error
    import urllib.request
    from jdyn.scenarios.daskpool import DaskExecutor
    executor = DaskExecutor(2)
    client = executor._connect()
    try:
        scheduler = client.cluster.scheduler
        host, port = scheduler.http_server.address, scheduler.http_server.port
        assert host == "127.0.0.1" and port != 8787
        assert scheduler.address.startswith("tcp://127.0.0.1:")
        for path in ("/status", "/info/main/workers.html", "/metrics", "/"):
            with pytest.raises(urllib.error.HTTPError) as exc:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5)
            assert exc.value.code == 404
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", 8787)) != 0
    finally:
        executor._client = client
        executor.close()


def test_a_large_scenario_text_is_stored_once(tmp_path):
    from jdyn.scenarios import open_results
    from jdyn.scenarios.sweep import STORED_TEXT
    text = HEAD + "# padding\n" * 200_000          # 2 MB of comments
    run(loads(text), out_dir=tmp_path / "r", jobs=1, progress=False, reference_fn=False)
    files = {p.name: p.stat().st_size for p in (tmp_path / "r").iterdir() if p.is_file()}
    assert (tmp_path / "r" / "scenario.toml").read_text() == text
    assert files["manifest.json"] < 10_000
    assert files["results.nc"] < STORED_TEXT + 100_000
    stored = open_results(tmp_path / "r").attrs["scenario"]
    assert stored.startswith(text[:STORED_TEXT]) and "2,000,0" in stored
