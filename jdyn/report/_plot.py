"""Drawing helpers shared by the report's figures: canvas, legends, axes, baselines.

Kept apart from :mod:`jdyn.report.figures` so that module holds only the figures.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
from matplotlib import colormaps, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullLocator

from .tables import DATA_LEVEL, grid

#: Resolution of every figure: at the smallest width, 6.4 in, a figure is 960 px wide;
#: at the largest, 7.5 in, 1125 px, which the HTML report's column shows unscaled (so
#: the text keeps its size on screen).
DPI = 150
MIN_WIDTH, MAX_WIDTH = 6.4, 7.5
#: Sizes of the figures' text, in points (none below 9).
STYLE = {"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9,
         "ytick.labelsize": 9, "legend.fontsize": 9, "figure.titlesize": 11}
_BASE = {"color": "0.35", "ls": "--", "lw": 1.3}
_TRUTH = {"color": "k", "lw": 1.0}


def styled(fn):
    """Run a figure function with :data:`STYLE` (text sizes are fixed when the text is
    created, so the whole drawing runs inside the context)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with rc_context(STYLE):
            return fn(*args, **kwargs)
    return wrapper


def _figure(nrows, ncols, width=3.4, height=2.8):
    fig = Figure(figsize=(min(max(ncols * width, MIN_WIDTH), MAX_WIDTH), nrows * height),
                 layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    fig.clear()
    return path


def _legend(fig, ax):
    """A legend in ``ax``, or below the figure when there are many entries."""
    handles, labels = ax.get_legend_handles_labels()
    if not labels:
        return
    if len(labels) <= 5:
        ax.legend(handles, labels)
        return
    ncols = 3 if max(len(t) for t in labels) < 30 else 2
    fig.set_figheight(fig.get_figheight() + 0.25 * -(-len(labels) // ncols) + 0.2)
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols)


def _panel_legends(fig, axes, methods):
    """Legends for panels that each show every method: in each panel when there are few
    methods; else one legend below the figure, and only the other entries per panel."""
    axes = list(axes)
    if len(methods) <= 3:
        for ax in axes:
            if ax.get_legend_handles_labels()[1]:
                ax.legend()
        return
    _legend(fig, axes[0])
    for ax in axes[1:]:
        pairs = [(h, t) for h, t in zip(*ax.get_legend_handles_labels())
                 if not t.startswith(tuple(methods))]
        if pairs:
            ax.legend(*zip(*pairs))


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
    own = labels is not None and list(labels) == [DATA_LEVEL]
    ax.set_xlabel("the file's series (its own noise)" if own
                  else "noise (fraction of the signal's sd)")
    if len(x) == 1:              # one level: room around it, not the methods' offsets
        ax.set_xlim(x[0] - 0.1, x[0] + 0.1)
    if labels is not None:
        ax.set_xticks(x, labels)
    elif len(x) <= 8:
        ax.set_xticks(x, [_v(v) for v in x])


def _v(value):
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def _level(noise):
    """A panel title for one noise level (or the data file's own series)."""
    return "the file's series" if noise == DATA_LEVEL else f"noise = {_v(noise)}"


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
    """Mean ± sd over seeds per method; a method with no finite value draws nothing
    (and so gets no legend entry)."""
    for m, method in enumerate(methods):
        if not np.isfinite(mean[:, m]).any():
            continue
        ax.errorbar(x + offsets[m], mean[:, m], yerr=np.nan_to_num(sd[:, m]), marker="o",
                    ms=4, capsize=3, lw=1.4, color=_color(m), label=method)
