"""Smoke tests of the benchmark machinery (``jdyn bench jprop``) at tiny sizes.

They check the structure of what the benchmark returns and prints, never a time.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from jdyn.bench import _timing
from jdyn.bench import jprop as bench

OBJ = ("data", "vjp", "jvp", "frob")


def test_single_thread_env():
    env = _timing.single_thread_env()
    assert set(env) == {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}
    assert all(v == "1" for v in env.values())
    assert _timing.env_is_single_threaded(env)
    assert not _timing.env_is_single_threaded({})


def test_time_interleaved_structure():
    calls = {"a": 0, "b": 0}

    def a():
        calls["a"] += 1

    def b():
        calls["b"] += 1

    out = _timing.time_interleaved({"a": a, "b": b}, repeats=3, warmup=1, min_time=0.0)
    assert set(out) == {"a", "b"}
    for stats in out.values():
        assert set(stats) >= {"median", "min", "q1", "q3", "number", "repeats", "cpu_ratio"}
        assert stats["repeats"] == 3 and stats["number"] >= 1
        assert stats["min"] <= stats["median"]
    assert calls["a"] >= 4 and calls["b"] >= 4
    with pytest.raises(ValueError):
        _timing.time_interleaved({"a": a}, repeats=0)


def test_thread_reporting_and_limit():
    pools = _timing.blas_threads()
    assert isinstance(pools, list)
    with _timing.limit_blas_threads(1):
        for pool in _timing.blas_threads():
            if pool["num_threads"] is not None:
                assert pool["num_threads"] == 1
    info = _timing.machine_info()
    assert {"cpu", "numpy", "blas", "thread_env", "blas_threads", "date"} <= set(info)
    assert "thread env" in _timing.describe_threads(info)


def test_select_configs():
    names = list(bench.CONFIGS)
    assert bench.select_configs(None) == names
    assert bench.select_configs("all") == names
    assert bench.select_configs("1,4") == [names[0], names[3]]
    assert bench.select_configs("3-64-64-3,3") == ["3-64-64-3"]
    for bad in ("9", "nope", ","):
        with pytest.raises(ValueError, match="--configs"):
            bench.select_configs(bad)


def test_configs_are_the_issue_ones():
    assert bench.CONFIGS == {
        "2-10-10-1": ([2, 10, 10, 1], 100), "4-32-32-1": ([4, 32, 32, 1], 2000),
        "3-64-64-3": ([3, 64, 64, 3], 5000), "8-128-128-8": ([8, 128, 128, 8], 2000)}


def test_measure_structure():
    res = bench.measure(["2-10-10-1", "3-64-64-3"], repeats=2, warmup=1, quick=True)
    json.dumps(res)                                   # machine-readable as promised
    assert set(res) == {"settings", "machine", "peers", "results"}
    assert res["settings"]["quick"] is True and res["peers"] == {}
    assert [e["config"] for e in res["results"]] == ["2-10-10-1", "3-64-64-3"]
    for e in res["results"]:
        assert e["B"] <= bench.QUICK_BATCH
        assert set(e["jdyn"]) == set(OBJ)
        assert e["jdyn"]["data"]["ratio"] == pytest.approx(1.0)
        assert e["jdyn"]["data"]["target"] is None and e["jdyn"]["data"]["pass"] is None
        for k in ("vjp", "jvp"):
            assert e["jdyn"][k]["target"] == 2.0
            assert isinstance(e["jdyn"][k]["pass"], bool)
        assert e["jdyn"]["frob"]["target"] == min(e["n_in"], e["n_out"]) + 1
        for k in OBJ:
            assert e["jdyn"][k]["median"] > 0 and np.isfinite(e["jdyn"][k]["ratio"])
        numpy_path = e.get("jdyn_numpy")
        assert e["path"] == ("compiled" if numpy_path else "numpy")
        if numpy_path:
            assert set(numpy_path) == set(OBJ) and numpy_path["vjp"]["target"] == 2.0
    text = bench.format_report(res)
    assert "| config | B | params | path | objective |" in text
    paths = 2 if res["results"][0].get("jdyn_numpy") else 1
    assert text.count("| 2-10-10-1 |") == 4 * paths and "Targets met:" in text
    assert "Fast path: " in text
    simd = res["machine"]["cpu_details"].get("simd")
    if simd is not None:                              # Linux: the SIMD level beside the CPU
        assert ("/".join(simd) or "no AVX") in text


def test_cli_run_quick(capsys, tmp_path):
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    out = tmp_path / "res.json"
    args = parser.parse_args(["--quick", "--configs", "1", "--repeats", "2", "--no-pin",
                              "--json", str(out)])
    assert bench.run(args) == 0
    printed = capsys.readouterr().out
    assert "vjp_loss" in printed and "frobenius_loss" in printed
    saved = json.loads(out.read_text())
    assert saved["results"][0]["config"] == "2-10-10-1"
    with pytest.raises(ValueError):
        bench.run(parser.parse_args(["--quick", "--configs", "7", "--no-pin"]))


def test_peers_check_and_cross_ratios():
    from jdyn.bench import _peers

    avail = [p for p, (ok, _) in _peers.available().items() if ok]
    if not avail:
        pytest.skip("neither JAX nor PyTorch is installed")
    res = bench.measure(["2-10-10-1"], repeats=1, warmup=1, quick=True, peers=avail)
    e = res["results"][0]
    for p in avail:
        pe = e["peers"][p]
        assert set(pe["check"]) == set(OBJ)
        assert all(c["ok"] and c["grad_rel_err"] <= bench.PEER_RTOL for c in pe["check"].values())
        cross = pe["cross"][e["path"]]
        assert set(cross) == set(OBJ) and cross["data"]["pass"] is None
        if p == "jax":
            assert cross["vjp"]["target"] == (1.0 if e["path"] == "compiled" else 1.3)
            assert isinstance(cross["vjp"]["pass"], bool)
    assert "Peers:" in bench.format_report(res)


def test_train_bench_times_default_eiv_against_plain_fits():
    from jdyn.bench import train
    res = train.measure_eiv(n=200, seeds=(0,), hidden=4)
    (row,) = res["rows"]
    assert row["eiv_s"] > 0 and row["plain_s"] > 0
    assert row["ratio"] == pytest.approx(row["eiv_s"] / row["plain_s"])
    assert "target ≤ 4" in train.format_eiv_report(res)


def _row(case, seed, exponents, sigma, **extra):
    jd = {"exponents": exponents, "sigma": sigma, "kaplan_yorke": 1.25,
          "kaplan_yorke_sigma": 0.01, "correlation_dim": 1.2, "correlation_dim_sigma": 0.02}
    return {"case": case, "seed": seed, "seconds": 1.0, "jdyn": jd, **extra}


def test_accuracy_summary_scores_coverage_and_peers():
    from jdyn.bench._accuracy_summary import summarise
    truths = {"henon-5": {"exponents": [0.42, -1.62], "kaplan_yorke": 1.258,
                          "correlation_dim": 1.21}}
    rows = [_row("henon-5", 0, [0.41, -1.60], [0.01, 0.05],
                 pysindy={"exponents": [0.40, -1.70]}),
            _row("henon-5", 1, [0.43, -1.40], [0.002, 0.05]),    # λ2 outside 2σ
            _row("henon-5", 2, [0.42], [0.01])]                  # one exponent: λ1 only
    text = summarise(rows, truths)
    assert "identified exponents: [2, 2, 1] (truth 2; right in 2/3)" in text
    assert "λ2: jdyn -1.5000" in text and "truth within 2σ 1/2" in text
    assert "pysindy -1.7000" in text
    assert "λ1: jdyn 0.4200" in text and "truth within 2σ 3/3" in text
    assert "calibration: truth within 2σ in 3/5" in text
    # a rerun replaces the row it repeats
    again = summarise(rows + [_row("henon-5", 1, [0.42, -1.62], [0.01, 0.05])], truths)
    assert "truth within 2σ in 5/5" in again
    from jdyn.bench._accuracy_summary import markdown_table
    table = markdown_table(rows, truths)
    assert "| henon-5 | λ2 | -1.62 | -1.5 ± 0.1 (2/3) | 0.156 | 1/2 |" in table


def test_one_blas_thread_caps_the_loaded_pools_and_restores_them():
    from threadpoolctl import threadpool_info

    from jdyn._threads import one_blas_thread

    before = {d["filepath"]: d["num_threads"] for d in threadpool_info()}
    with one_blas_thread():
        inside = threadpool_info()
        assert inside and all(d["num_threads"] == 1 for d in inside)
    assert {d["filepath"]: d["num_threads"] for d in threadpool_info()} == before
