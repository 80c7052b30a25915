"""Drawing helpers shared by the report's figures: canvas, legends, axes, baselines.

Kept apart from :mod:`jdyn.report.figures` so that module holds only the figures.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullLocator

from .tables import grid

DPI = 90
_BASE = {"color": "0.35", "ls": "--", "lw": 1.3}
_TRUTH = {"color": "k", "lw": 1.0}


def _figure(nrows, ncols, width=3.4, height=2.7):
    fig = Figure(figsize=(min(max(ncols * width, 5.0), 17.0), nrows * height),
                 layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    fig.clear()
    return path


def _legend(fig, ax, fontsize=7):
    """A legend in ``ax``, or below the figure when there are many entries."""
    handles, labels = ax.get_legend_handles_labels()
    if len(labels) <= 6:
        ax.legend(handles, labels, fontsize=fontsize)
        return
    ncols = 3 if max(len(t) for t in labels) < 40 else 2
    fig.set_figheight(fig.get_figheight() + 0.2 * -(-len(labels) // ncols) + 0.2)
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize=fontsize)


def _panel_legends(fig, axes, methods):
    """Legends for panels that each show every method: in each panel when there are few
    methods; else one legend below the figure, and only the other entries per panel."""
    axes = list(axes)
    if len(methods) <= 4:
        for ax in axes:
            ax.legend(fontsize=6)
        return
    _legend(fig, axes[0], 6)
    for ax in axes[1:]:
        pairs = [(h, t) for h, t in zip(*ax.get_legend_handles_labels())
                 if not t.startswith(tuple(methods))]
        if pairs:
            ax.legend(*zip(*pairs), fontsize=6)


def _log_y(ax):
    """A log y axis with few ticks (tick layout dominates the drawing time)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(numticks=5))
    ax.yaxis.set_minor_locator(NullLocator())


def _color(m):
    return colormaps["tab10"](m % 10)


def _nanmean(a, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def _x(noise):
    """Plot positions of the noise levels, and tick labels if they are not numbers."""
    try:
        return np.asarray(noise, dtype=float), None
    except (TypeError, ValueError):
        return np.arange(len(noise), dtype=float), [str(v) for v in noise]


def _noise_axis(ax, ds, labels, x):
    ax.set_xlabel("noise (fraction of the signal's sd)" if "noise" in ds.variables
                  else "noise", fontsize=8)
    if labels is not None:
        ax.set_xticks(x, labels)
    elif len(x) <= 8:
        ax.set_xticks(x, [_v(v) for v in x])


def _v(value):
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def _pick(n, cap):
    """Up to ``cap`` indices of ``range(n)``, evenly spread, first and last included."""
    return list(range(n)) if n <= cap else sorted({int(round(i)) for i in
                                                   np.linspace(0, n - 1, cap)})


def _offsets(x, n_methods):
    span = np.ptp(x) if len(x) > 1 and np.ptp(x) > 0 else 1.0
    return [(m - (n_methods - 1) / 2) * 0.012 * span for m in range(n_methods)]


def _baseline(ds, name, k=None):
    """A nolds baseline per ``(noise, method)`` (mean over seeds), or ``None``; and
    whether it differs between methods (it does when e.g. the embedding is swept)."""
    if name not in ds.variables:
        return None, False
    g = grid(ds, name)
    v = g.values
    if v.ndim == 4:
        if k is None or k >= v.shape[3]:
            return None, False
        v = v[..., k]
    elif k not in (None, 0):
        return None, False
    v = _nanmean(v, 2)
    if not np.isfinite(v).any():
        return None, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(np.abs(v - _nanmean(v, 1)[:, None]))
    return v, bool(spread > 1e-12)


def _draw_baseline(ax, x, base, per_method, label, marker):
    if base is None:
        return
    if per_method:
        for m in range(base.shape[1]):
            ax.plot(x, base[:, m], marker=marker, ms=4, color=_color(m), ls="--", lw=1,
                    label=label if m == 0 else None)
    else:
        ax.plot(x, _nanmean(base, 1), marker=marker, ms=4, label=label, **_BASE)


def _errorbars(ax, x, mean, sd, methods, offsets):
    for m, method in enumerate(methods):
        ax.errorbar(x + offsets[m], mean[:, m], yerr=np.nan_to_num(sd[:, m]), marker="o",
                    ms=4, capsize=3, lw=1.4, color=_color(m), label=method)
