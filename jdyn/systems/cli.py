"""``jdyn systems``: the built-in systems, their parameters and reference values."""

from __future__ import annotations

__all__ = ["register"]


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
        print(f"{name} ({info['kind']}, dim {info['dim']}): {info['description']}")
        print(f"    parameters: {params}")
        ref = info["reference"]
        for key in ("lyapunov_exponents", "kaplan_yorke", "correlation_dim"):
            if ref.get(key) is not None:
                print(f"    {key}: {ref[key]}")
        if ref.get("source"):
            print(f"    source: {ref['source']}")
    return 0
