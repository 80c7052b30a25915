"""Comparing methods: which is best, by how much, and what it costs in prediction.

The best method at a noise level is the one with the lowest mean RMS exponent error
over seeds. Its lead over the runner-up is a *paired* comparison: seed ``s`` gives both
methods the same data and the same initialisation, so the per-seed differences
``d_s = RMS_runner-up(s) - RMS_best(s)`` remove what the seeds share, and the lead is
``mean(d) ± se(d)``, ``se = sd(d) / sqrt(n)``. It is *distinguishable* when the
mean exceeds twice its standard error (about a 95% two-sided level for a normal mean)
with at least two seeds; else the two are "not distinguishable".
"""

from __future__ import annotations

import numpy as np

from .tables import MissingData, Table, _rms, _scores, fmt, from_file, grid, label, pm

__all__ = ["paired_difference", "best_table", "tradeoffs"]

#: A lead counts when it exceeds this many of its standard errors.
Z = 2.0


def paired_difference(a, b):
    """``(mean, se, n)`` of ``a - b`` over the seeds where both are finite.

    Parameters
    ----------
    a, b : ndarray, shape (n_seeds,)

    Returns
    -------
    tuple of (float, float, int)
        ``se`` is NaN with fewer than two pairs.
    """
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return np.nan, np.nan, 0
    se = float(np.std(d, ddof=1) / np.sqrt(d.size)) if d.size > 1 else np.nan
    return float(d.mean()), se, int(d.size)


def _verdict(mean, se, n):
    if n < 2:
        return "one seed: no uncertainty, so not distinguishable"
    if mean > Z * se:
        return f"better (lead above {Z:g} standard errors)"
    return "not distinguishable (lead within its error)"


def _per_job_rms(ds, variable):
    g, err, _, stats = _scores(ds, variable)
    return g, _rms(err), stats


def best_table(ds, variable="lyapunov") -> Table:
    """Per noise level: the method with the lowest mean RMS exponent error, and its
    paired lead over the runner-up across seeds."""
    g, rms, (score, score_sd, _) = _per_job_rms(ds, variable)
    rows = []
    for i, noise in enumerate(g.noise):
        ranked = sorted((s, m) for m, s in enumerate(score[i]) if np.isfinite(s))
        if not ranked:
            rows.append([label(noise), "—", "—", "—", "—", "no finished job with a "
                         "complete spectrum"])
            continue
        best = ranked[0][1]
        if len(ranked) == 1:
            rows.append([label(noise), g.methods[best], pm(score[i, best], score_sd[i, best],
                                                           sign=False), "—", "—", "only method"])
            continue
        second = ranked[1][1]
        mean, se, n = paired_difference(rms[i, second], rms[i, best])
        lead = fmt(mean) + (f" ± {fmt(se)}" if np.isfinite(se) else "") + f" ({n} seeds)"
        rows.append([label(noise), g.methods[best], pm(score[i, best], score_sd[i, best],
                                                       sign=False),
                     g.methods[second], lead, _verdict(mean, se, n)])
    note = ("RMS error: mean ± sd over seeds. Lead: the runner-up's RMS error minus the "
            "best's, paired by seed (same data, same initialisation), mean ± standard error "
            f"over the seeds where both finished; distinguishable when above {Z:g} standard "
            "errors.")
    return Table(f"Best method per noise level (`{variable}`)",
                 ["noise", "best method", "RMS error", "runner-up", "lead (paired)",
                  "verdict"], rows, note)


def _seed_means(ds, name):
    mean, _, _ = grid(ds, name).seed_mean_sd()
    return mean


def tradeoffs(ds, variable="lyapunov") -> list:
    """Sentences on invariant accuracy against prediction error, one per noise level
    where they disagree, plus what that means; without a truth, what can still be read."""
    if "one_step_error" not in ds.variables:
        return []
    err = _seed_means(ds, "one_step_error")
    g = grid(ds, "one_step_error")
    try:
        _, rms, (score, _, _) = _per_job_rms(ds, variable)
    except MissingData:
        return [_no_truth_text(ds, g, err)]
    out = []
    for i, noise in enumerate(g.noise):
        if not (np.isfinite(score[i]).any() and np.isfinite(err[i]).any()):
            continue
        best = int(np.argmin(np.where(np.isfinite(score[i]), score[i], np.inf)))
        pred = int(np.argmin(np.where(np.isfinite(err[i]), err[i], np.inf)))
        if best == pred:
            out.append(f"At noise {label(noise)}, {g.methods[best]} has both the most "
                       "accurate exponents and the lowest one-step error.")
            continue
        ratio = err[i, best] / err[i, pred]
        lead = _verdict(*paired_difference(rms[i, pred], rms[i, best]))
        out.append(f"At noise {label(noise)}, {g.methods[best]} has the most accurate "
                   f"exponents (RMS error {fmt(score[i, best])} against "
                   f"{fmt(score[i, pred])}; paired over seeds: {lead}) but a one-step "
                   f"error {ratio:.2g} times that of {g.methods[pred]} "
                   f"({fmt(err[i, best])} against {fmt(err[i, pred])}).")
    if any("times that of" in s for s in out):
        out.append("A low one-step error does not make the invariants right: the fit that "
                   "best predicts the next observed sample learns its conditional mean, "
                   "which under noise flattens the map and biases its Jacobian, so its "
                   "exponents are off; a fit that treats the inputs as noisy, or carries "
                   "known physics, aims at the dynamics (the Jacobian) and pays in one-step "
                   "error. Choose by what the model is for: its invariants, or short-term "
                   "prediction.")
    return out


def _no_truth_text(ds, g, err):
    best = int(np.argmin(np.where(np.isfinite(err), err, np.inf))) \
        if np.isfinite(err).any() else None
    what = "the data come from a file" if from_file(ds) else "results.nc holds no truth"
    text = (f"No true exponents are known ({what}), so invariant accuracy cannot be scored "
            "and no method is called best at it. What can be compared: the one-step "
            "prediction error (against the observed, noisy series, so it cannot fall below "
            "the noise) and how well the methods and seeds agree on the exponents "
            "(the table of exponents).")
    if best is not None:
        i, m = np.unravel_index(best, err.shape)
        text += (f" Lowest one-step error: {g.methods[m]} ({fmt(err[i, m])}); a low "
                 "prediction error does not by itself mean right invariants.")
    return text

