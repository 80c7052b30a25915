"""``jdyn bench jprop``: what J-prop costs next to an ordinary weight gradient.

At four MLP configurations (tanh hidden units, linear output, float64) it times the
weight gradients of

* ``data``: :func:`jdyn.jprop.data_loss` (the baseline: one forward, one backward),
* ``vjp``:  :func:`jdyn.jprop.vjp_loss` (Eq. 1, per-sample ``u`` and ``a``),
* ``jvp``:  :func:`jdyn.jprop.jvp_loss` (Eq. 2, per-sample ``v`` and ``b``),
* ``frob``: :func:`jdyn.jprop.frobenius_loss` (exact),

and reports each one's median time and its ratio to the data-loss gradient of the same
model, against the targets (≤ 2.0 for vjp and jvp, ≤ min(n, m) + 1 for frob). With
``--peers`` the same objectives run in JAX (jit, forward-over-reverse) and PyTorch
(eager, double backward) on the same weights and data, after a check that each peer's
value and gradient match jdyn's to 1e-8 relative, and the cross ratios jdyn/peer are
reported in the same run (targets: at the paper's size < 1 against both; at the larger
sizes ≤ 1.1 against JAX and < 1 against PyTorch).

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

from . import _peers, _timing

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

OBJECTIVES = ("data", "vjp", "jvp", "frob")
OBJECTIVE_LABELS = {"data": "data_loss", "vjp": "vjp_loss", "jvp": "jvp_loss",
                    "frob": "frobenius_loss"}

#: Relative tolerance of the peers' gradients against jdyn's.
PEER_RTOL = 1e-8
#: Cross-ratio targets jdyn/peer: (at the paper's size, at the larger sizes), strict "<"
#: unless the bound is marked inclusive.
PEER_TARGETS = {"jax": ((1.0, False), (1.1, True)), "torch": ((1.0, False), (1.0, False))}
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

    results = []
    for name in names:
        sizes, B = CONFIGS[name]
        if quick:
            B = min(B, QUICK_BATCH)
        n, m = sizes[0], sizes[-1]
        say(f"[{name}] B={B}: building")
        model, data = make_problem(sizes, B, seed)
        ours = jdyn_objectives(model, data)
        reference = {k: fn() for k, fn in ours.items()}
        entry = {"config": name, "sizes": sizes, "B": B, "n_in": n, "n_out": m,
                 "n_params": model.n_params, "jdyn": {}, "peers": {}}

        fns = {("jdyn", k): fn for k, fn in ours.items()}
        for p in peers:
            say(f"[{name}] {p}: building and checking against jdyn")
            built = _peers.build(p, model, data, variant=jax_variant)
            check = {}
            for k in OBJECTIVES:
                val, grad = built["result"][k]()
                rv, rg = reference[k]
                check[k] = {"value_rel_err": _rel(val, rv), "grad_rel_err": _rel(grad, rg)}
                check[k]["ok"] = bool(check[k]["value_rel_err"] <= PEER_RTOL
                                      and check[k]["grad_rel_err"] <= PEER_RTOL)
            entry["peers"][p] = {"label": built["label"], "variant": built["variant"],
                                 "check": check, "times": {}, "cross": {}}
            for k in OBJECTIVES:
                if check[k]["ok"]:
                    fns[(p, k)] = built["timed"][k]

        say(f"[{name}] timing {len(fns)} callables, {repeats} interleaved repeats")
        timed = _timing.time_interleaved(
            {f"{who}:{k}": fn for (who, k), fn in fns.items()},
            repeats=repeats, warmup=warmup, min_time=min_time)
        for t in timed.values():
            t["time"] = t["median"] if clock == "wall" else t["cpu_median"]

        base = timed["jdyn:data"]["time"]
        frob_bound = min(n, m) + 1.0
        for k in OBJECTIVES:
            t = timed[f"jdyn:{k}"]
            ratio = t["time"] / base
            bound = None if k == "data" else (frob_bound if k == "frob" else 2.0)
            entry["jdyn"][k] = {**t, "ratio": ratio, "target": bound,
                                "pass": None if bound is None else _pass(ratio, bound)}
        large = name != PAPER_CONFIG
        for p in peers:
            pe = entry["peers"][p]
            pbase = timed.get(f"{p}:data")
            for k in OBJECTIVES:
                t = timed.get(f"{p}:{k}")
                if t is None:
                    pe["times"][k] = None
                    pe["cross"][k] = None
                    continue
                ratio_own = t["time"] / pbase["time"] if pbase else None
                pe["times"][k] = {**t, "ratio": ratio_own}
                cross = entry["jdyn"][k]["time"] / t["time"]
                bound, inclusive = PEER_TARGETS[p][1 if large else 0]
                # The targets concern the Jacobian objectives; data is shown for reference.
                judged = k != "data"
                pe["cross"][k] = {"ratio": cross, "target": bound if judged else None,
                                  "inclusive": inclusive,
                                  "pass": _pass(cross, bound, inclusive) if judged else None}
        results.append(entry)

    machine = _timing.machine_info()
    if "torch" in peers:
        import torch
        machine["torch_threads"] = torch.get_num_threads()
    settings = {"repeats": repeats, "warmup": warmup, "min_time": min_time, "quick": quick,
                "seed": seed, "dtype": "float64", "activation": "tanh (hidden), identity (output)",
                "jax_variant": jax_variant if "jax" in peers else None, "clock": clock,
                "peer_rtol": PEER_RTOL}
    return {"settings": settings, "machine": machine, "peers": peer_status,
            "results": results}


# ------------------------------------------------------------------------ report
def _ms(seconds):
    return f"{seconds * 1e3:.3f}" if seconds < 1 else f"{seconds * 1e3:.0f}"


def _status(ok):
    return "—" if ok is None else ("PASS" if ok else "MISS")


def format_report(res: dict) -> str:
    """The Markdown tables (and the thread/BLAS note) for a :func:`measure` result."""
    out = []
    mach = res["machine"]
    st = res["settings"]
    det = mach.get("cpu_details") or {}
    cpu = mach["cpu"] + (f" (family {det['cpu family']}, model {det['model']}; "
                         f"{'/'.join(det.get('simd', [])) or 'no AVX'})" if "model" in det else "")
    out.append(f"Machine: {cpu}, {mach['cpus_online']} CPUs online, Python "
               f"{mach['python']}, numpy {mach['numpy']} with {mach['blas']} "
               f"{mach['blas_version']}; {mach['date']}"
               + (f"; load average {mach['load_average'][0]:.2f} (1 min) at the end"
                  if mach.get("load_average") else "") + ".")
    out.append(f"Threads: {_timing.describe_threads(mach)}"
               + (f"; torch.get_num_threads() = {mach['torch_threads']}"
                  if "torch_threads" in mach else "") + ".")
    clock = st.get("clock", "wall")
    what = "wall-clock time" if clock == "wall" else "process CPU time"
    out.append(f"Timing: median {what} of {st['repeats']} interleaved samples after "
               f"{st['warmup']} warm-up calls, each sample ≥ {st['min_time']} s of repeated calls; "
               f"float64; tanh hidden, linear output; seed {st['seed']}"
               + ("; QUICK (smoke-test sizes: numbers not meaningful)" if st["quick"] else "")
               + ".")
    out.append("")
    out.append("### jdyn: gradient cost relative to the data-loss gradient of the same model")
    out.append("")
    other = "CPU" if clock == "wall" else "wall"
    out.append(f"| config | B | params | objective | median {clock} [ms] | ratio | target | status "
               f"| median {other} [ms] | CPU/wall |")
    out.append("|---|---:|---:|---|---:|---:|---:|:---:|---:|---:|")
    for e in res["results"]:
        for k in OBJECTIVES:
            j = e["jdyn"][k]
            tgt = "—" if j["target"] is None else f"≤ {j['target']:g}"
            out.append(f"| {e['config']} | {e['B']} | {e['n_params']} | {OBJECTIVE_LABELS[k]} | "
                       f"{_ms(j['time'])} | {j['ratio']:.2f} | {tgt} | {_status(j['pass'])} | "
                       f"{_ms(j['cpu_median'] if clock == 'wall' else j['median'])} | "
                       f"{j['cpu_ratio']:.2f} |")
    peers = [p for p, s in res["peers"].items() if s.get("available")]
    skipped = {p: s for p, s in res["peers"].items() if not s.get("available")}
    if peers:
        out.append("")
        out.append("### Peers: same objectives, same weights and data, same run")
        out.append("")
        labels = {p: res["results"][0]["peers"][p]["label"] if res["results"] else p
                  for p in peers}
        versions = ", ".join(f"{labels[p]} {res['peers'][p]['version']}" for p in peers)
        out.append(f"Peers: {versions}. Cross ratio = jdyn time / peer time (< 1: jdyn faster). "
                   f"Targets: at {PAPER_CONFIG} jdyn faster than both (< 1); at the larger sizes "
                   f"≤ 1.1 × JAX-jit and < 1 × PyTorch; data_loss shown for reference.")
        out.append("")
        head = f"| config | objective | jdyn {clock} [ms] |"
        rule = "|---|---|---:|"
        for p in peers:
            head += f" {labels[p]} [ms] | jdyn/{labels[p]} | target | status |"
            rule += "---:|---:|---:|:---:|"
        out.append(head)
        out.append(rule)
        for e in res["results"]:
            for k in OBJECTIVES:
                row = f"| {e['config']} | {OBJECTIVE_LABELS[k]} | {_ms(e['jdyn'][k]['time'])} |"
                for p in peers:
                    pe = e["peers"][p]
                    t, c = pe["times"][k], pe["cross"][k]
                    if t is None:
                        row += " failed check | — | — | — |"
                        continue
                    tgt = "—" if c["target"] is None else \
                        (f"{'≤' if c['inclusive'] else '<'} {c['target']:g}")
                    row += (f" {_ms(t['time'])} | {c['ratio']:.2f} | {tgt} | "
                            f"{_status(c['pass'])} |")
                out.append(row)
        out.append("")
        out.append("Correctness of the peers before timing (relative error against jdyn, "
                   f"tolerance {PEER_RTOL:g}):")
        out.append("")
        out.append("| config | peer | " + " | ".join(OBJECTIVE_LABELS[k] for k in OBJECTIVES) + " |")
        out.append("|---|---|" + "---|" * len(OBJECTIVES))
        for e in res["results"]:
            for p in peers:
                ch = e["peers"][p]["check"]
                cells = [f"{ch[k]['grad_rel_err']:.1e} {'ok' if ch[k]['ok'] else 'FAILED'}"
                         for k in OBJECTIVES]
                out.append(f"| {e['config']} | {labels[p]} | " + " | ".join(cells) + " |")
    for p, s in skipped.items():
        out.append("")
        out.append(f"Peer {p} skipped: {s.get('reason')}")
    ratios = [j["cpu_ratio"] for e in res["results"] for j in e["jdyn"].values()]
    if ratios and sorted(ratios)[len(ratios) // 2] < 0.8:
        out.append("")
        out.append(f"Note: the process had its core only part of the time (median CPU/wall "
                   f"{sorted(ratios)[len(ratios) // 2]:.2f}): other processes shared the CPU, so "
                   + ("wall-clock times include waiting; `--clock cpu` is the steadier measure."
                      if clock == "wall" else
                      "wall-clock times include waiting; the CPU-time medians above leave it "
                      "out, but sharing the machine (caches, memory bandwidth) still slows them somewhat."))
    out.append("")
    out.append(summary_line(res))
    return "\n".join(out)


def summary_line(res: dict) -> str:
    """``Targets: N/M met`` over the jdyn ratios and the peers' cross ratios."""
    flags = []
    for e in res["results"]:
        flags += [j["pass"] for j in e["jdyn"].values() if j["pass"] is not None]
        for pe in e["peers"].values():
            flags += [c["pass"] for c in pe["cross"].values() if c and c["pass"] is not None]
    met = sum(flags)
    return f"Targets met: {met}/{len(flags)}" + ("" if met == len(flags) else " (see MISS rows)")


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
