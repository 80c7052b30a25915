"""The report's figures, one function each, drawn from a results Dataset only.

Every function takes the Dataset and the PNG path to write, and returns that path.
When the Dataset lacks what a figure needs, the function raises
:class:`~jdyn.report.tables.MissingData` (a ``ValueError``) saying what is missing,
and writes nothing. Figures are built on :class:`matplotlib.figure.Figure` directly
(the Agg canvas, no ``pyplot``), so nothing is registered in pyplot's global state
and nothing outlives the call. Axis labels are the variables' ``long_name`` and
``units`` as results.nc states them (from the results contract); text is at least 9 pt.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.ticker import MaxNLocator

from ._plot import (_BASE, _TRUTH, DPI, _baseline, _color, _draw_baseline,
                    _errorbars, _figure, _legend, _level, _log_y, _nanmean, _noise_axis,
                    _offsets, _panel_legends, _pick, _save, _x, styled)
from .tables import MissingData, grid, method_regularisers, sweep_dims, truth

__all__ = ["exponents_vs_noise", "spectra", "invariants_vs_noise", "attractors",
           "correlation_integrals", "training_curves", "DPI"]


@styled
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
    ncols = min(len(ks), 2)
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
        ax.set_ylabel(f"λ{k + 1} ({ds[variable].attrs.get('units', '1')})")
        _noise_axis(ax, ds, labels, x)
        ax.grid(alpha=0.3)
    _legend(fig, axes.flat[0])
    fig.suptitle(ds[variable].attrs.get("long_name", variable))
    return _save(fig, path)


@styled
def spectra(ds, path, variable="lyapunov"):
    """The spectra side by side: one panel per noise level (at most three), each
    method's exponents
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
    picks = _pick(len(g.noise), 3)
    fig, axes = _figure(1, len(picks), width=3.4)
    n_exp = mean.shape[2]
    idx = np.arange(1, n_exp + 1, dtype=float)
    width = 0.6 / max(len(g.methods), 1)
    for ax, i in zip(axes.flat, picks):
        for m, method in enumerate(g.methods):
            if not np.isfinite(mean[i, m]).any():
                continue
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
        ax.set_title(_level(g.noise[i]))
        ax.set_ylabel(f"exponent ({ds[variable].attrs.get('units', '1')})")
        ax.grid(alpha=0.3, axis="y")
    _legend(fig, axes.flat[0])
    fig.suptitle(f"Spectra: {ds[variable].attrs.get('long_name', variable)}")
    return _save(fig, path)


#: (variable, y label, truth variable or "identity", nolds variable, log scale); the
#: panel's title is the variable's long name.
_INVARIANTS = (("kaplan_yorke", "D_KY", "true_kaplan_yorke", None, False),
               ("correlation_dim", "D2", "true_correlation_dim", "nolds_correlation_dim",
                False),
               ("one_step_error", "RMS error / sd", None, None, True),
               ("multi_step_error", "RMS error / sd", None, None, True),
               ("noise_estimate", "noise sd / series sd", "identity", None, False),
               ("train_seconds", "wall time", None, None, False))


@styled
def invariants_vs_noise(ds, path):
    """Kaplan–Yorke and correlation dimensions, one-step error, estimated noise and
    training time against noise (those present), with the truth and nolds corr_dim."""
    present = [row for row in _INVARIANTS if row[0] in ds.variables
               and ds[row[0]].dtype.kind in "biuf" and np.isfinite(ds[row[0]].values).any()]
    if not present:
        raise MissingData("results.nc has none of " + ", ".join(r[0] for r in _INVARIANTS))
    ncols = min(len(present), 2)
    fig, axes = _figure(-(-len(present) // ncols), ncols, width=3.7, height=3.0)
    for ax in axes.flat[len(present):]:
        ax.set_visible(False)
    for ax, (name, ylabel, true_name, base_name, log) in zip(axes.flat, present):
        g = grid(ds, name)
        mean, sd, _ = g.seed_mean_sd()
        x, labels = _x(g.noise)
        _errorbars(ax, x, mean, sd, g.methods, _offsets(x, len(g.methods)))
        if true_name == "identity" and labels is None:
            ax.plot(x, x, label="true noise level", **_TRUTH)
        elif true_name not in (None, "identity") and truth(ds, true_name) is not None:
            ax.axhline(float(truth(ds, true_name)[0]), label="truth", **_TRUTH)
        if base_name is not None:
            _draw_baseline(ax, x, *_baseline(ds, base_name), "nolds corr_dim", "s")
        if log and np.nanmin(mean) > 0 and np.nanmax(mean) > 10 * np.nanmin(mean):
            _log_y(ax)
        units = ds[name].attrs.get("units", "1")
        ax.set_ylabel(ylabel if units in ("", "1") else f"{ylabel} ({units})")
        ax.set_title(textwrap.fill(ds[name].attrs.get("long_name", name), 38))
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
        return a[:, 0], a[:, 1]
    return a[:-1, 0], a[1:, 0]


def _scatter(ax, xy, color, title, units):
    x, y = xy
    if len(x) == 0:
        ax.text(0.5, 0.5, "no finite points", ha="center", va="center",
                transform=ax.transAxes, color="tab:red")
    else:
        ax.plot(x, y, ".", ms=1.5, alpha=0.6, color=color, rasterized=True)
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.yaxis.set_major_locator(MaxNLocator(3))
    ax.set_title(title)
    unit = "" if units in ("", "1") else f" ({units})"
    ax.set_xlabel(f"x(n){unit}")
    ax.set_ylabel(f"x(n − lag){unit}")


@styled
def attractors(ds, path):
    """The true attractor beside each method's free-running attractor (first seed with a
    finite orbit), one row per noise level (at most three)."""
    g = grid(ds, "free_orbit")
    if not g.own_dims:
        raise MissingData("free_orbit has no sample dimension")
    div = grid(ds, "diverged").values if "diverged" in ds.variables else None
    has_true = "true_orbit" in ds.variables
    units = ds["free_orbit"].attrs.get("units", "1")
    picks = _pick(len(g.noise), 3)
    methods = list(range(len(g.methods)))[:3]
    fig, axes = _figure(len(picks), len(methods) + has_true, width=2.5, height=2.6)
    if has_true:
        _scatter(axes[0, 0], _orbit_xy(ds["true_orbit"].values, ds["true_orbit"].dims),
                 "k", "true system", units)
        for ax in axes[1:, 0]:
            ax.set_visible(False)
    for r, i in enumerate(picks):
        for c, m in enumerate(methods, start=int(has_true)):
            finite = [s for s in range(len(g.seeds)) if np.isfinite(g.values[i, m, s]).any()]
            s = finite[0] if finite else 0
            title = f"{g.methods[m]}\n{_level(g.noise[i])}"
            if g.seeds[s] is not None:
                title += f", seed {g.seeds[s]}"
            if div is not None and np.nan_to_num(div[i, m, s]) > 0:
                title += " (diverged)"
            _scatter(axes[r, c], _orbit_xy(g.values[i, m, s], g.own_dims), _color(m), title,
                     units)
    shown = f"; the first {len(methods)} of {len(g.methods)} methods" \
        if len(methods) < len(g.methods) else ""
    fig.suptitle("Attractors: " + ("the true system and " if has_true else "")
                 + f"the models' free runs (axes scaled per panel{shown})")
    return _save(fig, path)


def _first_finite(curves):
    """Index of the first seed with a finite curve in ``curves`` (seed, radius)."""
    return next(s for s in range(len(curves)) if np.isfinite(curves[s]).any())


def _fit_slope(ax, r, c, lo, hi, slope, **style):
    """The line of ``slope`` through the middle of the data's fit range."""
    mid = (lo + hi) / 2
    inside = (r >= lo) & (r <= hi)
    if not inside.any():
        return
    c_mid = np.interp(mid, r[inside], c[inside])
    xs = np.array([lo, hi])
    ax.plot(xs, c_mid + slope * (xs - mid), **style)


@styled
def correlation_integrals(ds, path):
    """ln C(r) against ln r, one panel per noise level (lowest and highest), each
    method's seeds in its
    colour; the fit range shaded and drawn thick; the true slope (the system's D2) as a
    dashed black line through each panel's first fit range."""
    lc, lr = grid(ds, "log_c"), grid(ds, "log_r")
    if lc.values.ndim != 4 or lr.values.shape != lc.values.shape:
        raise MissingData("log_r and log_c must share one radius dimension")
    lo = grid(ds, "fit_lo").values if "fit_lo" in ds.variables else None
    hi = grid(ds, "fit_hi").values if "fit_hi" in ds.variables else None
    d2 = grid(ds, "correlation_dim").seed_mean_sd()[0] if "correlation_dim" in ds.variables \
        else None
    true_d2 = truth(ds, "true_correlation_dim")
    picks = _pick(len(lc.noise), 2)
    fig, axes = _figure(1, len(picks), width=3.7, height=3.6)
    for ax, i in zip(axes.flat, picks):
        first = None
        for m, method in enumerate(lc.methods):
            label = method if d2 is None or not np.isfinite(d2[i, m]) \
                else f"{method} (D2 = {d2[i, m]:.2f})"
            for s in range(len(lc.seeds)):
                r, c = lr.values[i, m, s], lc.values[i, m, s]
                ok = np.isfinite(r) & np.isfinite(c)
                if not ok.any():
                    continue
                ax.plot(r[ok], c[ok], color=_color(m), lw=0.9, label=label)
                label = None
                if lo is None or hi is None or not np.isfinite([lo[i, m, s], hi[i, m, s]]).all():
                    continue
                a, b = lo[i, m, s], hi[i, m, s]       # ln r, as log_r (the contract)
                mask = ok & (r >= a) & (r <= b)
                ax.plot(r[mask], c[mask], color=_color(m), lw=4, alpha=0.45)
                if label is None and s == _first_finite(lr.values[i, m]):
                    ax.axvspan(a, b, color=_color(m), alpha=0.08)   # one band per method
                first = first or (r[ok], c[ok], a, b)
        if true_d2 is not None and first is not None:
            _fit_slope(ax, *first, float(true_d2[0]), color="k", ls="--", lw=1.5,
                       label=f"true slope (D2 = {float(true_d2[0]):.2f})")
        ax.set_title(_level(lc.noise[i]))
        ax.set_xlabel("ln r (r in sd of the series)")
        ax.set_ylabel("ln C(r)")
        ax.grid(alpha=0.3)
    _panel_legends(fig, axes.flat, lc.methods)
    fig.suptitle("Correlation integrals (shaded, thick: the range of the slope fit)")
    return _save(fig, path)


def _curve_names(ds):
    sweep = set(sweep_dims(ds))
    names = [n for n in ds.data_vars if "iteration" in ds[n].dims
             and set(ds[n].dims) - {"iteration"} <= sweep]
    return sorted(names, key=lambda n: (n != "history_total", not n.startswith("history_"),
                                        n))


def _objective_kinds(ds):
    """``{kind: [method index]}``: the methods grouped by their regulariser (its
    objective's kind), in order of appearance."""
    kinds = {}
    for m, kind in enumerate(method_regularisers(ds)):
        kinds.setdefault(kind, []).append(m)
    return kinds


@styled
def training_curves(ds, path):
    """The training objective (``history_total``, else the first variable over
    ``iteration``) per iteration: one row per objective kind (regulariser; objectives of
    different kinds are not comparable), one column per noise level (at most two: lowest, highest)."""
    names = _curve_names(ds)
    if not names:
        raise MissingData("results.nc has no variable over an 'iteration' dimension")
    g = grid(ds, names[0])
    it = ds["iteration"].values if "iteration" in ds.coords else np.arange(g.values.shape[-1])
    kinds = list(_objective_kinds(ds).items())[:4]
    picks = _pick(len(g.noise), 2)
    fig, axes = _figure(len(kinds), len(picks), width=3.7, height=2.7)
    for row, (kind, members) in enumerate(kinds):
        values = g.values[:, members]
        positive = np.nanmin(np.where(np.isfinite(values), values, np.inf)) > 0
        for ax, i in zip(axes[row], picks):
            for m in members:
                label = g.methods[m]
                for s in range(len(g.seeds)):
                    v = g.values[i, m, s]
                    if np.isfinite(v).any():
                        ax.plot(it, v, color=_color(m), lw=1, alpha=0.8, label=label)
                        label = None
            finite = values[np.isfinite(values)]
            if positive and finite.size and finite.max() > 10 * finite.min():
                _log_y(ax)
            ax.set_title(f"{kind}, {_level(g.noise[i])}")
            ax.set_xlabel("iteration")
            ax.grid(alpha=0.3)
            if i == picks[0]:
                ax.legend()
        axes[row, 0].set_ylabel(f"objective ({kind})")
    fig.suptitle(f"Training curves: {ds[names[0]].attrs.get('long_name', names[0])}, one "
                 "line per seed, one row per objective kind")
    return _save(fig, path)
