"""The three views of an analysis, drawn from its Dataset (:mod:`jdyn.pipeline.dataset`)
only, so the report and ``Analysis.plot`` show the same thing."""

from __future__ import annotations

import numpy as np

__all__ = ["analysis_figure"]


def analysis_figure(analysis_or_dataset, path=None, *, truth=None):
    """Exponents with error bars, the data against a free run, the correlation integral.

    Parameters
    ----------
    analysis_or_dataset : Analysis or xarray.Dataset (``Analysis.to_dataset()``)
    path : str or Path, optional
        Where to save the figure (PNG at 150 dpi).
    truth : sequence of float, optional
        Known exponents to draw beside the estimates.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    ds = analysis_or_dataset
    if not hasattr(ds, "data_vars"):
        ds = ds.to_dataset()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
    _exponents(axes[0], ds, truth)
    _orbit(axes[1], ds)
    _correlation(axes[2], ds)
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig


def _exponents(ax, ds, truth):
    k = ds["exponent"].values
    spurious = ds["spurious"].values.astype(bool)
    rows = ds["member_exponents"].values
    for row in rows:
        ax.plot(k, row, ".", color="0.6", ms=5, zorder=1)
    val, sig = ds["exponent_value"].values, ds["exponent_sigma"].values
    ax.errorbar(k[~spurious], val[~spurious], yerr=2 * sig[~spurious], fmt="o", color="C0",
                capsize=4, label="identified (± 2σ)", zorder=3)
    if spurious.any():
        ax.errorbar(k[spurious], val[spurious], yerr=2 * sig[spurious], fmt="o", mfc="white",
                    color="C3", capsize=4, label="spurious", zorder=3)
    if truth is not None:
        ax.plot(np.arange(1, len(truth) + 1), truth, "k_", ms=22, mew=2, label="truth")
    ax.plot([], [], ".", color="0.6", label="members")
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.set_xticks(k)
    ax.set_xlabel("exponent index")
    ax.set_ylabel(f"Lyapunov exponent ({ds['exponent_value'].attrs['units']})")
    ax.set_title("Lyapunov spectrum")
    ax.legend(fontsize=9)


def _orbit(ax, ds):
    lag = int(ds.attrs["embedding_lag"])
    x, free = ds["series"].values, ds["free_orbit"].values
    n = min(3000, x.size - lag)
    ax.plot(x[lag:lag + n], x[:n], ".", ms=1.5, color="0.55", label="data")
    if free.size > 1:
        ax.plot(free[1:], free[:-1], ".", ms=1.5, color="C1", label="model free run")
    ax.set_xlabel("x[t]")
    ax.set_ylabel(f"x[t − {lag}]")
    ax.set_title("data against the model's free run")
    ax.legend(fontsize=9, markerscale=6)


def _correlation(ax, ds):
    log_r, log_c = ds["log_radius"].values, ds["log_correlation_sum"].values
    ax.set_title("correlation integral (first member)")
    ax.set_xlabel("log r")
    ax.set_ylabel("log C(r)")
    if log_r.size == 0:
        ax.text(0.5, 0.5, "not estimated", ha="center", transform=ax.transAxes)
        return
    ax.plot(log_r, log_c, "o-", ms=3, color="C0")
    lo, hi = ds.attrs["correlation_fit_log_range"]
    slope = ds.attrs["correlation_fit_slope"]
    inside = (log_r >= lo) & (log_r <= hi)
    ax.axvspan(lo, hi, color="C2", alpha=0.15, label="fit range")
    if inside.any():
        mid = np.mean(log_r[inside]), np.mean(log_c[inside])
        xs = np.array([lo, hi])
        ax.plot(xs, mid[1] + slope * (xs - mid[0]), "k--", label=f"slope {slope:.3f}")
    ax.legend(fontsize=9)
