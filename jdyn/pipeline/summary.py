"""The printed table of an :class:`~jdyn.pipeline.result.Analysis`."""

from __future__ import annotations

import numpy as np

__all__ = ["summary_text"]


def _pm(value, sigma, digits=3):
    if not np.isfinite(value):
        return "not estimated"
    if not np.isfinite(sigma):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} ± {sigma:.{digits}f}"


def summary_text(a) -> str:
    """Invariants, choices, warnings and members, one item a line."""
    lines = [f"jdyn analysis of {a.series.size} samples"
             + ("" if a.dt is None else f" (dt = {a.dt:g})"),
             f"  embedding: dim {a.embedding.dim}, lag {a.embedding.lag} ({a.embedding.why})",
             f"  method: {a.method['regulariser']} fit, strength {a.method['strength']:.3g}; "
             f"{a.method['usable_members']} of {a.method['members']} members usable "
             f"({a.method['resampling']}), {a.method['reference_members']} at reference dim "
             f"{a.embedding.reference_dim}",
             f"  noise level: {_pm(a.noise_level, a.noise_level_stderr, 4)} of the series' std",
             f"  Lyapunov exponents ({a.unit}, ± σ = ensemble spread ⊕ time-average error):"]
    for lam, sig, bad, why in zip(a.all_exponents, a.all_exponents_stderr, a.spurious,
                                  a.spurious_reason):
        tag = "spurious  " if bad else "identified"
        lines.append(f"    {tag} {_pm(lam, sig):>22}   {why}")
    lines += [f"  Kaplan–Yorke dimension: {_pm(a.kaplan_yorke, a.kaplan_yorke_stderr)}"
              " (identified exponents)",
              f"  correlation dimension: {_pm(a.correlation_dim, a.correlation_dim_stderr)}"
              " (free-running attractors)"]
    lines.append("  members:")
    for m in (*a.members, *a.references):
        spec = " ".join(f"{v:.3f}" for v in m.exponents)
        lines.append(f"    dim {m.dim} #{m.index} {m.role:9} {m.status:13} [{spec}]"
                     f" data λ1 {m.exponents_data[0]:.3f} noise {m.noise_level:.4f}"
                     f" {m.seconds:.1f} s")
    if a.warnings:
        lines.append("  warnings:")
        lines += [f"    - {w}" for w in a.warnings]
    return "\n".join(lines)
