"""Workspaces (reused pass arrays) and the direction-summed R-backward pass.

The fast paths must not change what callers get: results handed back are never
overwritten by a later call, repeated calls are bit-identical, and the gradients agree
with the plain passes (no workspace, one R-backward product per direction).
"""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

from jdyn import jprop
from jdyn.layers import Dense, Identity, Layer, Sigmoid, Softplus, Tanh
from jdyn.layers import workspace as wsmod
from jdyn.models import MLP, Sequential
from jdyn.models import sequential as seqmod

# Wide enough that B × 48 floats pass WORKSPACE_MIN_BYTES: the workspace is in use.
SIZES = [3, 48, 48, 2]
B = 400


def _data(seed=0, B=B, n=SIZES[0], m=SIZES[-1]):
    rng = np.random.default_rng(seed)
    return {"X": rng.uniform(-1, 1, (B, n)), "T": rng.normal(size=(B, m)),
            "U": rng.normal(size=(B, m)), "A": rng.normal(size=(B, n)),
            "V": rng.normal(size=(B, n)), "Bt": rng.normal(size=(B, m))}


def _calls(model, d):
    return {"data": lambda: jprop.data_loss(model, d["X"], d["T"]),
            "vjp": lambda: jprop.vjp_loss(model, d["X"], d["U"], d["A"]),
            "jvp": lambda: jprop.jvp_loss(model, d["X"], d["V"], d["Bt"]),
            "frob": lambda: jprop.frobenius_loss(model, d["X"]),
            "dbp": lambda: jprop.double_backprop_loss(model, d["X"], d["T"]),
            "bilinear": lambda: jprop.bilinear_jacobian(
                model, d["X"], np.stack([d["U"], d["T"]]), np.stack([d["A"], d["V"]]))}


def _no_workspace(monkeypatch):
    monkeypatch.setattr(seqmod, "WORKSPACE_MIN_BYTES", np.inf)


def test_workspace_is_used_at_this_size():
    model = MLP(SIZES, rng=0)
    with model.workspace(_data()["X"]) as ws:
        assert ws is not None
    with model.workspace(np.zeros((2, SIZES[0]))) as ws:
        assert ws is None          # small batches skip it


def test_returned_results_survive_later_calls():
    model = MLP(SIZES, rng=0)
    d1, d2 = _data(1), _data(2)
    first = {k: f() for k, f in _calls(model, d1).items()}
    kept = {k: (v, g.copy()) for k, (v, g) in first.items()}
    for f in _calls(model, d2).values():   # same shapes, other values: same buffers
        f()
    for k, (v, g) in first.items():
        assert v == kept[k][0]
        np.testing.assert_array_equal(g, kept[k][1], err_msg=k)


def test_repeated_calls_are_bit_identical():
    model = MLP(SIZES, rng=0)
    d = _data(3)
    calls = _calls(model, d)
    first = {k: f() for k, f in calls.items()}
    for _ in range(2):
        for k, f in calls.items():
            v, g = f()
            assert v == first[k][0], k
            np.testing.assert_array_equal(g, first[k][1], err_msg=k)


def test_workspace_matches_plain_passes(monkeypatch):
    d = _data(4)
    fast = {k: f() for k, f in _calls(MLP(SIZES, rng=0), d).items()}
    _no_workspace(monkeypatch)
    plain = {k: f() for k, f in _calls(MLP(SIZES, rng=0), d).items()}
    for k in fast:
        # Same products into reused arrays; only the R-backward of direction-stacked
        # seeds sums in another order.
        assert fast[k][0] == pytest.approx(plain[k][0], rel=1e-13, abs=0)
        np.testing.assert_allclose(fast[k][1], plain[k][1], rtol=1e-12,
                                   atol=1e-14 * np.abs(plain[k][1]).max(), err_msg=k)
    for k in ("data", "vjp", "jvp", "dbp"):   # no direction axis: the very same bits
        np.testing.assert_array_equal(fast[k][1], plain[k][1], err_msg=k)


class PlainTanh(Layer):
    """A user layer with only the four plain passes (no workspace, no summed mode)."""

    def __init__(self, n):
        self.n_in = self.n_out = n
        self._t = Tanh(n)

    def forward(self, p, x):
        return self._t.forward(p, x)

    def backward(self, p, cache, ybar, *, need_input=True, need_params=True):
        return self._t.backward(p, cache, ybar, need_input=need_input,
                                need_params=need_params)

    def rforward(self, p, cache, rx):
        return self._t.rforward(p, cache, rx)

    def rbackward(self, p, cache, rx, ybar, rybar, *, need_input=True):
        return self._t.rbackward(p, cache, rx, ybar, rybar, need_input=need_input)


@pytest.mark.parametrize("sizes", [[3, 48, 48, 2], [2, 48, 48, 5]])
def test_plain_user_layer_in_summed_pass(sizes, monkeypatch):
    """A layer without the fast paths between built-in ones: same gradients."""
    n, h, _, m = sizes

    def build(act):
        return Sequential([Dense(n, h), act(h), Dense(h, h), act(h), Dense(h, m)], rng=5)

    d = _data(6, n=n, m=m)
    mixed = _calls(build(PlainTanh), d)
    builtin = _calls(build(Tanh), d)
    _no_workspace(monkeypatch)
    plain = _calls(build(PlainTanh), d)
    for k in ("frob", "bilinear", "dbp"):
        ref = plain[k]()
        for calls in (mixed, builtin):
            v, g = calls[k]()
            assert v == pytest.approx(ref[0], rel=1e-12)
            np.testing.assert_allclose(g, ref[1], rtol=1e-11,
                                       atol=1e-13 * np.abs(ref[1]).max(), err_msg=k)


def test_small_budget_evicts_and_stays_correct(monkeypatch):
    d = _data(7)
    ref = {k: f() for k, f in _calls(MLP(SIZES, rng=0), d).items()}
    monkeypatch.setattr(wsmod, "DEFAULT_BUDGET", 200_000)   # a few arrays only
    model = MLP(SIZES, rng=0)
    for _ in range(2):
        for k, f in _calls(model, d).items():
            v, g = f()
            assert v == ref[k][0]
            np.testing.assert_array_equal(g, ref[k][1], err_msg=k)
    with model.workspace(d["X"]) as ws:
        assert sum(w.nbytes for w in ws) <= 200_000


def test_concurrent_evaluations_get_their_own_workspace():
    model = MLP(SIZES, rng=0)
    data = [_data(10 + i) for i in range(4)]
    ref = [jprop.frobenius_loss(model, d["X"])[1] for d in data]
    out = [[] for _ in data]

    def work(i):
        for _ in range(5):
            out[i].append(jprop.frobenius_loss(model, data[i]["X"])[1])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(data))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, grads in enumerate(out):
        for g in grads:
            np.testing.assert_array_equal(g, ref[i])


def test_nested_workspaces_are_distinct():
    model = MLP(SIZES, rng=0)
    X = _data()["X"]
    with model.workspace(X) as a, model.workspace(X) as b:
        assert a is not b


def test_pickle_drops_workspace_and_keeps_parameter_views():
    model = MLP(SIZES, rng=0)
    d = _data(8)
    v0, g0 = jprop.frobenius_loss(model, d["X"])
    clone = pickle.loads(pickle.dumps(model))
    assert clone._free_ws == []
    v1, g1 = jprop.frobenius_loss(clone, d["X"])
    assert v1 == v0
    np.testing.assert_array_equal(g1, g0)
    clone.params = clone.params * 0.5          # views alias the flat vector again
    fresh = MLP(SIZES, rng=0)
    fresh.params = fresh.params * 0.5
    np.testing.assert_array_equal(clone(d["X"]), fresh(d["X"]))


@pytest.mark.parametrize("make", [lambda: Dense(5, 7), lambda: Tanh(5),
                                  lambda: Sigmoid(5), lambda: Softplus(5), lambda: Identity(5)],
                         ids=["Dense", "Tanh", "Sigmoid", "Softplus", "Identity"])
@pytest.mark.parametrize("K", [None, 3])
def test_layer_passes_with_workspace_match_plain(make, K):
    """Each opted-in layer: the same bits into workspace arrays as without, twice over;
    and its summed R-backward equals the per-direction one summed."""
    layer = make()
    rng = np.random.default_rng(11)
    p = layer.init_params(rng) + rng.normal(size=layer.n_params) * 0.1
    lead = () if K is None else (K,)
    x = rng.normal(size=(6, layer.n_in))
    ybar = rng.normal(size=lead + (6, layer.n_out))
    rx = rng.normal(size=lead + (6, layer.n_in))
    rybar = rng.normal(size=lead + (6, layer.n_out))

    def run(ws):
        kw = {} if ws is None else {"ws": ws}
        y, cache = layer.forward(p, x, **kw)
        xb, pb = layer.backward(p, cache, ybar, **kw)
        ry, rcache = layer.rforward(p, cache, rx, **kw)
        rxb, rpb = layer.rbackward(p, cache, rcache, ybar, rybar, **kw)
        return [np.array(a, copy=True) for a in (y, xb, pb, ry, rxb, rpb)]

    plain = run(None)
    ws = wsmod.Workspace()
    for _ in range(2):
        for a, b in zip(run(ws), plain):
            np.testing.assert_array_equal(a, b)
    if K is not None:
        _, cache = layer.forward(p, x, ws=ws)
        _, rcache = layer.rforward(p, cache, rx, ws=ws)
        rxb, rpb = layer.rbackward(p, cache, rcache, ybar, rybar.sum(axis=0), ws=ws,
                                   summed=True)
        np.testing.assert_allclose(rxb, plain[4].sum(axis=0), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(rpb, plain[5], rtol=1e-13, atol=1e-13)
