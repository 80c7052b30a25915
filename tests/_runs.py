"""Helpers shared by the runner's tests: fake-job environment and result comparison."""

import os
from pathlib import Path

import numpy as np
import pytest

TESTS = str(Path(__file__).parent)


def use_fake_jobs(monkeypatch, job="_fake_jobs:math_job"):
    """Run ``job`` by default, without pauses, importable by spawned workers too."""
    monkeypatch.setenv("JDYN_JOB_FN", job)
    monkeypatch.setenv("JDYN_FAKE_SLEEP", "0")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [TESTS, *filter(None, [os.environ.get("PYTHONPATH")])]))


def values(ds):
    """Every data variable except wall times, as plain arrays."""
    return {k: ds[k].values for k in ds.data_vars if k != "job_seconds"}


def assert_same(a, b):
    """:func:`values` of two runs equal number for number."""
    assert a.keys() == b.keys()
    for k in a:
        if a[k].dtype.kind in "fc":
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        else:
            assert a[k].tolist() == b[k].tolist(), k


@pytest.fixture(autouse=True)
def fake_jobs_env(monkeypatch):
    """Autouse in the modules importing it: :func:`use_fake_jobs` for every test."""
    use_fake_jobs(monkeypatch)


def scenario_file_fixture(text, name):
    """A fixture writing ``text`` to ``tmp_path / name`` and returning that path."""
    @pytest.fixture
    def scenario_file(tmp_path):
        path = tmp_path / name
        path.write_text(text)
        return path
    return scenario_file
