"""The tables of ``jdyn bench accuracy``: jdyn's default analysis against the truth and
the peers, per case and invariant, and the calibration of its σ over everything."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["summarise", "markdown_table"]

PEERS = ("nolds", "pysindy", "esn")
#: A flow's exponent counted as "the zero one" within this (per unit time).
ZERO_TOL = 0.03


def summarise(rows, truths):
    """Per case: identified counts, each invariant's jdyn mean ± sd, RMS error, coverage
    of the truth by ± 2σ, σ / RMS, and the peers' mean ± sd and RMS; then the pooled
    calibration. ``truths``: case → {"exponents", "kaplan_yorke", "correlation_dim"}."""
    # A rerun of the same (case, seed, dim) replaces the earlier row.
    rows = list({_key(r) + (r["seed"],): r for r in rows}.values())
    lines, pairs = [], []
    for key in dict.fromkeys(_key(r) for r in rows):
        case, dim, regulariser = key
        rs = [r for r in rows if _key(r) == key]
        lines += _case_lines(case, dim, regulariser, truths[case], rs, pairs)
    lines.append(_calibration(pairs))
    return "\n".join(lines)


def _key(row):
    return row["case"], row.get("dim"), row.get("regulariser")


def _case_lines(case, dim, regulariser, tr, rs, pairs):
    k = len(tr["exponents"])
    counts = [len(r["jdyn"]["exponents"]) for r in rs]
    head = case + "".join(f" ({k} {v})" for k, v in (("dim", dim), ("fit", regulariser))
                          if v is not None)
    lines = [f"{head}: {len(rs)} seeds; truth {np.round(tr['exponents'], 4).tolist()}, "
             f"D_KY {_fmt(tr['kaplan_yorke'])}, D2 {_fmt(tr['correlation_dim'])}; "
             f"{np.mean([r['seconds'] for r in rs]):.0f} s per analysis",
             f"  identified exponents: {counts} (truth {k}; right in "
             f"{sum(c == k for c in counts)}/{len(counts)})"]
    if 0.0 in tr["exponents"]:
        zeros = [sum(abs(v) < ZERO_TOL for v in r["jdyn"]["exponents"]) for r in rs]
        lines.append(f"  exponents within {ZERO_TOL} of zero: {zeros} (exactly one in "
                     f"{sum(z == 1 for z in zeros)}/{len(zeros)})")
    for i in range(k):
        est = _exponent_estimates(rs, i, k)
        if regulariser is None and dim is None:          # calibration: the default call only
            pairs += [(case, f"λ{i + 1}", v, s, tr["exponents"][i]) for v, s in est]
        lines.append("  " + _row(f"λ{i + 1}", est, tr["exponents"][i], rs, i))
    for name in ("kaplan_yorke", "correlation_dim"):
        est = [(r["jdyn"][name], r["jdyn"][name + "_sigma"]) for r in rs]
        lines.append("  " + _row(name, est, tr[name], rs, name))
    return lines


def _exponent_estimates(rows, i, k):
    """(value, σ) of identified exponent ``i`` per row: the largest one (λ1) whenever
    any was identified, the others only where the identified count is the truth's
    (matching by index would score a spurious one)."""
    return [(r["jdyn"]["exponents"][i], r["jdyn"]["sigma"][i]) for r in rows
            if (i == 0 and r["jdyn"]["exponents"]) or len(r["jdyn"]["exponents"]) == k]


def _row(label, est, true, rows, peer_key):
    if true is None or not est:
        return f"{label}: no scored estimate"
    v = np.array([e[0] for e in est], float)
    s = np.array([e[1] for e in est], float)
    rms = math.sqrt(np.nanmean((v - true) ** 2))
    cover = int(np.sum(np.abs(v - true) <= 2 * s))
    text = (f"{label}: jdyn {np.nanmean(v):.4f} ± {np.nanstd(v):.4f} (truth {true:.4f}), "
            f"RMS err {rms:.4f}, truth within 2σ {cover}/{len(v)}, "
            f"median σ/RMS {np.nanmedian(s) / max(rms, 1e-12):.2f}")
    for peer in PEERS:
        vals = np.array([_peer_value(r.get(peer, {}), peer_key) for r in rows], float)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            text += (f"; {peer} {vals.mean():.4f} ± {vals.std():.4f} "
                     f"(RMS {math.sqrt(np.mean((vals - true) ** 2)):.4f})")
    return text


def _peer_value(peer, key):
    if isinstance(key, int):
        values = peer.get("exponents", [])
        return values[key] if len(values) > key else np.nan
    return peer.get(key, np.nan)


def _calibration(pairs):
    """Pooled coverage over (case, seed, identified exponent) and σ / RMS per exponent."""
    if not pairs:
        return "calibration: no scored exponent"
    inside = [abs(v - t) <= 2 * s for _, _, v, s, t in pairs]
    ratios = []
    for key in dict.fromkeys((c, name) for c, name, *_ in pairs):
        sel = [(v, s, t) for c, name, v, s, t in pairs if (c, name) == key]
        rms = math.sqrt(np.mean([(v - t) ** 2 for v, _, t in sel]))
        ratios.append((key, float(np.median([s for _, s, _ in sel])) / max(rms, 1e-12)))
    worst = max(ratios, key=lambda kr: kr[1])
    return (f"calibration: truth within 2σ in {sum(inside)}/{len(inside)} "
            f"({100 * np.mean(inside):.0f}%) of (case, seed, identified exponent); "
            f"median σ / RMS error per case and exponent "
            f"{', '.join(f'{c} {n} {r:.2f}' for (c, n), r in ratios)}; "
            f"largest {worst[1]:.2f} ({worst[0][0]} {worst[0][1]})")


def _fmt(value):
    return "—" if value is None else f"{value:.4f}"


def markdown_table(rows, truths):
    """One Markdown row per case and invariant: truth, jdyn (mean ± sd, RMS, coverage,
    σ/RMS) and each peer's mean ± sd (RMS); unscored cells say why."""
    rows = list({_key(r) + (r["seed"],): r for r in rows}.values())
    head = ("| case | invariant | truth | jdyn | RMS | 2σ | σ/RMS | nolds | PySINDy | ESN |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    out = [head]
    for key in dict.fromkeys(_key(r) for r in rows):
        case, dim, regulariser = key
        tr = truths[case]
        rs = [r for r in rows if _key(r) == key]
        label = case + "".join(f", {k} {v}" for k, v in (("dim", dim), ("fit", regulariser))
                               if v is not None)
        k = len(tr["exponents"])
        names = [(f"λ{i + 1}", i, tr["exponents"][i]) for i in range(k)]
        names += [("D_KY", "kaplan_yorke", tr["kaplan_yorke"]),
                  ("D2", "correlation_dim", tr["correlation_dim"])]
        for name, key_, true in names:
            if isinstance(key_, int):
                est = _exponent_estimates(rs, key_, k)
            else:
                est = [(r["jdyn"][key_], r["jdyn"][key_ + "_sigma"]) for r in rs]
            out.append(_md_row(label, name, true, est, rs, key_, len(rs)))
    return "\n".join(out)


def _md_row(label, name, true, est, rows, key, n):
    cells = [label, name, "—" if true is None else f"{true:.4g}"]
    if true is None or not est:
        cells += [f"not scored ({len(est)}/{n} with the right count)", "", "", ""]
    else:
        v = np.array([e[0] for e in est], float)
        s = np.array([e[1] for e in est], float)
        rms = math.sqrt(np.nanmean((v - true) ** 2))
        cells += [f"{np.nanmean(v):.4g} ± {np.nanstd(v):.2g}" + ("" if len(v) == n
                                                                 else f" ({len(v)}/{n})"),
                  f"{rms:.3g}", f"{int(np.sum(np.abs(v - true) <= 2 * s))}/{len(v)}",
                  f"{np.nanmedian(s) / max(rms, 1e-12):.2f}"]
    for peer in PEERS:
        vals = np.array([_peer_value(r.get(peer, {}), key) for r in rows], float)
        vals = vals[np.isfinite(vals)]
        cells.append("—" if true is None or not vals.size else
                     f"{vals.mean():.4g} ± {vals.std():.2g} ({math.sqrt(np.mean((vals - true) ** 2)):.3g})")
    return "| " + " | ".join(cells) + " |"
