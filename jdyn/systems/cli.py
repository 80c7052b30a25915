"""``jdyn systems``: the built-in systems, their parameters and reference values."""

from __future__ import annotations

__all__ = ["register", "reference_lines"]


def register(subparsers):
    p = subparsers.add_parser(
        "systems", help="list the built-in systems, parameters and reference values",
        description="The built-in ground-truth systems (use their names in scenario files).")
    p.add_argument("name", nargs="?", help="show one system only")
    p.set_defaults(_run=_run)


def _run(args) -> int:
    from . import list_systems
    table = list_systems()
    if args.name is not None:
        key = args.name.strip().lower()
        if key not in table:
            raise ValueError(f"unknown system {args.name!r}; expected one of {sorted(table)}")
        table = {key: table[key]}
    for name, info in table.items():
        params = ", ".join(f"{k}={v:g}" for k, v in info["params"].items())
        description = info["description"].replace("``", "")
        print(f"{name} ({info['kind']}, dim {info['dim']}): {description}")
        print(f"    parameters: {params}")
        for line in reference_lines(info["reference"], info["kind"]):
            print(f"    {line}")
    return 0


def reference_lines(ref, kind) -> list:
    """The reference values of one system as text lines (each quantity it has)."""
    per = "per iteration" if kind == "map" else "per unit time"
    lines = []
    if ref.get("lyapunov_exponents") is not None:
        values = ", ".join(f"{v:g}" for v in ref["lyapunov_exponents"])
        lines.append(f"Lyapunov exponents: {values} (nats {per})")
    else:
        lines.append("Lyapunov exponents: no literature value at these parameters")
    if ref.get("lyapunov_sum") is not None:
        lines.append(f"sum of exponents: {ref['lyapunov_sum']:.6g} (exact)")
    if ref.get("kaplan_yorke") is not None:
        lines.append(f"Kaplan-Yorke dimension: {ref['kaplan_yorke']:g}")
    if ref.get("correlation_dim") is not None:
        unc = ref.get("correlation_dim_uncertainty")
        lines.append(f"correlation dimension: {ref['correlation_dim']:g}"
                     + (f" +- {unc:g}" if unc is not None else ""))
    if ref.get("source"):
        lines.append(f"source: {ref['source']}")
    return lines
