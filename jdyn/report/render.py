"""``DIR/report.md`` and ``DIR/report.html`` from ``DIR/results.nc`` alone.

The report is assembled as a list of blocks (headings, paragraphs, figures, tables),
then written twice: Markdown with the figures as PNG files under ``DIR/figures/``,
and one self-contained HTML file with the same PNGs embedded as base64 ``data:`` URIs.
A figure or table the Dataset cannot support is skipped, and the report says why.
"""

from __future__ import annotations

import base64
import html
import os
import re
import sys
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np

from ..scenarios.safe_markdown import escape as _esc, verbatim
from . import compare as C
from . import figures as F
from . import flagged as J
from . import tables as T

__all__ = ["build_report", "load_results", "nolds_settings", "FIGURES"]

RESULTS, FIGURES_DIR = "results.nc", "figures"

#: file stem → (title, function of (ds, path)).
FIGURES = {
    "exponents_vs_noise": ("Lyapunov exponents against noise (along the data)",
                           partial(F.exponents_vs_noise, variable="lyapunov")),
    "exponents_vs_noise_free": ("Lyapunov exponents against noise (along the model's free "
                                "run)", partial(F.exponents_vs_noise, variable="lyapunov_free")),
    "spectra": ("Spectra side by side", partial(F.spectra, variable="lyapunov")),
    "invariants_vs_noise": ("Dimensions, errors and noise estimates against noise",
                            F.invariants_vs_noise),
    "attractors": ("True and free-running attractors", F.attractors),
    "correlation_integrals": ("Correlation integrals and their fit ranges",
                              F.correlation_integrals),
    "training_curves": ("Training curves", F.training_curves),
}


def load_results(out_dir):
    """``DIR/results.nc`` read into memory (the file is closed again)."""
    import xarray as xr
    path = Path(out_dir) / RESULTS
    if not path.exists():
        raise ValueError(f"{path}: no such file; the report is built from results.nc "
                         "(jdyn report DIR assembles it from DIR/jobs when it is missing)")
    with xr.open_dataset(path) as ds:
        return ds.load()


def _unique(da):
    return sorted({str(v) for v in np.asarray(da.values, dtype=object).ravel()
                   if str(v) not in ("", "nan", "None")})


def nolds_settings(ds) -> str:
    """The nolds baselines and their settings, as recorded in the Dataset."""
    present = [n for n in ("nolds_lyapunov_max", "nolds_lyapunov", "nolds_correlation_dim")
               if n in ds.variables]
    cfg = T.scenario_config(ds)
    if not present:
        if cfg.get("analysis", {}).get("baselines") is False:
            return "The nolds baselines were turned off (analysis.baselines = false)."
        return "results.nc holds no nolds baseline."
    which = "; ".join(f"`{n}` = {ds[n].attrs.get('long_name', n)}" for n in present)
    recorded = [f"{k}: {v}" for k, v in ds.attrs.items() if k.startswith("nolds")]
    for n in ds.data_vars:
        if n.startswith("nolds") and "setting" in n:
            recorded += [f"{n}: {v}" for v in _unique(ds[n])]
    if recorded:
        return f"Baselines: {which}. Settings: " + "; ".join(recorded) + "."
    if not cfg:
        return (f"Baselines: {which}. results.nc records neither the estimators' settings "
                "nor the scenario they ran in.")
    emb = cfg["embedding"]
    dims = cfg.get("sweep", {}).get("dim")
    dim = f"dim swept over {dims}" if dims else f"dim = {emb['dim']}"
    return (f"Baselines: {which}. results.nc does not record the estimators' own settings; "
            f"they ran on the same noisy series as the fits (length "
            f"{cfg['observation']['length']}), with the scenario's embedding ({dim}, lag = "
            f"{emb['lag']}).")


def _scenario_blocks(ds):
    name = ds.attrs.get("scenario_name", "(unnamed)")
    blocks = [("h1", f"jdyn report: {name}")]
    if ds.attrs.get("scenario_description"):
        blocks.append(("p", str(ds.attrs["scenario_description"])))
    counts = J.status_counts(ds)
    n_jobs = sum(counts.values())
    sweep = T.sweep_dims(ds)
    axes = "; ".join(f"{d}: {', '.join(T.label(v) for v in ds[d].values)}" for d in sweep)
    items = [_source_line(ds),
             f"Sweep: {axes or 'none (one job)'}",
             f"Jobs: {n_jobs} — " + (", ".join(f"{c} {s}" for s, c in sorted(counts.items()))
                                    or "no status recorded"),
             "Seeds: " + (", ".join(str(s) for s in np.ravel(ds.attrs.get("seeds", [])))
                          or "not recorded"),
             f"Methods compared: {', '.join(T.method_labels(ds))}"]
    blocks.append(("list", items))
    if ds.attrs.get("reference_error"):
        blocks.append(("p", "Warning: the truth could not be computed: "
                       f"{ds.attrs['reference_error']}"))
    if T.from_file(ds):
        blocks.append(("p", "No truth: the series was read from a file, so no true "
                       "exponents or dimensions are known. Errors against the truth and the "
                       "best method by invariant accuracy are not shown; the methods are "
                       "compared by their spread over seeds and their prediction error."))
    return blocks


def _source_line(ds):
    data = T.scenario_config(ds).get("data")
    if data:
        dt = f", dt = {data['dt']:g}" if data.get("dt") is not None else ", no dt (per sample)"
        return (f"Series: `{data['path']}`, {data.get('name', 'its series')} "
                f"({data.get('length', '?')} samples{dt}, units {data.get('units', '1')})")
    return (f"System: {ds.attrs.get('system', 'unknown')} "
            f"({ds.attrs.get('system_kind', 'unknown kind')})")


def _how_to_read(ds):
    units = ds["lyapunov"].attrs.get("units", "") if "lyapunov" in ds.variables else ""
    truth = ("The solid black line is the true system's value; " if not T.from_file(ds)
             else "No true value is known for a series from a file; ")
    return ("p", "Every number here comes from results.nc; nothing was "
            "refitted. A *method* is one fitting setting (the regulariser, plus its strength, "
            "model size or embedding dimension when those were swept). Points are means over "
            "seeds and error bars one standard deviation over seeds; where nothing varied "
            "between seeds no ± is shown. " + truth + "dashed grey lines are the nolds "
            "estimators run on the same noisy data, with no model. Lyapunov exponents are in "
            f"{units or 'the units of results.nc'}; along the data means the model's "
            "Jacobians evaluated on the observed states, along the free run means on the "
            "model's own orbit. A model with more exponents than the system has (a larger "
            "embedding) has spurious exponents without a true value; they are shown but not "
            "scored. In the tables, error = estimate − truth; the best method at a noise "
            "level has the lowest root-mean-square error over the exponents with a true "
            "value, and its lead over the runner-up is a paired comparison across seeds. "
            "Jobs that failed or whose free run diverged are listed at the end.")


def _tradeoff_blocks(ds):
    text = C.tradeoffs(ds)
    if not text:
        return []
    return [("h2", "What the trade-offs mean"), ("list", text)]


def _figure_blocks(ds, fig_dir, say):
    blocks = [("h2", "Figures")]
    n_seeds = ds.sizes.get("seed", 1)
    base = nolds_settings(ds)
    again = "nolds baselines as stated under the first figure."
    truth = "" if T.from_file(ds) else "black bars: the truth; "
    captions = {
        "exponents_vs_noise": f"Error bars: sd over {n_seeds} seed(s). {base}",
        "exponents_vs_noise_free": f"Error bars: sd over {n_seeds} seed(s); {again}",
        "spectra": f"Each panel one noise level; {truth}crosses: nolds lyap_e; {again}",
        "invariants_vs_noise": f"Error bars: sd over {n_seeds} seed(s); {again}"
                               + ("" if T.from_file(ds) else " The estimated noise level "
                                  "is compared with the true one (the diagonal)."),
        "attractors": "Top left: the true system (when known); then each method's free "
                      "run (one seed) in the series' own units, one row per noise level "
                      "(at most three: lowest, middle, highest).",
        "correlation_integrals": "Each line one seed; the shaded band and thick part mark "
                                 "the range over which the slope (the correlation "
                                 "dimension) was fitted; the dashed black line has the "
                                 "true system's slope, where it is known.",
        "training_curves": "Each line one seed; one row per objective kind (the "
                           "regulariser), since different objectives' values do not "
                           "compare.",
    }
    for k, (stem, (title, fn)) in enumerate(FIGURES.items(), 1):
        path = fig_dir / f"{stem}.png"
        say(f"report figure {k} of {len(FIGURES)}: {title}")
        try:
            written = fn(ds, path)
        except T.MissingData as exc:
            blocks.append(("figure", title, None, f"Skipped: {exc}."))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad figure must not sink the report
            path.unlink(missing_ok=True)
            blocks.append(("figure", title, None,
                           f"Failed to draw ({type(exc).__name__}: {exc})."))
            continue
        blocks.append(("figure", title, Path(written), captions.get(stem, "")))
    return blocks


def _table_blocks(ds):
    blocks = [("h2", "Summary tables")]
    if T.truth(ds) is None:
        makers = [partial(T.exponents_table, variable="lyapunov"),
                  partial(T.exponents_table, variable="lyapunov_free"), T.invariants_table]
    else:
        makers = [partial(T.error_table, variable="lyapunov"),
                  partial(C.best_table, variable="lyapunov"),
                  partial(T.error_table, variable="lyapunov_free"),
                  partial(C.best_table, variable="lyapunov_free"),
                  T.invariants_table]
    for make in makers:
        try:
            blocks.append(("table", make(ds)))
        except T.MissingData as exc:
            if "lyapunov_free" not in str(exc):
                blocks.append(("p", f"Table skipped: {exc}."))
        except Exception as exc:  # noqa: BLE001
            blocks.append(("p", f"Table failed ({type(exc).__name__}: {exc})."))
    blocks.append(("h2", "Flagged jobs"))
    try:
        flagged = J.flagged_table(ds)
    except Exception as exc:  # noqa: BLE001
        blocks.append(("p", f"Table failed ({type(exc).__name__}: {exc})."))
        return blocks
    if flagged.rows:
        blocks.append(("table", flagged))
    else:
        blocks.append(("p", "None: every job finished with status ok and no free run "
                       "diverged."))
    return blocks


def _settings_blocks(ds):
    blocks = [("h2", "Settings and versions"), ("p", nolds_settings(ds))]
    items = [f"{k}: {ds.attrs[k]}" for k in ("jdyn_version", "scenario_hash", "job_function")
             if k in ds.attrs]
    items += [str(p).strip() for p in str(ds.attrs.get("package_versions", "")).split(";")
              if str(p).strip()]
    try:
        items.append(f"report drawn with matplotlib {metadata.version('matplotlib')}")
    except metadata.PackageNotFoundError:
        pass
    blocks.append(("list", items or ["no versions recorded in results.nc"]))
    if ds.attrs.get("scenario"):
        blocks += [("p", "The scenario file:"), ("code", str(ds.attrs["scenario"]))]
    return blocks


def _md(blocks, out_dir):
    parts = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2"):
            parts.append(("#" if kind == "h1" else "##") + " " + _esc(block[1]))
        elif kind == "p":
            parts.append(_esc(block[1]))
        elif kind == "list":
            parts.append("\n".join(f"- {_esc(item)}" for item in block[1]))
        elif kind == "code":
            parts.append(verbatim(block[1], "toml"))
        elif kind == "figure":
            _, title, path, caption = block
            text = f"### {_esc(title)}\n\n"
            if path is None:
                parts.append(text + f"*{_esc(caption)}*")
            else:
                rel = path.relative_to(out_dir).as_posix()
                parts.append(text + f"![{_esc(title)}]({rel})\n\n{_esc(caption)}".rstrip())
        elif kind == "table":
            t = block[1]
            parts.append(f"### {_esc(t.title)}\n\n{t.markdown()}"
                         + (f"\n\n{_esc(t.note)}" if t.note else ""))
    return "\n\n".join(parts) + "\n"


def _inline(text):
    """Escaped text with Markdown's `code` and *emphasis* as HTML."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))
    return re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", text)


_CSS = """body{font-family:system-ui,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}img{max-width:100%;height:auto;border:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0;display:block;max-width:100%;
overflow-x:auto}td,th{border:1px solid #ccc;
padding:.2em .5em;text-align:left}th{background:#f3f3f3}pre{background:#f6f6f6;padding:.8em;
overflow-x:auto}figcaption{font-size:.9em;color:#444}.skip{color:#a00;font-style:italic}"""


def _html(blocks):
    title = next((b[1] for b in blocks if b[0] == "h1"), "jdyn report")
    parts = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{_inline(block[1])}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "list":
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "code":
            parts.append(f"<pre><code>{html.escape(block[1])}</code></pre>")
        elif kind == "figure":
            _, fig_title, path, caption = block
            if path is None:
                parts.append(f"<h3>{_inline(fig_title)}</h3><p class=\"skip\">"
                             f"{_inline(caption)}</p>")
                continue
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(f"<figure><h3>{_inline(fig_title)}</h3><img alt=\""
                         f"{html.escape(fig_title)}\" src=\"data:image/png;base64,{data}\">"
                         f"<figcaption>{_inline(caption)}</figcaption></figure>")
        elif kind == "table":
            t = block[1]
            parts.append(f"<h3>{_inline(t.title)}</h3>{t.html()}"
                         + (f"<p>{_inline(t.note)}</p>" if t.note else ""))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def _write(path, text):
    """Write via a temporary file and a rename (readers never see half a report); the
    file gets the usual permissions (the umask's), unlike a ``mkstemp`` file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def build_report(out_dir, dataset=None, progress=True) -> dict:
    """Write ``DIR/report.md`` (figures under ``DIR/figures/``) and ``DIR/report.html``
    (figures embedded) from ``DIR/results.nc`` alone.

    Parameters
    ----------
    out_dir : str or os.PathLike
        A run directory holding ``results.nc``.
    dataset : xarray.Dataset, optional
        The results, if already loaded; then ``results.nc`` is not read.
    progress : bool or file
        Print a line per figure as it is drawn (the figures take most of the seconds a
        report needs): on stderr when true, or on the given stream; silent when false.

    Returns
    -------
    dict
        ``{"html": path, "markdown": path}``.
    """
    out = Path(out_dir)
    say = _progress(progress)
    ds = load_results(out) if dataset is None else dataset
    fig_dir = out / FIGURES_DIR
    fig_dir.mkdir(parents=True, exist_ok=True)
    for stem in FIGURES:  # no stale figure from an earlier build
        (fig_dir / f"{stem}.png").unlink(missing_ok=True)
    say(f"building the report in {out}: {len(FIGURES)} figures, then the tables")
    blocks = [*_scenario_blocks(ds), ("h2", "How to read this"), _how_to_read(ds),
              *_figure_blocks(ds, fig_dir, say), *_tradeoff_blocks(ds), *_table_blocks(ds),
              *_settings_blocks(ds)]
    md = _write(out / "report.md", _md(blocks, out))
    page = _write(out / "report.html", _html(blocks))
    return {"html": page, "markdown": md}


def _progress(progress):
    """A function printing one progress line, or doing nothing."""
    if not progress:
        return lambda line: None
    stream = sys.stderr if progress is True else progress

    def say(line):
        print(f"jdyn: {line}", file=stream, flush=True)
    return say
