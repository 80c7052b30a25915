"""Which exponents of a delay model belong to the system: consistency across an
ensemble and across embedding dimensions.

A delay model in dimension m has m exponents; when the attractor needs fewer, the
rest are set by how the model extrapolates off the data and are artefacts
(Gencay & Dechert 1992). True exponents are stable across independently fitted
models and across embedding dimensions; spurious ones wander (Maus & Sprott 2013).
So an exponent of the main ensemble is *identified* when

1. its spread across the ensemble's usable members is small: at most
   ``spread_rtol · |λ| + spread_atol · scale`` with ``scale`` the largest |exponent|
   of the ensemble's median spectrum (the spectrum's own unit); and
2. it is matched one-to-one (closest pairs first) by an exponent in at least half of
   the usable members of a *reference* ensemble at another embedding dimension,
   within ``√8 · spread + match_atol · scale`` (twice the combined spread of two
   members) or ``match_rtol · |λ|``, whichever is larger. The reference is the smallest dimension that embeds the
   data (:func:`jdyn.embedding.choose_dim`) when the main one is larger — its
   spectrum has no room for the main one's extra exponents — and the next dimension
   otherwise.

Spurious exponents are reported (``spurious`` mask), never averaged into the
identified spectrum or the Kaplan–Yorke dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Identification", "identify_exponents", "ensemble_spectrum"]


@dataclass(frozen=True)
class Identification:
    """spurious : (m,) bool over the main spectrum; center, spread : (m,) ensemble
    median and standard deviation; reference_center : the reference ensemble's median
    spectrum, or None; reason : (m,) str, why each exponent was kept or flagged."""

    spurious: np.ndarray
    center: np.ndarray
    spread: np.ndarray
    reference_center: np.ndarray | None
    reason: tuple


def ensemble_spectrum(members):
    """Median and standard deviation of the usable members' exponents, each (m,);
    NaN when no member is usable."""
    rows = np.array([m.exponents for m in members if m.usable])
    if rows.size == 0:
        dim = members[0].dim if members else 0
        return np.full(dim, np.nan), np.full(dim, np.nan)
    spread = rows.std(axis=0, ddof=1) if len(rows) > 1 else np.zeros(rows.shape[1])
    return np.median(rows, axis=0), spread


def identify_exponents(main, reference=None, *, spread_rtol=0.25, spread_atol=0.05,
                       match_atol=0.05, match_rtol=0.25):
    """Flag the spurious exponents of the ensemble ``main`` (see the module docstring).

    Parameters
    ----------
    main : list of Member, one embedding dimension m
    reference : list of Member at another dimension, optional
        Without it only the ensemble-spread test applies.
    spread_rtol, spread_atol, match_atol, match_rtol : float
        Tolerances of the two tests (``*_atol`` in units of the spectrum's scale).

    Returns
    -------
    Identification
    """
    _check_ensemble(main, "main")
    if reference:
        _check_ensemble(reference, "reference")
    center, spread = ensemble_spectrum(main)
    if not np.all(np.isfinite(center)):
        return Identification(np.ones(center.size, bool), center, spread, None,
                              ("no usable member",) * center.size)
    scale = max(float(np.max(np.abs(center))), 1e-12)
    consistent = spread <= spread_rtol * np.abs(center) + spread_atol * scale
    reasons = [f"ensemble spread {s:.3g}" + (" (small)" if ok else " too large for "
               f"|λ| = {abs(c):.3g}") for c, s, ok in zip(center, spread, consistent)]
    if not reference:
        return Identification(~consistent, center, spread, None, tuple(reasons))
    n_center, _ = ensemble_spectrum(reference)
    at = f"dim {reference[0].dim}"
    rows = [m.exponents for m in reference if m.usable]
    if not rows:
        reasons = [r + f"; no usable member at {at}" for r in reasons]
        return Identification(~consistent, center, spread, n_center, tuple(reasons))
    # Each reference member is matched on its own: where a spurious exponent falls
    # between true ones in some members and not in others, a per-index median of the
    # reference spectra mixes the two and matches neither.
    # A true exponent is estimated less well in the larger embedding (more parameters
    # fitted to the same noisy data: Hénon λ2 −1.67 at dim 2 reads −1.17 … −1.43 at
    # dim 3 on one series), hence the relative floor.
    tol = np.maximum(np.sqrt(8.0) * spread + match_atol * scale, match_rtol * np.abs(center))
    hits = np.zeros(center.size, dtype=int)
    for row in rows:
        hits += _match(center, row, np.broadcast_to(tol[:, None], (center.size, row.size))) >= 0
    matched = 2 * hits >= len(rows)
    for i in range(center.size):
        reasons[i] += f"; matched in {hits[i]} of {len(rows)} members at {at}"
    spurious = ~consistent | ~matched
    return Identification(spurious, center, spread, n_center, tuple(reasons))


def _check_ensemble(members, name):
    members = list(members)
    if not members or not all(hasattr(m, "exponents") and hasattr(m, "dim") for m in members):
        raise ValueError(f"{name} must be a non-empty list of Member; got {members!r:.80}")
    dims = {m.dim for m in members}
    if len(dims) != 1:
        raise ValueError(f"{name} mixes embedding dimensions {sorted(dims)}; an ensemble "
                         "has one")


def _match(a, b, tol):
    """For each entry of ``a`` the index of its one-to-one partner in ``b`` (closest
    pairs first, within ``tol[i, j]``), or -1."""
    gap = np.abs(a[:, None] - b[None, :])
    partner = np.full(a.size, -1)
    free = np.ones(b.size, dtype=bool)
    for flat in np.argsort(gap, axis=None):
        i, j = np.unravel_index(flat, gap.shape)
        if partner[i] < 0 and free[j] and gap[i, j] <= tol[i, j]:
            partner[i], free[j] = j, False
    return partner
