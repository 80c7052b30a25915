"""The report's figures, one function each, drawn from a results Dataset only.

Every function takes the Dataset and the PNG path to write, and returns that path.
When the Dataset lacks what a figure needs, the function raises
:class:`~jdyn.report.tables.MissingData` (a ``ValueError``) saying what is missing,
and writes nothing. Figures are built on :class:`matplotlib.figure.Figure` directly
(the Agg canvas, no ``pyplot``), so nothing is registered in pyplot's global state
and nothing outlives the call.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from ._plot import (_BASE, _TRUTH, DPI, _baseline, _color, _draw_baseline, _errorbars,
                    _figure, _legend, _log_y, _nanmean, _noise_axis, _offsets,
                    _panel_legends, _pick, _save, _v, _x)
from .tables import MissingData, grid, sweep_dims, truth

__all__ = ["exponents_vs_noise", "spectra", "invariants_vs_noise", "attractors",
           "correlation_integrals", "training_curves", "DPI"]


def exponents_vs_noise(ds, path, variable="lyapunov"):
    """Each exponent against noise, one line per method, error bars = sd over seeds;
    the truth as a horizontal line, the nolds baselines dashed (lyap_r for the largest
    exponent, lyap_e for each)."""
    g = grid(ds, variable)
    if "exponent" not in g.own_dims or g.values.ndim != 4:
        raise MissingData(f"{variable} has no exponent dimension")
    mean, sd, _ = g.seed_mean_sd()
    ks = [k for k in range(mean.shape[2]) if np.isfinite(mean[..., k]).any()][:6]
    if not ks:
        raise MissingData(f"{variable} holds no finite value (no job finished)")
    true = truth(ds)
    x, labels = _x(g.noise)
    offsets = _offsets(x, len(g.methods))
    ncols = min(len(ks), 3)
    fig, axes = _figure(-(-len(ks) // ncols), ncols)
    for ax in axes.flat[len(ks):]:
        ax.set_visible(False)
    for ax, k in zip(axes.flat, ks):
        _errorbars(ax, x, mean[..., k], sd[..., k], g.methods, offsets)
        if true is not None and k < len(true) and np.isfinite(true[k]):
            ax.axhline(true[k], label="truth", **_TRUTH)
        if k == 0:
            _draw_baseline(ax, x, *_baseline(ds, "nolds_lyapunov_max"), "nolds lyap_r", "s")
        _draw_baseline(ax, x, *_baseline(ds, "nolds_lyapunov", k), "nolds lyap_e", "^")
        ax.set_title(f"λ{k + 1}")
        ax.set_ylabel(f"λ{k + 1} ({ds[variable].attrs.get('units', '')})")
        _noise_axis(ax, ds, labels, x)
        ax.grid(alpha=0.3)
    _legend(fig, axes.flat[0])
    fig.suptitle(ds[variable].attrs.get("long_name", variable), fontsize=10)
    return _save(fig, path)


def spectra(ds, path, variable="lyapunov"):
    """The spectra side by side: one panel per noise level, each method's exponents
    (mean ± sd over seeds) against the exponent index, with the truth and nolds lyap_e."""
    g = grid(ds, variable)
    if "exponent" not in g.own_dims or g.values.ndim != 4:
        raise MissingData(f"{variable} has no exponent dimension")
    mean, sd, _ = g.seed_mean_sd()
    if not np.isfinite(mean).any():
        raise MissingData(f"{variable} holds no finite value (no job finished)")
    true = truth(ds)
    base = None
    if "nolds_lyapunov" in ds.variables:
        base = _nanmean(grid(ds, "nolds_lyapunov").values, 2)  # noise, method[, exponent]
        base = base if base.ndim == 3 else base[..., None]
    picks = _pick(len(g.noise), 6)
    fig, axes = _figure(1, len(picks), width=3.2)
    n_exp = mean.shape[2]
    idx = np.arange(1, n_exp + 1, dtype=float)
    width = 0.6 / max(len(g.methods), 1)
    for ax, i in zip(axes.flat, picks):
        for m, method in enumerate(g.methods):
            ax.errorbar(idx + (m - (len(g.methods) - 1) / 2) * width, mean[i, m],
                        yerr=np.nan_to_num(sd[i, m]), fmt="o", ms=4, capsize=2,
                        color=_color(m), label=method)
        if true is not None:
            k = min(len(true), n_exp)
            ax.plot(idx[:k], true[:k], "_", ms=22, mew=2, color="k", label="truth")
        if base is not None:
            k = min(base.shape[-1], n_exp)
            ax.plot(idx[:k], _nanmean(base[i], 0)[:k], "x", ms=6,
                    color=_BASE["color"], label="nolds lyap_e")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_xticks(idx, [f"λ{k}" for k in range(1, n_exp + 1)])
        ax.set_title(f"noise = {_v(g.noise[i])}")
        ax.set_ylabel(ds[variable].attrs.get("units", ""))
        ax.grid(alpha=0.3, axis="y")
    _legend(fig, axes.flat[0])
    fig.suptitle(f"Spectra: {ds[variable].attrs.get('long_name', variable)}", fontsize=10)
    return _save(fig, path)


#: (variable, title, truth variable or "identity", nolds variable, log scale)
_INVARIANTS = (("kaplan_yorke", "Kaplan–Yorke dimension", "true_kaplan_yorke", None, False),
               ("correlation_dim", "correlation dimension (free run)", "true_correlation_dim",
                "nolds_correlation_dim", False),
               ("one_step_error", "one-step RMS error vs noise-free truth", None, None, True),
               ("multi_step_error", "5-step RMS error vs noise-free truth", None, None, True),
               ("noise_estimate", "estimated noise level", "identity", None, False),
               ("train_seconds", "training time", None, None, False))


def invariants_vs_noise(ds, path):
    """Kaplan–Yorke and correlation dimensions, one-step error, estimated noise and
    training time against noise (those present), with the truth and nolds corr_dim."""
    present = [row for row in _INVARIANTS if row[0] in ds.variables
               and ds[row[0]].dtype.kind in "biuf" and np.isfinite(ds[row[0]].values).any()]
    if not present:
        raise MissingData("results.nc has none of " + ", ".join(r[0] for r in _INVARIANTS))
    ncols = min(len(present), 3)
    fig, axes = _figure(-(-len(present) // ncols), ncols)
    for ax in axes.flat[len(present):]:
        ax.set_visible(False)
    for ax, (name, title, true_name, base_name, log) in zip(axes.flat, present):
        g = grid(ds, name)
        mean, sd, _ = g.seed_mean_sd()
        x, labels = _x(g.noise)
        _errorbars(ax, x, mean, sd, g.methods, _offsets(x, len(g.methods)))
        if true_name == "identity":
            ax.plot(x, x, label="true noise level", **_TRUTH)
        elif true_name is not None and truth(ds, true_name) is not None:
            ax.axhline(float(truth(ds, true_name)[0]), label="truth", **_TRUTH)
        if base_name is not None:
            _draw_baseline(ax, x, *_baseline(ds, base_name), "nolds corr_dim", "s")
        if log and np.nanmin(mean) > 0 and np.nanmax(mean) > 10 * np.nanmin(mean):
            _log_y(ax)
        units = ds[name].attrs.get("units", "")
        ax.set_ylabel(f"{name}" + (f" ({units})" if units not in ("", "1") else ""),
                      fontsize=8)
        ax.set_title(title, fontsize=9)
        _noise_axis(ax, ds, labels, x)
        ax.grid(alpha=0.3)
    _panel_legends(fig, axes.flat[:len(present)], grid(ds, present[0][0]).methods)
    return _save(fig, path)


def _orbit_xy(values, dims):
    """Plane coordinates of an orbit array with named dims (extra dims: first entry)."""
    sample = "sample" if "sample" in dims else dims[0]
    coord = "coord" if "coord" in dims else next((d for d in dims if d != sample), None)
    a = values[tuple(slice(None) if d in (sample, coord) else 0 for d in dims)]
    if [d for d in dims if d in (sample, coord)][0] != sample:
        a = a.T
    a = np.asarray(a, dtype=float).reshape(a.shape[0], -1)
    a = a[np.isfinite(a).all(axis=1)]
    if a.shape[1] >= 2:
        return a[:, 0], a[:, 1], ("state 1", "state 2")
    return a[:-1, 0], a[1:, 0], ("x(n)", "x(n+1)")


def _scatter(ax, xy, color, title):
    x, y, (lx, ly) = xy
    if len(x) == 0:
        ax.text(0.5, 0.5, "no finite points", ha="center", va="center",
                transform=ax.transAxes, color="tab:red")
    else:
        ax.plot(x, y, ".", ms=1.2, alpha=0.6, color=color, rasterized=True)
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.yaxis.set_major_locator(MaxNLocator(3))
    ax.set_title(title, fontsize=8)
    ax.set_xlabel(lx, fontsize=7)
    ax.set_ylabel(ly, fontsize=7)
    ax.tick_params(labelsize=6)


def attractors(ds, path):
    """The true attractor beside each method's free-running attractor (first seed with a
    finite orbit), one row per noise level (at most three)."""
    g = grid(ds, "free_orbit")
    if not g.own_dims:
        raise MissingData("free_orbit has no sample dimension")
    div = grid(ds, "diverged").values if "diverged" in ds.variables else None
    has_true = "true_orbit" in ds.variables
    picks = _pick(len(g.noise), 3)
    methods = list(range(len(g.methods)))[:5]
    fig, axes = _figure(len(picks), len(methods) + has_true, width=2.6, height=2.5)
    if has_true:
        _scatter(axes[0, 0], _orbit_xy(ds["true_orbit"].values, ds["true_orbit"].dims),
                 "k", "true system")
        for ax in axes[1:, 0]:
            ax.set_visible(False)
    for r, i in enumerate(picks):
        for c, m in enumerate(methods, start=int(has_true)):
            finite = [s for s in range(len(g.seeds)) if np.isfinite(g.values[i, m, s]).any()]
            s = finite[0] if finite else 0
            title = f"{g.methods[m]}\nnoise={_v(g.noise[i])}"
            if g.seeds[s] is not None:
                title += f", seed={g.seeds[s]}"
            if div is not None and np.nan_to_num(div[i, m, s]) > 0:
                title += " (diverged)"
            _scatter(axes[r, c], _orbit_xy(g.values[i, m, s], g.own_dims), _color(m), title)
    shown = f"; the first {len(methods)} of {len(g.methods)} methods" \
        if len(methods) < len(g.methods) else ""
    fig.suptitle("Attractors: the true system and the models' free runs (axes scaled per "
                 f"panel{shown})", fontsize=10)
    return _save(fig, path)


def _log_range(lo, hi, log_r):
    """The fit range in the units of ``log_r``: as given, or its ln / log10 when the
    range was stored as radii."""
    r = log_r[np.isfinite(log_r)]
    if not (np.isfinite(lo) and np.isfinite(hi)) or r.size == 0:
        return None
    tol = 1e-6 * max(1.0, np.ptp(r))
    candidates = [(lo, hi)]
    if lo > 0 and hi > 0:
        candidates += [(np.log(lo), np.log(hi)), (np.log10(lo), np.log10(hi))]
    for a, b in candidates:
        if r.min() - tol <= a <= b <= r.max() + tol:
            return a, b
    return candidates[0]


def correlation_integrals(ds, path):
    """log C(r) against log r, one panel per noise level, each method's seeds in its
    colour; the fitted range drawn thick; the true system's curve in black if present."""
    lc = grid(ds, "log_c")
    lr = grid(ds, "log_r")
    if lc.values.ndim != 4 or lr.values.shape != lc.values.shape:
        raise MissingData("log_r and log_c must share one radius dimension")
    lo = grid(ds, "fit_lo").values if "fit_lo" in ds.variables else None
    hi = grid(ds, "fit_hi").values if "fit_hi" in ds.variables else None
    d2 = grid(ds, "correlation_dim").seed_mean_sd()[0] if "correlation_dim" in ds.variables \
        else None
    picks = _pick(len(lc.noise), 4)
    fig, axes = _figure(1, len(picks), width=3.4, height=3.0)
    for ax, i in zip(axes.flat, picks):
        if "true_log_r" in ds.variables and "true_log_c" in ds.variables:
            tr, tc = (np.asarray(ds[v].values, dtype=float).ravel()
                      for v in ("true_log_r", "true_log_c"))
            ax.plot(tr, tc, color="k", lw=1, label="true system")
            rng = _log_range(*(float(np.ravel(ds[v].values)[0]) if v in ds.variables
                               else np.nan for v in ("true_fit_lo", "true_fit_hi")), tr)
            if rng is not None:
                mask = (tr >= rng[0]) & (tr <= rng[1])
                ax.plot(tr[mask], tc[mask], color="k", lw=3.5, alpha=0.4)
        for m, method in enumerate(lc.methods):
            label = method
            if d2 is not None and np.isfinite(d2[i, m]):
                label += f" (D2={d2[i, m]:.2f})"
            for s in range(len(lc.seeds)):
                r, c = lr.values[i, m, s], lc.values[i, m, s]
                ok = np.isfinite(r) & np.isfinite(c)
                if not ok.any():
                    continue
                ax.plot(r[ok], c[ok], color=_color(m), lw=0.9, label=label)
                label = None
                rng = None if lo is None or hi is None else _log_range(lo[i, m, s],
                                                                      hi[i, m, s], r)
                if rng is not None:
                    mask = ok & (r >= rng[0]) & (r <= rng[1])
                    ax.plot(r[mask], c[mask], color=_color(m), lw=3.5, alpha=0.45)
        ax.set_title(f"noise = {_v(lc.noise[i])}", fontsize=9)
        ax.set_xlabel("log r")
        ax.set_ylabel("log C(r)")
        ax.grid(alpha=0.3)
    _panel_legends(fig, axes.flat, lc.methods)
    fig.suptitle("Correlation integrals (thick: the range of the slope fit)", fontsize=10)
    return _save(fig, path)


def _curve_names(ds):
    sweep = set(sweep_dims(ds))
    names = [n for n in ds.data_vars if "iteration" in ds[n].dims
             and set(ds[n].dims) - {"iteration"} <= sweep]
    return sorted(names, key=lambda n: (n != "history_total", not n.startswith("history_"),
                                        n))


def training_curves(ds, path):
    """Training curves (every variable over ``iteration``, ``history_total`` first):
    one row per curve (at most three), one column per noise level (at most four)."""
    names = _curve_names(ds)[:3]
    if not names:
        raise MissingData("results.nc has no variable over an 'iteration' dimension")
    first = grid(ds, names[0])
    picks = _pick(len(first.noise), 4)
    fig, axes = _figure(len(names), len(picks), width=3.3, height=2.6)
    for row, name in enumerate(names):
        g = grid(ds, name)
        it = ds["iteration"].values if "iteration" in ds.coords else \
            np.arange(g.values.shape[-1])
        positive = np.nanmin(np.where(np.isfinite(g.values), g.values, np.inf)) > 0
        for ax, i in zip(axes[row], picks):
            for m, method in enumerate(g.methods):
                label = method
                for s in range(len(g.seeds)):
                    v = g.values[i, m, s]
                    if np.isfinite(v).any():
                        ax.plot(it, v, color=_color(m), lw=1, alpha=0.8, label=label)
                        label = None
            if positive and np.isfinite(g.values).any():
                _log_y(ax)
            ax.set_title(f"{name}, noise = {_v(g.noise[i])}", fontsize=8)
            ax.set_xlabel("iteration")
            ax.grid(alpha=0.3)
        axes[row, 0].set_ylabel(ds[name].attrs.get("long_name", name), fontsize=7)
        if row == 0:
            _legend(fig, axes[0, 0], 6)
    fig.suptitle("Training curves (one line per seed)", fontsize=10)
    return _save(fig, path)
