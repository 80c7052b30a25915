"""The picture of :class:`~jdyn.estimators.Invariants`: the exponents with their error
bars, and the model's free orbits over the data's attractor."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_invariants"]

#: Horizontal offset of the two spectra at each exponent index, so both bars show.
_OFFSET = 0.08


def plot_invariants(inv, axes=None, *, max_points=4000):
    """Draw ``inv`` into two axes, made in a new figure when ``axes`` is None (what is
    drawn: :meth:`Invariants.plot`); returns the Figure."""
    if axes is None:
        import matplotlib.pyplot as plt
        _, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    if len(axes) != 2:
        raise ValueError(f"axes must be two matplotlib Axes; got {len(axes)}")
    _exponents(axes[0], inv)
    _orbits(axes[1], inv, max_points)
    return axes[0].figure


def _exponents(ax, inv):
    for res, name, shift, marker in ((inv.lyapunov_data, "along the data", -_OFFSET, "o"),
                                     (inv.lyapunov_free, "free runs", _OFFSET, "s")):
        index = np.arange(1, res.exponents.size + 1) + shift
        label = f"{name}, Kaplan-Yorke {_pm(res.kaplan_yorke, res.kaplan_yorke_stderr)}"
        if np.all(np.isnan(res.exponents)):
            label = f"{name}: none ({inv.free_run_status})"
        ax.errorbar(index, res.exponents, yerr=res.stderr, fmt=marker, capsize=3, label=label)
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xticks(np.arange(1, inv.lyapunov_data.exponents.size + 1))
    ax.set_xlabel("exponent index i")
    ax.set_ylabel(f"Lyapunov exponent λi (per {inv.time_unit})")
    ax.set_title("Lyapunov spectrum (± 1 standard error)")
    ax.legend(fontsize="small")


def _orbits(ax, inv, max_points):
    names = inv.coordinates or tuple(f"x{i}" for i in range(inv.free_orbit.shape[-1]))
    pairs = _plane(inv.data_states)
    if pairs is not None:
        ax.plot(*_thin(pairs, max_points).T, ".", ms=1.5, color="0.7", label="data")
    for i, orbit in enumerate(inv.free_orbit):
        pts = _plane(orbit[np.all(np.isfinite(orbit), axis=1)])
        if pts is not None and len(pts):
            ax.plot(*_thin(pts, max_points).T, ".", ms=1.5, label=f"free run {i + 1}")
    xname, yname = (names[0], names[1]) if len(names) > 1 else (names[0], f"{names[0]}+1")
    ax.set_xlabel(f"{xname} (data units)")
    ax.set_ylabel(f"{yname} (data units)")
    cd = inv.correlation_dim
    d2 = "" if cd is None else f", correlation dimension {_pm(cd.dimension, cd.stderr)}"
    ax.set_title(f"free runs: {inv.free_run_status}{d2}")
    ax.legend(fontsize="small", markerscale=6)


def _plane(states):
    """The first two coordinates (n, 2), or consecutive values of a 1-D state."""
    if states is None or len(states) < 2:
        return None
    if states.shape[1] > 1:
        return states[:, :2]
    return np.column_stack([states[:-1, 0], states[1:, 0]])


def _thin(points, max_points):
    return points[::max(1, len(points) // max_points)]


def _pm(value, stderr):
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.3f}" if not np.isfinite(stderr) or stderr == 0 else \
        f"{value:.3f} ± {stderr:.3f}"
