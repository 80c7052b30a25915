"""The Markdown report of ``jdyn bench jprop`` (:func:`format_report`), from the dict that
:func:`jdyn.bench.jprop.measure` returns."""

from __future__ import annotations

from . import _timing

__all__ = ["OBJECTIVES", "OBJECTIVE_LABELS", "PEER_RTOL", "format_report", "summary_line"]

OBJECTIVES = ("data", "vjp", "jvp", "frob")
OBJECTIVE_LABELS = {"data": "data_loss", "vjp": "vjp_loss", "jvp": "jvp_loss",
                    "frob": "frobenius_loss"}

#: Relative tolerance of the peers' gradients against jdyn's.
PEER_RTOL = 1e-8


def _ms(seconds):
    return f"{seconds * 1e3:.3f}" if seconds < 1 else f"{seconds * 1e3:.0f}"


def _status(ok):
    return "—" if ok is None else ("PASS" if ok else "MISS")


def _jdyn_rows(e):
    """``(path, timings)`` of every jdyn path timed in a result entry."""
    rows = [(e["path"], e["jdyn"])]
    if e.get("jdyn_numpy"):
        rows.append(("numpy", e["jdyn_numpy"]))
    return rows


def _header(res):
    mach, st = res["machine"], res["settings"]
    cpu = _timing.cpu_line(mach)
    clock = st.get("clock", "wall")
    what = "wall-clock time" if clock == "wall" else "process CPU time"
    fast = st.get("fast_path") or "not recorded"
    return [
        f"Machine: {cpu}, {mach['cpus_online']} CPUs online, Python "
        f"{mach['python']}, numpy {mach['numpy']} with {mach['blas']} "
        f"{mach['blas_version']}; {mach['date']}"
        + (f"; load average {mach['load_average'][0]:.2f} (1 min) at the end"
           if mach.get("load_average") else "") + ".",
        f"Threads: {_timing.describe_threads(mach)}"
        + (f"; torch.get_num_threads() = {mach['torch_threads']}"
           if "torch_threads" in mach else "") + ".",
        f"Fast path: {fast}.",
        f"Timing: median {what} of {st['repeats']} interleaved samples after "
        f"{st['warmup']} warm-up calls, each sample ≥ {st['min_time']} s of repeated calls; "
        f"float64; tanh hidden, linear output; seed {st['seed']}"
        + ("; QUICK (smoke-test sizes: numbers not meaningful)" if st["quick"] else "") + ".",
        ""]


def _own_table(res):
    clock = res["settings"].get("clock", "wall")
    other = "CPU" if clock == "wall" else "wall"
    out = ["### jdyn: gradient cost relative to the data-loss gradient of the same model", "",
           f"| config | B | params | path | objective | median {clock} [ms] | ratio | target "
           f"| status | median {other} [ms] | CPU/wall |",
           "|---|---:|---:|---|---|---:|---:|---:|:---:|---:|---:|"]
    for e in res["results"]:
        for path, own in _jdyn_rows(e):
            for k in OBJECTIVES:
                j = own[k]
                tgt = "—" if j["target"] is None else f"≤ {j['target']:g}"
                out.append(
                    f"| {e['config']} | {e['B']} | {e['n_params']} | {path} | "
                    f"{OBJECTIVE_LABELS[k]} | {_ms(j['time'])} | {j['ratio']:.2f} | {tgt} | "
                    f"{_status(j['pass'])} | "
                    f"{_ms(j['cpu_median'] if clock == 'wall' else j['median'])} | "
                    f"{j['cpu_ratio']:.2f} |")
    return out


def _peer_tables(res, peers):
    clock = res["settings"].get("clock", "wall")
    labels = {p: res["results"][0]["peers"][p]["label"] if res["results"] else p
              for p in peers}
    versions = ", ".join(f"{labels[p]} {res['peers'][p]['version']}" for p in peers)
    out = ["", "### Peers: same objectives, same weights and data, same run", "",
           f"Peers: {versions}. Cross ratio = jdyn time / peer time (< 1: jdyn faster). "
           "Targets (≤): compiled path 1.0 × JAX-jit at 2-10-10-1 and 4-32-32-1, 1.1 × at "
           "3-64-64-3 and 8-128-128-8, 0.5 × PyTorch everywhere; NumPy path 1.3 × JAX-jit "
           "everywhere; data_loss shown for reference.", ""]
    head, rule = f"| config | path | objective | jdyn {clock} [ms] |", "|---|---|---|---:|"
    for p in peers:
        head += f" {labels[p]} [ms] | jdyn/{labels[p]} | target | status |"
        rule += "---:|---:|---:|:---:|"
    out += [head, rule]
    for e in res["results"]:
        for path, own in _jdyn_rows(e):
            for k in OBJECTIVES:
                row = f"| {e['config']} | {path} | {OBJECTIVE_LABELS[k]} | {_ms(own[k]['time'])} |"
                for p in peers:
                    pe = e["peers"][p]
                    t, c = pe["times"][k], pe["cross"][path][k]
                    if t is None:
                        row += " failed check | — | — | — |"
                        continue
                    tgt = "—" if c["target"] is None else f"≤ {c['target']:g}"
                    row += f" {_ms(t['time'])} | {c['ratio']:.2f} | {tgt} | {_status(c['pass'])} |"
                out.append(row)
    out += ["", "Correctness of the peers before timing (relative error against jdyn, "
            f"tolerance {PEER_RTOL:g}):", "",
            "| config | peer | " + " | ".join(OBJECTIVE_LABELS[k] for k in OBJECTIVES) + " |",
            "|---|---|" + "---|" * len(OBJECTIVES)]
    for e in res["results"]:
        for p in peers:
            ch = e["peers"][p]["check"]
            cells = [f"{ch[k]['grad_rel_err']:.1e} {'ok' if ch[k]['ok'] else 'FAILED'}"
                     for k in OBJECTIVES]
            out.append(f"| {e['config']} | {labels[p]} | " + " | ".join(cells) + " |")
    return out


def format_report(res: dict) -> str:
    """The Markdown tables (and the machine, thread and fast-path notes) for a
    :func:`measure` result."""
    out = _header(res) + _own_table(res)
    peers = [p for p, s in res["peers"].items() if s.get("available")]
    if peers:
        out += _peer_tables(res, peers)
    for p, s in res["peers"].items():
        if not s.get("available"):
            out += ["", f"Peer {p} skipped: {s.get('reason')}"]
    ratios = sorted(j["cpu_ratio"] for e in res["results"] for _, own in _jdyn_rows(e)
                    for j in own.values())
    clock = res["settings"].get("clock", "wall")
    if ratios and ratios[len(ratios) // 2] < 0.8:
        out += ["", f"Note: the process had its core only part of the time (median CPU/wall "
                f"{ratios[len(ratios) // 2]:.2f}): other processes shared the CPU, so "
                + ("wall-clock times include waiting; `--clock cpu` is the steadier measure."
                   if clock == "wall" else
                   "wall-clock times include waiting; the CPU-time medians above leave it "
                   "out, but sharing the machine (caches, memory bandwidth) still slows them "
                   "somewhat.")]
    out += ["", summary_line(res)]
    return "\n".join(out)


def summary_line(res: dict) -> str:
    """``Targets: N/M met`` over the jdyn ratios and the peers' cross ratios."""
    flags = []
    for e in res["results"]:
        for _, own in _jdyn_rows(e):
            flags += [j["pass"] for j in own.values() if j["pass"] is not None]
        for pe in e["peers"].values():
            flags += [c["pass"] for cross in pe["cross"].values() for c in cross.values()
                      if c and c["pass"] is not None]
    met = sum(flags)
    return f"Targets met: {met}/{len(flags)}" + ("" if met == len(flags) else " (see MISS rows)")
