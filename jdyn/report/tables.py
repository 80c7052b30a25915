"""Reading a results Dataset as a grid, and the report's tables.

Every per-job variable of ``results.nc`` lives over the sweep dimensions (any of
``noise``, ``regulariser``, ``strength``, ``seed``, ``hidden``, ``dim``) plus its own
dimensions. The report looks at it as one grid, :class:`Grid`, of shape
``(noise, method, seed, *own dims)``: a *method* is one combination of the sweep
axes other than noise and seed (the regulariser, with its strength, model size or
embedding dimension when those are swept too). An absent axis counts as a single
value, taken from the resolved scenario stored as JSON in ``ds.attrs["scenario_config"]``
(every default filled in by the loader: the report restates none).

Tables are :class:`Table` objects rendered to Markdown and HTML alike.
"""

from __future__ import annotations

import html
import json
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..scenarios.safe_markdown import escape

__all__ = ["MissingData", "Grid", "Table", "sweep_dims", "scenario_config", "grid",
           "truth", "label", "method_labels", "method_regularisers", "error_table",
           "invariants_table", "exponents_table", "pm",
           "DATA_LEVEL"]

#: Dimensions a variable may have besides the sweep axes.
OWN_DIMS = ("exponent", "iteration", "radius", "sample", "coord")
#: The sweep axes a scenario may declare, in the scenario's order.
SWEEP_AXES = ("noise", "regulariser", "strength", "seed", "hidden", "dim")
#: The one "noise level" of a series read from a file (it has its own noise).
DATA_LEVEL = "data"


class MissingData(ValueError):
    """The Dataset lacks what a figure or table needs; the message says what."""


def sweep_dims(ds) -> list:
    """The sweep dimensions of ``ds``, in scenario order."""
    attr = ds.attrs.get("sweep_axes")
    if isinstance(attr, str) and attr.strip():
        return [d for d in attr.split() if d in ds.dims]
    for name in ("status", "lyapunov", "kaplan_yorke"):
        if name in ds.variables:
            return [d for d in ds[name].dims if d not in OWN_DIMS]
    return [d for d in SWEEP_AXES if d in ds.dims]


def scenario_config(ds) -> dict:
    """The resolved scenario stored in ``ds.attrs["scenario_config"]`` (JSON), or ``{}``
    when results.nc does not record it."""
    try:
        return json.loads(str(ds.attrs.get("scenario_config", "{}")))
    except ValueError:
        return {}


def from_file(ds) -> bool:
    """Whether the series came from a data file (so no truth is known)."""
    return bool(scenario_config(ds).get("data"))


def label(value) -> str:
    """A coordinate value as text (``0.05``, ``jacobian``, ``2``)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{float(value):g}"
    return str(value)


@dataclass
class Grid:
    """One variable as ``values[noise, method, seed, *own]`` (see the module docstring)."""

    values: np.ndarray
    noise: np.ndarray
    methods: list
    seeds: list
    own_dims: tuple

    def seed_mean_sd(self):
        """``(mean, sd, n)`` over seeds, NaN-aware (sd is NaN with fewer than 2 seeds)."""
        v = self.values
        n = np.sum(np.isfinite(v), axis=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(v, axis=2)
            sd = np.nanstd(v, axis=2, ddof=1) if v.shape[2] > 1 else np.full(mean.shape, np.nan)
        sd = np.where(n > 1, sd, np.nan)
        return mean, sd, n


def _noise_values(ds, cfg):
    if "noise" in ds.dims:
        values = ds["noise"].values
        try:
            return values.astype(float)
        except (TypeError, ValueError):
            return values
    if cfg.get("data"):
        return np.array([DATA_LEVEL], dtype=object)
    return np.array([float(cfg.get("observation", {}).get("noise", np.nan))])


def _method_dims(ds):
    return [d for d in sweep_dims(ds) if d not in ("noise", "seed")]


def method_labels(ds) -> list:
    """One label per combination of the sweep axes other than noise and seed."""
    dims = _method_dims(ds)
    base = "" if "regulariser" in dims else str(scenario_config(ds).get(
        "objective", {}).get("regulariser", ""))
    if not dims:
        return [base or "model"]
    labels = []
    for index in np.ndindex(*(ds.sizes[d] for d in dims)):
        parts = [base] if base else []
        for d, i in zip(dims, index):
            value = label(ds[d].values[i])
            parts.append(value if d == "regulariser" else f"{d}={value}")
        labels.append(", ".join(parts))
    return labels


def method_regularisers(ds) -> list:
    """The regulariser of each method of :func:`method_labels` (``"objective"`` when
    results.nc does not say)."""
    dims = _method_dims(ds)
    base = str(scenario_config(ds).get("objective", {}).get("regulariser", "objective"))
    if "regulariser" not in dims:
        return [base] * len(method_labels(ds))
    k = dims.index("regulariser")
    return [label(ds["regulariser"].values[index[k]])
            for index in np.ndindex(*(ds.sizes[d] for d in dims))]


def grid(ds, name) -> Grid:
    """``ds[name]`` as a :class:`Grid`; raises :class:`MissingData` if it is absent."""
    if name not in ds.variables:
        raise MissingData(f"results.nc has no variable {name!r}")
    da = ds[name]
    sweep = sweep_dims(ds)
    mdims = [d for d in sweep if d not in ("noise", "seed")]
    lead = [d for d in ("noise", *mdims, "seed") if d in sweep]
    missing = {d: ds[d].values for d in lead if d not in da.dims}
    if missing:
        da = da.expand_dims(missing)
    own = tuple(d for d in da.dims if d not in lead)
    da = da.transpose(*lead, *own)
    n_noise = ds.sizes["noise"] if "noise" in lead else 1
    n_seed = ds.sizes["seed"] if "seed" in lead else 1
    n_method = int(np.prod([ds.sizes[d] for d in mdims])) if mdims else 1
    values = np.asarray(da.values)
    if values.dtype.kind in "biuf":
        values = values.astype(float)
    values = values.reshape((n_noise, n_method, n_seed) + values.shape[len(lead):])
    seeds = list(ds["seed"].values) if "seed" in lead else [None]
    return Grid(values, _noise_values(ds, scenario_config(ds)), method_labels(ds), seeds,
                own)


def truth(ds, name="true_lyapunov"):
    """The truth as a flat float array (mean over any sweep dims), or ``None``."""
    if name not in ds.variables:
        return None
    da = ds[name]
    extra = [d for d in da.dims if d != "exponent"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values = da.mean(extra, skipna=True).values if extra else da.values
    values = np.atleast_1d(np.asarray(values, dtype=float))
    return values if np.isfinite(values).any() else None


def fmt(x, digits=3, sign=False) -> str:
    """A number for a table; an em dash for NaN."""
    if x is None or not np.isfinite(x):
        return "—"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def pm(mean, sd, sign=True):
    """``mean ± sd``; the mean alone when the sd is unknown or zero (nothing varied
    between seeds, e.g. a baseline on data the seeds do not change)."""
    text = fmt(mean, sign=sign)
    if text == "—" or not np.isfinite(sd) or sd <= 1e-12 * max(1.0, abs(mean)):
        return text
    return f"{text} ± {fmt(sd)}"



@dataclass
class Table:
    """A small table: header, rows of strings, bold cells ``(row, col)`` and a note."""

    title: str
    header: list
    rows: list
    note: str = ""
    bold: set = field(default_factory=set)

    def markdown(self) -> str:
        def cell(text, i, j):
            text = escape(text).replace("|", "\\|")     # escape() also joins lines
            return f"**{text}**" if (i, j) in self.bold and text else text
        lines = ["| " + " | ".join(cell(h, -1, j) for j, h in enumerate(self.header)) + " |",
                 "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(cell(c, i, j) for j, c in enumerate(row)) + " |"
                  for i, row in enumerate(self.rows)]
        return "\n".join(lines)

    def html(self) -> str:
        def cell(tag, text, i, j):
            text = html.escape(str(text))
            return f"<{tag}>{f'<b>{text}</b>' if (i, j) in self.bold else text}</{tag}>"
        head = "".join(cell("th", h, -1, j) for j, h in enumerate(self.header))
        body = "".join("<tr>" + "".join(cell("td", c, i, j) for j, c in enumerate(row))
                       + "</tr>\n" for i, row in enumerate(self.rows))
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _exponent_errors(ds, variable):
    g = grid(ds, variable)
    true = truth(ds)
    if true is None:
        raise MissingData("results.nc has no true_lyapunov, so errors cannot be computed")
    k = int(np.isfinite(true).sum())          # the truth is NaN-padded to the exponent axis
    true = true[:k]
    values = g.values[..., :k]
    if values.shape[-1] < k:      # a smaller embedding: its missing exponents score NaN
        pad = np.full(values.shape[:-1] + (k - values.shape[-1],), np.nan)
        values = np.concatenate([values, pad], axis=-1)
    if g.values.shape[-1] > k:
        # Which of a larger model's exponents are the system's is not known to a scenario
        # job (jdyn.analyse identifies them): matching by index would score spurious ones,
        # so jobs with more finite exponents than the system are not scored.
        extra = np.isfinite(g.values[..., k:]).any(axis=-1)
        values = np.where(extra[..., None], np.nan, values)
    err = values - true[:k]
    err = err[..., np.isfinite(true[:k])]
    return g, err, np.flatnonzero(np.isfinite(true[:k]))


def _rms(err):
    """Per job: the RMS over exponents (NaN if any exponent is missing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.sqrt(np.mean(err ** 2, axis=-1))


def _scores(ds, variable):
    g, err, ks = _exponent_errors(ds, variable)
    rms = Grid(_rms(err), g.noise, g.methods, g.seeds, ())
    return g, err, ks, rms.seed_mean_sd()


def _baseline_rows(ds, noise_index, ks, true):
    """Errors of the nolds exponents (lyap_e per exponent, lyap_r for the largest)."""
    rows = []
    for name, label in (("nolds_lyapunov", "nolds lyap_e (baseline)"),
                        ("nolds_lyapunov_max", "nolds lyap_r (baseline)")):
        if name not in ds.variables:
            continue
        g = grid(ds, name)
        v = g.values[noise_index]  # (method, seed[, exponent]); same data for each method
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            v = np.nanmean(v.reshape(v.shape[0], v.shape[1], -1), axis=0)  # seed x exponent
        cells = []
        for k in ks:
            if k < v.shape[1] and np.isfinite(v[:, k]).any():
                e = v[:, k] - true[k]
                n = int(np.isfinite(e).sum())
                cells.append(pm(np.nanmean(e), np.nanstd(e, ddof=1) if n > 1 else np.nan))
            else:
                cells.append("—")
        rows.append((label, cells))
    return rows


def error_table(ds, variable="lyapunov") -> Table:
    """Mean ± sd over seeds of each exponent's error against the truth, per noise level
    and method, with the nolds baselines; the best method per noise level in bold."""
    g, err, ks, (score, score_sd, n) = _scores(ds, variable)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        e_mean = np.nanmean(err, axis=2)
        e_sd = np.nanstd(err, axis=2, ddof=1) if err.shape[2] > 1 else np.full(e_mean.shape,
                                                                                 np.nan)
    e_n = np.sum(np.isfinite(err), axis=2)
    e_sd = np.where(e_n > 1, e_sd, np.nan)
    true = truth(ds)
    header = ["noise", "method", *[f"λ{k + 1} error" for k in ks], "RMS error", "seeds"]
    rows, bold = [], set()
    for i, noise in enumerate(g.noise):
        best = _argmin(score[i])
        for m, method in enumerate(g.methods):
            if m == best:
                bold.update((len(rows), j) for j in range(len(header)))
            rows.append([label(noise), method,
                         *[pm(e_mean[i, m, j], e_sd[i, m, j]) for j in range(len(ks))],
                         pm(score[i, m], score_sd[i, m], sign=False),
                         f"{int(e_n[i, m, 0])}/{len(g.seeds)}"])
        for name, cells in _baseline_rows(ds, i, ks, true):
            rows.append([label(noise), name, *cells, "", ""])
    units = ds[variable].attrs.get("units", "")
    note = (f"Error = estimate − truth ({units}); mean ± sd over seeds that finished. "
            "RMS error: root mean square over the exponents with a known true value, per "
            "seed, then averaged; a model with fewer exponents than that (a smaller "
            "embedding) gets none, nor does one with more (its spurious exponents are not "
            "identified here: jdyn.analyse does that). Seeds: jobs with a finite λ1. Bold: "
            "the lowest RMS error at that noise level.")
    return Table(f"Errors of `{variable}` against the truth", header, rows, note, bold)


def _argmin(values):
    finite = np.isfinite(values)
    return int(np.nanargmin(np.where(finite, values, np.inf))) if finite.any() else None


def exponents_table(ds, variable="lyapunov") -> Table:
    """Each method's exponents, mean ± sd over seeds, per noise level: the summary when
    no truth is known (the spread over seeds is then the only error bar)."""
    g = grid(ds, variable)
    if "exponent" not in g.own_dims:
        raise MissingData(f"{variable} has no exponent dimension")
    mean, sd, n = g.seed_mean_sd()
    ks = [k for k in range(mean.shape[-1]) if np.isfinite(mean[..., k]).any()]
    rows = [[label(noise), method, *[pm(mean[i, m, k], sd[i, m, k]) for k in ks],
             f"{int(n[i, m, 0])}/{len(g.seeds)}"]
            for i, noise in enumerate(g.noise) for m, method in enumerate(g.methods)]
    units = ds[variable].attrs.get("units", "")
    return Table(f"Exponents `{variable}` ({units}), mean ± sd over seeds",
                 ["noise", "method", *[f"λ{k + 1}" for k in ks], "seeds"], rows,
                 "No truth is known: the spread over seeds is the error shown.")


#: (variable, truth variable, column title)
_INVARIANT_COLUMNS = (("kaplan_yorke", "true_kaplan_yorke", "Kaplan–Yorke dim."),
                      ("correlation_dim", "true_correlation_dim", "correlation dim."),
                      ("nolds_correlation_dim", "true_correlation_dim", "nolds corr_dim"),
                      ("one_step_error", None, "one-step error"),
                      ("multi_step_error", None, "5-step error"),
                      ("diverged", None, "diverged (fraction)"))


def invariants_table(ds) -> Table:
    """Mean ± sd over seeds of the scalar invariants per noise level and method, with
    the true values in the header."""
    cols = [c for c in _INVARIANT_COLUMNS if c[0] in ds.variables
            and np.asarray(ds[c[0]].values).dtype.kind in "biuf"]
    if not cols:
        raise MissingData("results.nc has none of "
                          + ", ".join(c[0] for c in _INVARIANT_COLUMNS))
    stats = [grid(ds, c[0]).seed_mean_sd() for c in cols]
    header = ["noise", "method"]
    for name, true_name, title in cols:
        true = truth(ds, true_name) if true_name else None
        header.append(f"{title} (true {fmt(true[0])})" if true is not None else title)
    g = grid(ds, cols[0][0])
    rows = [[label(noise), method, *[pm(mean[i, m], sd[i, m], sign=False)
                                     for mean, sd, _ in stats]]
            for i, noise in enumerate(g.noise) for m, method in enumerate(g.methods)]
    return Table("Scalar invariants (mean ± sd over seeds)", header, rows)
