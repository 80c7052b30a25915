"""``jdyn bench jprop``: what J-prop costs next to an ordinary weight gradient.

At four MLP configurations (tanh hidden units, linear output, float64) it times the
weight gradients of

* ``data``: :func:`jdyn.jprop.data_loss` (the baseline: one forward, one backward),
* ``vjp``:  :func:`jdyn.jprop.vjp_loss` (Eq. 1, per-sample ``u`` and ``a``),
* ``jvp``:  :func:`jdyn.jprop.jvp_loss` (Eq. 2, per-sample ``v`` and ``b``),
* ``frob``: :func:`jdyn.jprop.frobenius_loss` (exact),

and reports each one's median time and its ratio to the data-loss gradient of the same
model, against the targets (≤ 2.0 for vjp and jvp, ≤ min(n, m) + 1 for frob). When the
compiled fast path is active (:mod:`jdyn._fast`, numba) jdyn is timed twice in the same
run, interleaved: as installed (``compiled``) and with the fast path switched off
(``numpy``). With ``--peers`` the same objectives run in JAX (jit, forward-over-reverse)
and PyTorch (eager, double backward) on the same weights and data, after a check that
each peer's value and gradient match jdyn's to 1e-8 relative, and the cross ratios
jdyn/peer are reported in the same run. Targets (issue 14): compiled ≤ 1.0 × JAX-jit at
the two small sizes and ≤ 1.1 × at the two large ones, ≤ 0.5 × PyTorch everywhere;
NumPy only ≤ 1.3 × JAX-jit everywhere.

Everything runs in one process on one core with BLAS held to one thread (see
:mod:`jdyn.bench._timing`); times are medians of interleaved repeats after warm-up.

From Python, :func:`measure` returns all of it as a dict (what ``--json`` writes) and
:func:`format_report` renders that dict as the Markdown tables of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .. import _fast
from . import _peers, _timing
from ._jprop_report import OBJECTIVES, PEER_RTOL, format_report, summary_line

__all__ = ["CONFIGS", "OBJECTIVES", "add_arguments", "run", "measure", "format_report",
           "select_configs"]

#: name → (layer sizes, batch size). The first is the paper's size.
CONFIGS = {
    "2-10-10-1": ([2, 10, 10, 1], 100),
    "4-32-32-1": ([4, 32, 32, 1], 2000),
    "3-64-64-3": ([3, 64, 64, 3], 5000),
    "8-128-128-8": ([8, 128, 128, 8], 2000),
}
PAPER_CONFIG = "2-10-10-1"

#: Cross-ratio targets jdyn/peer (all "≤"): per path, peer and configuration (None: none).
PEER_TARGETS = {
    "compiled": {"jax": {"2-10-10-1": 1.0, "4-32-32-1": 1.0, "3-64-64-3": 1.1,
                         "8-128-128-8": 1.1},
                 "torch": dict.fromkeys(CONFIGS, 0.5)},
    "numpy": {"jax": dict.fromkeys(CONFIGS, 1.3), "torch": dict.fromkeys(CONFIGS, None)},
}
QUICK_BATCH = 32


# ------------------------------------------------------------------------ set-up
def select_configs(spec=None) -> list:
    """Config names from ``"all"``/None, or a comma list of names or 1-based indices."""
    names = list(CONFIGS)
    if spec is None or spec == "all":
        return names
    chosen = []
    for item in str(spec).split(","):
        item = item.strip()
        if not item:
            continue
        if item.isdigit() and 1 <= int(item) <= len(names):
            key = names[int(item) - 1]
        elif item in CONFIGS:
            key = item
        else:
            raise ValueError(f"--configs: unknown configuration {item!r}; expected one of "
                             f"{names} or an index 1..{len(names)}")
        if key not in chosen:
            chosen.append(key)
    if not chosen:
        raise ValueError(f"--configs: no configuration given in {spec!r}")
    return chosen


def make_problem(sizes, B, seed=0):
    """The MLP and the data every implementation uses (per-sample u, a, v, b)."""
    from ..models import MLP

    model = MLP(sizes, activation="tanh", rng=seed)
    rng = np.random.default_rng(seed + 1)
    n, m = sizes[0], sizes[-1]
    data = {"X": rng.uniform(-1.0, 1.0, size=(B, n)),
            "T": rng.normal(size=(B, m)),
            "U": rng.normal(size=(B, m)),
            "A": rng.normal(size=(B, n)),
            "V": rng.normal(size=(B, n)),
            "Bt": rng.normal(size=(B, m))}
    return model, data


def jdyn_objectives(model, data):
    """Objective name → zero-argument callable returning jdyn's ``(value, gradient)``."""
    from .. import jprop

    X = data["X"]
    return {"data": lambda: jprop.data_loss(model, X, data["T"]),
            "vjp": lambda: jprop.vjp_loss(model, X, data["U"], data["A"]),
            "jvp": lambda: jprop.jvp_loss(model, X, data["V"], data["Bt"]),
            "frob": lambda: jprop.frobenius_loss(model, X)}


def _rel(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def _pass(value, bound, inclusive=True):
    return bool(value <= bound) if inclusive else bool(value < bound)


# ----------------------------------------------------------------------- measure
def measure(configs=None, *, repeats=15, warmup=2, min_time=0.02, peers=(),
            quick=False, seed=0, jax_variant="fwd-rev", clock="wall", log=None) -> dict:
    """Run the benchmark; return everything as a JSON-serialisable dict.

    Parameters
    ----------
    configs : None, str or list of str
        Names of :data:`CONFIGS` (or a spec for :func:`select_configs`); all by default.
    repeats, warmup, min_time :
        Samples per timing, warm-up calls, minimum seconds per sample
        (see :func:`jdyn.bench._timing.time_interleaved`).
    peers : iterable of "jax", "torch"
        Peers to add; ones that do not import are reported as skipped.
    quick : bool
        CI smoke size: batch capped at 32, one call per sample. Its numbers mean little.
    seed : int
        Seed of the weights and data (the same for every implementation).
    jax_variant : "fwd-rev" or "rev-rev"
        How the JAX peer differentiates (see :mod:`jdyn.bench._peers`).
    clock : "wall" or "cpu"
        Which median the ratios use (``time`` in each timing entry): wall-clock time,
        or process CPU time, steadier on a shared machine (both are always recorded).
    log : callable or None
        Progress messages (e.g. ``print``).

    Returns
    -------
    dict with keys ``settings``, ``machine``, ``peers`` (status per peer) and
    ``results`` (one entry per config: sizes, B, n_params, ``jdyn`` timings and
    ratios with targets, ``peers`` timings, checks and cross ratios).
    """
    say = log or (lambda *_: None)
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu'; got {clock!r}")
    if isinstance(configs, (list, tuple)):
        configs = ",".join(str(c) for c in configs)
    names = select_configs(configs)
    if quick:
        min_time = 0.0
    peers = [p for p in dict.fromkeys(peers or ())]
    peer_status = {}
    if peers:
        avail = _peers.available()
        for p in peers:
            if p not in _peers.PEERS:
                raise ValueError(f"peers must be among {sorted(_peers.PEERS)}; got {p!r}")
            ok, info = avail[p]
            peer_status[p] = {"available": ok, ("version" if ok else "reason"): info}
        peers = [p for p in peers if peer_status[p]["available"]]

    paths = ["compiled", "numpy"] if _fast.active() else ["numpy"]
    results = []
    for name in names:
        sizes, B = CONFIGS[name]
        if quick:
            B = min(B, QUICK_BATCH)
        say(f"[{name}] B={B}: building")
        model, data = make_problem(sizes, B, seed)
        ours = jdyn_objectives(model, data)
        reference = {k: fn() for k, fn in ours.items()}
        entry = {"config": name, "sizes": sizes, "B": B, "n_in": sizes[0], "n_out": sizes[-1],
                 "n_params": model.n_params, "path": paths[0], "peers": {}}
        fns = {(f"jdyn-{path}", k): (fn if path == paths[0] else _numpy_only(fn))
               for path in paths for k, fn in ours.items()}
        for p in peers:
            say(f"[{name}] {p}: building and checking against jdyn")
            built = _peers.build(p, model, data, variant=jax_variant)
            check = {k: _check(built["result"][k](), reference[k]) for k in OBJECTIVES}
            entry["peers"][p] = {"label": built["label"], "variant": built["variant"],
                                 "check": check, "times": {}, "cross": {}}
            fns.update({(p, k): built["timed"][k] for k in OBJECTIVES if check[k]["ok"]})

        say(f"[{name}] timing {len(fns)} callables, {repeats} interleaved repeats")
        timed = _timing.time_interleaved(
            {f"{who}:{k}": fn for (who, k), fn in fns.items()},
            repeats=repeats, warmup=warmup, min_time=min_time)
        for t in timed.values():
            t["time"] = t["median"] if clock == "wall" else t["cpu_median"]
        for path in paths:
            entry["jdyn" if path == paths[0] else "jdyn_numpy"] = _own_ratios(
                timed, f"jdyn-{path}", sizes[0], sizes[-1])
        for p in peers:
            _cross(entry, timed, p, paths)
        results.append(entry)

    machine = _timing.machine_info()
    if "torch" in peers:
        import torch
        machine["torch_threads"] = torch.get_num_threads()
    settings = {"repeats": repeats, "warmup": warmup, "min_time": min_time, "quick": quick,
                "seed": seed, "dtype": "float64", "activation": "tanh (hidden), identity (output)",
                "jax_variant": jax_variant if "jax" in peers else None, "clock": clock,
                "peer_rtol": PEER_RTOL, "fast_path": _fast_description()}
    return {"settings": settings, "machine": machine, "peers": peer_status,
            "results": results}


def _fast_description():
    if _fast.active():
        import numba
        return (f"numba {numba.__version__}, active (rows 'compiled'; rows 'numpy' switch it "
                "off, interleaved in the same run)")
    reason = _fast.unavailable_reason()
    return "not active (" + (reason or "switched off: JDYN_FAST=0") + "); NumPy path only"


def _numpy_only(fn):
    """``fn`` with the compiled fast path switched off for the call."""
    def call():
        before = _fast.set_enabled(False)
        try:
            return fn()
        finally:
            _fast.set_enabled(before)
    return call


def _check(result, reference):
    val, grad = result
    rv, rg = reference
    out = {"value_rel_err": _rel(val, rv), "grad_rel_err": _rel(grad, rg)}
    out["ok"] = bool(out["value_rel_err"] <= PEER_RTOL and out["grad_rel_err"] <= PEER_RTOL)
    return out


def _own_ratios(timed, who, n, m):
    """Each objective's timing and its ratio to the data gradient, against the targets."""
    base = timed[f"{who}:data"]["time"]
    out = {}
    for k in OBJECTIVES:
        t = timed[f"{who}:{k}"]
        ratio = t["time"] / base
        bound = None if k == "data" else (min(n, m) + 1.0 if k == "frob" else 2.0)
        out[k] = {**t, "ratio": ratio, "target": bound,
                  "pass": None if bound is None else _pass(ratio, bound)}
    return out


def _cross(entry, timed, p, paths):
    """Peer ``p``'s times and the cross ratios jdyn/peer of every jdyn path."""
    pe = entry["peers"][p]
    pbase = timed.get(f"{p}:data")
    for path in paths:
        own = entry["jdyn" if path == paths[0] else "jdyn_numpy"]
        pe["cross"][path] = {}
        for k in OBJECTIVES:
            t = timed.get(f"{p}:{k}")
            if t is None:
                pe["times"][k] = pe["cross"][path][k] = None
                continue
            pe["times"][k] = {**t, "ratio": t["time"] / pbase["time"] if pbase else None}
            cross = own[k]["time"] / t["time"]
            # The targets concern the Jacobian objectives; data is shown for reference.
            bound = None if k == "data" else PEER_TARGETS[path][p][entry["config"]]
            pe["cross"][path][k] = {"ratio": cross, "target": bound, "inclusive": True,
                                    "pass": None if bound is None else _pass(cross, bound)}


def all_checks_ok(res: dict) -> bool:
    return all(ch["ok"] for e in res["results"] for pe in e["peers"].values()
               for ch in pe["check"].values())


def all_targets_met(res: dict) -> bool:
    s = summary_line(res).split()[2].split("/")
    return s[0] == s[1]


# --------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``jdyn bench jprop``."""
    parser.add_argument("--peers", action="store_true",
                        help="also time JAX (jit) and PyTorch (eager) when they import")
    parser.add_argument("--repeats", type=int, default=None, metavar="N",
                        help="timing samples per objective (default 15; 3 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke run: batch capped at 32, 3 repeats, no calibration")
    parser.add_argument("--configs", default="all", metavar="LIST",
                        help="comma list of configurations, by name or 1-based index: "
                             + ", ".join(f"{i + 1}={k}" for i, k in enumerate(CONFIGS)))
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the full machine-readable result to PATH")
    parser.add_argument("--jax-variant", choices=("fwd-rev", "rev-rev"), default="fwd-rev",
                        help="JAX differentiation: forward-over-reverse (default) or "
                             "reverse-over-reverse")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time the ratios use: wall clock (default) or process CPU time "
                             "(steadier when other processes share the machine)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a target is missed (a failed peer check always does)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the process to one CPU")


def run(args) -> int:
    """Run ``jdyn bench jprop`` with parsed ``args``; 0 ok, 1 a peer check failed
    (or, with ``--strict``, a target was missed)."""
    configs = select_configs(args.configs)
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 15)
    if repeats < 1:
        raise ValueError(f"--repeats must be >= 1; got {repeats}")
    cpu = None if getattr(args, "no_pin", False) else _timing.pin_to_one_cpu()
    if not _timing.env_is_single_threaded():
        print("note: thread variables not set before numpy loaded; capping BLAS at one "
              "thread at run time instead (run through `jdyn bench` to set them)",
              file=sys.stderr)
    with _timing.limit_blas_threads(1):
        res = measure(configs, repeats=repeats, warmup=1 if args.quick else 2,
                      peers=("jax", "torch") if args.peers else (), quick=args.quick,
                      jax_variant=args.jax_variant, clock=args.clock,
                      log=lambda msg: print(msg, file=sys.stderr, flush=True))
    res["settings"]["pinned_cpu"] = cpu
    if sys.argv[1:3] == ["bench", "jprop"]:
        res["settings"]["command"] = "jdyn " + " ".join(sys.argv[1:])
    print(format_report(res))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    if not all_checks_ok(res):
        print("jdyn bench jprop: a peer's gradient disagrees with jdyn's", file=sys.stderr)
        return 1
    if args.strict and not all_targets_met(res):
        return 1
    return 0
