"""The echo-state-network peer (jdyn.bench._esn; optional, needs reservoirpy)."""

import builtins

import numpy as np
import pytest

from jdyn.bench import _esn
from jdyn.systems import Henon


def test_none_without_reservoirpy(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "reservoirpy" or name.startswith("reservoirpy."):
            raise ImportError("No module named 'reservoirpy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert _esn.esn_exponents(np.sin(np.arange(500.0)), None, n_exponents=2) is None


@pytest.fixture(scope="module")
def henon_x():
    pytest.importorskip("reservoirpy")
    return Henon().trajectory(3000, rng=0)[:, 0]


def test_henon_largest_exponent(henon_x):
    out = _esn.esn_exponents(henon_x, None, n_exponents=2, rng=0)
    assert "error" not in out
    assert len(out["exponents"]) == 2
    assert abs(out["exponents"][0] - 0.419) < 0.1
    assert out["exponents"][0] > out["exponents"][1]
    assert out["sr"] in _esn.SR_GRID and out["lr"] in _esn.LR_GRID
    assert out["ridge"] in _esn.RIDGE_GRID
    assert out["holdout_nmse"] < 1e-2


def test_closed_loop_matches_reservoirpy(henon_x):
    z = ((henon_x - henon_x.mean()) / henon_x.std())[:, None]
    res, readout, _, r0 = _esn._fit(z[:1500], 100, 0)
    ours = _esn.closed_loop_outputs(res, readout, r0, 10)
    theirs = _esn.reservoirpy_generate(res, readout, r0, 10)
    np.testing.assert_allclose(ours, theirs, atol=1e-8, rtol=0)
    # and the first closed-loop output is a good prediction of the next sample
    u0 = r0 @ _esn._dense(readout.Wout) + readout.bias
    assert abs(float(u0[0]) - z[1500, 0]) < 0.05


def test_diverged_closed_loop(henon_x, monkeypatch):
    monkeypatch.setattr(_esn, "BOUND", 1e-3)
    out = _esn.esn_exponents(henon_x[:800], None, n_exponents=2, reservoir=50)
    assert out["error"] == "closed loop diverged"
