"""Reports of a scenario run, built from its results Dataset alone.

``jdyn report DIR`` (and the end of ``jdyn run``) calls :func:`build_report`, which
reads ``DIR/results.nc`` and writes ``DIR/report.md`` (figures as PNG under
``DIR/figures/``) and a self-contained ``DIR/report.html``. Nothing is refitted: the
report imports no fitting code, and anything it shows must be in ``results.nc``.

From Python::

    from jdyn.report import build_report
    paths = build_report("runs/quickstart")    # {"html": ..., "markdown": ...}
"""

from .figures import (attractors, correlation_integrals, exponents_vs_noise,
                      invariants_vs_noise, spectra, training_curves)
from .compare import best_table, paired_difference, tradeoffs
from .flagged import flagged_table
from .render import build_report, load_results, nolds_settings
from .tables import MissingData, error_table, exponents_table, invariants_table

__all__ = [
    "build_report", "load_results", "nolds_settings", "MissingData",
    "exponents_vs_noise", "spectra", "invariants_vs_noise", "attractors",
    "correlation_integrals", "training_curves",
    "error_table", "best_table", "invariants_table", "exponents_table", "flagged_table",
    "paired_difference", "tradeoffs",
]
