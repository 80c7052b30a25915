"""``report.html`` and ``report.md`` of one :func:`jdyn.analyse` run, from its Dataset.

:func:`write_report` reads the Dataset of :mod:`jdyn.pipeline.dataset` only (its
variables and attributes, never an :class:`~jdyn.pipeline.result.Analysis`), so a
report rebuilt from ``results.nc`` is the report of the run. Every string taken from
the Dataset (warnings, reasons, statuses, the file and column names) is escaped: in
HTML with :func:`html.escape`, in Markdown as entities (``&lt;``, ``&gt;``,
``&amp;``) so no raw HTML passes through a Markdown viewer. Each file is written to a
temporary name beside its target and renamed, so a reader never sees half a file.

Optional attributes the report shows when present: ``input_file`` and
``input_column`` (set by ``jdyn analyse``).
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import numpy as np

__all__ = ["NO_TRUTH", "SIGMA_NOTE", "write_report"]

NO_TRUTH = "No ground truth was given, so nothing is scored against one."
SIGMA_NOTE = (
    "Every ± is one σ (one standard uncertainty). For the exponents and the correlation "
    "dimension σ is the spread across the ensemble's usable members combined in "
    "quadrature (⊕) with the members' own time-average standard errors; for the "
    "Kaplan–Yorke dimension and the noise level it is the spread across members. "
    "The figure's error bars are ± 2σ. A value without ± has no spread to show (too "
    "few usable members); \"not estimated\" means the run could not estimate it.")

_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #ddd;padding-bottom:.15em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}tr.spurious td,tr.bad td{color:#8a1c1c}
figure{margin:1em 0}figure img{width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444}.note{background:#f6f8fa;border-left:4px solid #4a7;
padding:.6em 1em}ul.warnings li{color:#8a4b00}code{background:#f3f3f3;padding:0 .2em}"""

FIGURE = "analysis.png"
_FITS = {None: "plain least squares", "": "plain least squares",
         "none": "plain least squares", "eiv": "errors-in-variables (eiv)",
         "weight_decay": "weight decay", "jacobian": "Jacobian penalty (jacobian)",
         "double_backprop": "double backpropagation (double_backprop)",
         "logdet": "log-determinant penalty (logdet)"}


# ----------------------------------------------------------------------------- helpers

def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _html(value) -> str:
    return html.escape(_text(value), quote=True)


def _md(value) -> str:
    """A string safe inside Markdown text and table cells: no raw HTML, no table
    breaks, no accidental emphasis, code spans or links."""
    text = _text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = " ".join(text.splitlines())
    for ch in "\\`*_[]|":
        text = text.replace(ch, "\\" + ch)
    return text


def _finite(value) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def _num(value, digits=3) -> str:
    return f"{float(value):.{digits}f}" if _finite(value) else "not estimated"


def _pm(value, sigma, digits=3) -> str:
    if not _finite(value):
        return "not estimated"
    if not _finite(sigma):
        return f"{float(value):.{digits}f}"
    return f"{float(value):.{digits}f} ± {float(sigma):.{digits}f}"


def _scalar(ds, name):
    return float(ds[name].values) if name in ds else np.nan


def _units(ds, name):
    return ds[name].attrs.get("units", "") if name in ds else ""


def _method(ds) -> dict:
    raw = ds.attrs.get("method", "")
    try:
        method = json.loads(_text(raw)) if raw else {}
    except (TypeError, ValueError):
        method = {}
    return method if isinstance(method, dict) else {}


def _warnings(ds) -> list:
    raw = ds.attrs.get("warnings", "")
    if isinstance(raw, (list, tuple, np.ndarray)):
        items = [_text(w) for w in raw]
    else:
        items = _text(raw).split("\n")
    return [w.strip() for w in items if w and w.strip()]


def _strings(ds, name, n):
    if name not in ds:
        return [""] * n
    return [_text(v) for v in np.asarray(ds[name].values).ravel()]


def _spectrum(row) -> str:
    row = np.asarray(row, dtype=float)
    return " ".join(_num(v) if _finite(v) else "nan" for v in row)


# ------------------------------------------------------------------------- the content

def _content(ds):
    """The report as plain data: (title, sections) where each section is (heading,
    blocks) and a block is ("p", text, bold) | ("table", header, rows, classes) |
    ("list", items) | ("figure", caption). Text here is unescaped."""
    n = int(ds.sizes.get("time", ds["series"].size if "series" in ds else 0))
    dt = ds.attrs.get("dt", np.nan)
    rate = _units(ds, "exponent_value") or "rate"
    method = _method(ds)
    source = []
    if ds.attrs.get("input_file"):
        what = f"file {_text(ds.attrs['input_file'])}"
        column = _text(ds.attrs.get("input_column", ""))
        if column:
            named = column.startswith(("column ", "variable "))
            what = f"{column if named else repr(column)} of {what}"
        source.append(what)
    dt_text = f"sampling interval dt = {float(dt):g}" if _finite(dt) else \
        "no sampling interval (exponents per sample)"
    analysed = (f"{n} samples" + (f" ({source[0]})" if source else "") + f"; {dt_text}.")
    dim, lag = ds.attrs.get("embedding_dim", "?"), ds.attrs.get("embedding_lag", "?")
    embedding = (f"Delay embedding of dimension {_text(dim)} with lag {_text(lag)} "
                 f"sample(s). Why: {_text(ds.attrs.get('embedding_why', 'not recorded'))}.")

    sections = [("Data", [("p", analysed, False),
                          ("p", NO_TRUTH, True)]),
                ("Embedding", [("p", embedding, False)]),
                ("Method", [("table", ["", ""], _method_rows(method, dim), None)])]

    exp_rows, classes = [], []
    reasons = _strings(ds, "spurious_reason", ds.sizes.get("exponent", 0))
    spurious = np.asarray(ds["spurious"].values, dtype=bool) if "spurious" in ds else []
    for i, (k, v, s) in enumerate(zip(np.asarray(ds["exponent"].values),
                                      np.asarray(ds["exponent_value"].values),
                                      np.asarray(ds["exponent_sigma"].values))):
        bad = bool(spurious[i]) if i < len(spurious) else False
        exp_rows.append([str(int(k)), _pm(v, s), "spurious" if bad else "identified",
                         reasons[i] if i < len(reasons) else ""])
        classes.append("spurious" if bad else "")
    invariants = [
        ["Kaplan–Yorke dimension (identified exponents)",
         _pm(_scalar(ds, "kaplan_yorke"), _scalar(ds, "kaplan_yorke_sigma"))],
        ["correlation dimension (models' free-running attractors)",
         _pm(_scalar(ds, "correlation_dim"), _scalar(ds, "correlation_dim_sigma"))],
        ["noise level (noise std / series std)",
         _pm(_scalar(ds, "noise_level"), _scalar(ds, "noise_level_sigma"), 4)],
    ]
    fit = ds.attrs.get("correlation_fit_log_range", [np.nan, np.nan])
    fit = np.asarray(fit, dtype=float).ravel()
    slope = ds.attrs.get("correlation_fit_slope", np.nan)
    if fit.size == 2 and np.isfinite(fit).all():
        invariants.append(["correlation-sum fit of the first member",
                           f"slope {_num(slope)} over log r in [{fit[0]:.3f}, {fit[1]:.3f}]"])
    sections.append(("Results", [
        ("p", f"Lyapunov exponents ({rate}):", False),
        ("table", ["#", "value ± σ", "verdict", "reason"], exp_rows, classes),
        ("table", ["invariant", "value ± σ"], invariants, None),
        ("p", SIGMA_NOTE, False)]))

    sections.append(("Figure", [("figure", ("Left: the exponents (members as grey dots, "
                                 "the ensemble with ± 2σ bars; open red markers are "
                                 "spurious). Middle: the data against the first member's "
                                 "free run in delay coordinates. Right: the first member's "
                                 "correlation integral and its fit range."))]))
    sections.append(("Members", _member_blocks(ds, rate)))
    warnings = _warnings(ds)
    sections.append(("Warnings", [("list", warnings)] if warnings
                     else [("p", "None.", False)]))
    return "jdyn analysis report", sections


def _method_rows(method, dim):
    rows = []
    if not method:
        return [["method", "not recorded"]]
    fit = method.get("regulariser")
    rows.append(["model", _text(method.get("model", "not recorded"))])
    rows.append(["fit", _FITS.get(fit, _text(fit)) if isinstance(fit, (str, type(None)))
                 else _text(fit)])
    if _finite(method.get("strength")):
        rows.append(["strength (median of usable members)",
                     f"{float(method['strength']):.3g}"])
    if "members" in method:
        rows.append(["members usable / total",
                     (f"{_text(method.get('usable_members', '?'))} / "
                     f"{_text(method['members'])}")])
    if "reference_members" in method:
        rows.append(["members of the reference ensemble (for identification)",
                     _text(method["reference_members"])])
    if method.get("resampling"):
        rows.append(["resampling of the other members", _text(method["resampling"])])
    options = method.get("options")
    if options:
        rows.append(["estimator options", ", ".join(
            f"{_text(k)}={json.dumps(v, default=str)}" for k, v in options.items())])
    return rows


def _member_blocks(ds, rate):
    blocks = []
    n = ds.sizes.get("member", 0)
    if n:
        status = _strings(ds, "member_status", n)
        role = _strings(ds, "member_role", n)
        exps = np.asarray(ds["member_exponents"].values, dtype=float).reshape(n, -1)
        noise = np.asarray(ds["member_noise_level"].values, dtype=float)
        err = np.asarray(ds["member_one_step_error"].values, dtype=float)
        d2 = np.asarray(ds["member_correlation_dim"].values, dtype=float) \
            if "member_correlation_dim" in ds else np.full(n, np.nan)
        rows = [[str(i), status[i], role[i], _spectrum(exps[i]), _num(noise[i], 4),
                 _num(err[i], 4), _num(d2[i])] for i in range(n)]
        blocks.append(("p", f"The ensemble at the chosen dimension (exponents in {rate}):",
                       False))
        blocks.append(("table", ["#", "status", "role", "exponents", "noise",
                                 "one-step error", "correlation dim"], rows,
                       ["" if s == "ok" else "bad" for s in status]))
    m = ds.sizes.get("reference", 0)
    if m:
        status = _strings(ds, "reference_status", m)
        exps = np.asarray(ds["reference_exponents"].values, dtype=float).reshape(m, -1)
        blocks.append(("p", (f"The reference ensemble at dimension {ds.attrs.get('reference_dim', '?')}"
                            ", used only to tell the system's exponents from spurious "
                            "ones:"), False))
        blocks.append(("table", ["#", "status", "exponents"],
                       [[str(i), status[i], _spectrum(exps[i])] for i in range(m)],
                       None))
    if not blocks:
        blocks.append(("p", "No members recorded.", False))
    return blocks


# ----------------------------------------------------------------------------- writers

def _render_html(title, sections, figure_b64):
    parts = [f"<h1>{_html(title)}</h1>"]
    for heading, blocks in sections:
        parts.append(f"<h2>{_html(heading)}</h2>")
        for block in blocks:
            kind = block[0]
            if kind == "p":
                text = _html(block[1])
                parts.append(f'<p class="note"><strong>{text}</strong></p>' if block[2]
                             else f"<p>{text}</p>")
            elif kind == "table":
                _, header, rows, classes = block
                out = ["<table>"]
                if any(header):
                    out.append("<tr>" + "".join(f"<th>{_html(h)}</th>" for h in header)
                               + "</tr>")
                for i, row in enumerate(rows):
                    cls = classes[i] if classes else ""
                    attr = f' class="{_html(cls)}"' if cls else ""
                    cells = "".join(
                        (f'<td class="num">{_html(c)}</td>' if _looks_numeric(c)
                         else f"<td>{_html(c)}</td>") for c in row)
                    out.append(f"<tr{attr}>{cells}</tr>")
                out.append("</table>")
                parts.append("\n".join(out))
            elif kind == "list":
                parts.append('<ul class="warnings">' + "".join(
                    f"<li>{_html(w)}</li>" for w in block[1]) + "</ul>")
            elif kind == "figure":
                img = (f'<img alt="analysis figure" src="data:image/png;base64,{figure_b64}">'
                       if figure_b64 else f'<img alt="analysis figure" src="{FIGURE}">')
                parts.append(f"<figure>{img}<figcaption>{_html(block[1])}</figcaption>"
                             "</figure>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_html(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def _looks_numeric(cell) -> bool:
    head = _text(cell).split(" ")[0].lstrip("-")
    return bool(head) and head.replace(".", "", 1).isdigit()


def _render_markdown(title, sections):
    lines = [f"# {_md(title)}", ""]
    for heading, blocks in sections:
        lines += [f"## {_md(heading)}", ""]
        for block in blocks:
            kind = block[0]
            if kind == "p":
                lines += [f"**{_md(block[1])}**" if block[2] else _md(block[1]), ""]
            elif kind == "table":
                _, header, rows, _classes = block
                width = len(header)
                head = [_md(h) for h in header] if any(header) else ["item", "value"]
                lines.append("| " + " | ".join(head) + " |")
                lines.append("|" + "---|" * width)
                lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
                lines.append("")
            elif kind == "list":
                lines += [f"- {_md(w)}" for w in block[1]] + [""]
            elif kind == "figure":
                lines += [f"![analysis figure]({FIGURE})", "", _md(block[1]), ""]
    return "\n".join(lines).rstrip() + "\n"


def _replace(path: Path, write):
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it over."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_report(ds, out_dir) -> dict:
    """Write ``report.html``, ``report.md`` and ``analysis.png`` into ``out_dir``.

    Parameters
    ----------
    ds : xarray.Dataset
        ``Analysis.to_dataset()``, or ``results.nc`` read back.
    out_dir : str or os.PathLike
        Created if missing.

    Returns
    -------
    dict
        ``{"html": Path, "markdown": Path, "figure": Path}``.
    """
    import matplotlib.pyplot as plt

    from .plots import analysis_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    title, sections = _content(ds)

    def draw(tmp):
        fig = analysis_figure(ds, tmp)
        plt.close(fig)

    figure = _replace(out / FIGURE, draw)
    data = base64.b64encode(figure.read_bytes()).decode("ascii")
    html_path = _replace(out / "report.html", lambda tmp: tmp.write_text(
        _render_html(title, sections, data), encoding="utf-8"))
    md_path = _replace(out / "report.md", lambda tmp: tmp.write_text(
        _render_markdown(title, sections), encoding="utf-8"))
    return {"html": html_path, "markdown": md_path, "figure": figure}
