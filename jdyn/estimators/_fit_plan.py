"""How many fits an estimator's ``fit`` runs, and what each is: the "fit k of n: what"
of its progress lines (:mod:`jdyn.training.progress`).

The plain stage runs one fit per strength (plus a data-only warm start before log-det
fits); errors-in-variables adds a log-det pre-fit when a target is known and the fits of
its strength search, whose number depends on the data (:func:`._eiv.max_fits` bounds
it); ``regulariser="auto"`` knows which of the two follows only after the noise estimate,
so until then the count is a bound.
"""

from __future__ import annotations

from ._builders import strengths_for
from ._eiv import max_fits

__all__ = ["eiv_fit_count", "eiv_searched", "fit_count", "plain_label"]


def eiv_searched(est):
    """Whether the errors-in-variables strength is searched (its fit count is a bound)."""
    return len(strengths_for("eiv", est.strength)) > 1


def eiv_fit_count(est):
    """Fits of the errors-in-variables stage (a bound when its strength is searched)."""
    return (est.logdet_target is not None) + max_fits(strengths_for("eiv", est.strength))


def fit_count(est, refit):
    """``(fits, at_most)``: the fits ``est.fit`` runs, or a bound on them; ``refit``:
    whether "auto" refits the plain fit without the output guard when the noise is low."""
    plain, strengths = est._plain_stage()
    n = len(strengths) + (plain == "logdet")
    if est.regulariser == "eiv":
        return n + eiv_fit_count(est), eiv_searched(est)
    if est.regulariser == "auto":
        return n + max(int(refit), eiv_fit_count(est)), True
    return n, False


def plain_label(est, plain, strength, guarded):
    """What one fit of the plain stage is (regulariser ``plain`` at ``strength``)."""
    what = "least squares" if plain == "none" else f"{plain}, strength {strength:g}"
    if est.regulariser not in ("auto", "eiv"):
        return what
    if guarded or not est._guarded("plain"):
        guard = " with the output guard" if guarded else ""
        return f"{what}{guard}: noise estimate and start of the joint fit"
    return f"{what} refitted without the output guard (low noise: this fit is the answer)"
