"""Models and objectives named by strings, for estimators and scenario files."""

from __future__ import annotations

import numbers

import numpy as np

from .. import models
from ..objectives import (DoubleBackprop, JacobianPenalty, LogDetTarget, MeanSquaredError,
                          WeightDecay)

__all__ = ["MODEL_KINDS", "REGULARISERS", "build_model", "build_objective", "check_hidden"]

MODEL_KINDS = ("mlp", "rbf", "higher_order", "polynomial")
#: "eiv" is not a term but a different fit (joint over weights and a clean series);
#: "auto" is "eiv" when the estimated noise calls for it, else "none".
REGULARISERS = ("auto", "none", "weight_decay", "jacobian", "double_backprop", "logdet", "eiv")
#: Strengths tried when ``strength="auto"`` (validation picks one; see the estimators).
AUTO_STRENGTHS = {
    "weight_decay": (1e-6, 1e-5, 1e-4, 1e-3, 1e-2),
    "jacobian": (1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
    "double_backprop": (1e-4, 1e-3, 1e-2, 1e-1, 1.0),
    "logdet": (1e-3, 1e-2, 1e-1, 1.0),
    "eiv": (3.0, 10.0, 30.0, 100.0),
}
AUTO_STRENGTHS["auto"] = AUTO_STRENGTHS["eiv"]


def check_hidden(hidden):
    """Hidden widths as a tuple of positive ints: one int ``h`` is the one layer ``(h,)``."""
    widths = (hidden,) if isinstance(hidden, numbers.Integral) else hidden
    try:
        widths = tuple(widths)
    except TypeError:
        widths = None
    ok = widths and all(isinstance(h, numbers.Integral) and not isinstance(h, bool) and h > 0
                        for h in widths)
    if not ok:
        raise ValueError("hidden must be a positive int or a non-empty sequence of positive "
                         f"ints (the hidden widths, e.g. 16 or (16, 16)); got {hidden!r}")
    return tuple(int(h) for h in widths)


def build_model(kind, n_in, n_out, hidden=(30,), activation="tanh", degree=3, rng=None):
    """A fresh model ``kind`` (one of ``MODEL_KINDS``) mapping n_in → n_out; ``hidden``
    as :func:`check_hidden` accepts it."""
    hidden = check_hidden(hidden)
    if kind == "mlp":
        return models.MLP([n_in, *hidden, n_out], activation=activation, rng=rng)
    if kind == "rbf":
        return models.RBFNetwork(n_in, hidden[0], n_out, rng=rng)
    if kind == "higher_order":
        return models.HigherOrderNetwork([n_in, *hidden, n_out], activation=activation, rng=rng)
    if kind == "polynomial":
        return models.PolynomialRegression(n_in, n_out, degree=degree, rng=rng)
    raise ValueError(f"model must be one of {MODEL_KINDS}; got {kind!r}")


def build_objective(regulariser, strength, *, logdet_target=None, companion=False,
                    logdet_average=False, rng=None):
    """Data MSE plus ``strength`` × the named regulariser (the objective of a plain fit)."""
    terms = [MeanSquaredError()]
    if regulariser in ("none", "eiv", "auto") or strength == 0:
        pass
    elif regulariser == "weight_decay":
        terms.append(WeightDecay(strength))
    elif regulariser == "jacobian":
        terms.append(JacobianPenalty(strength))
    elif regulariser == "double_backprop":
        terms.append(DoubleBackprop(strength))
    elif regulariser == "logdet":
        if logdet_target is None:
            raise ValueError("regulariser='logdet' needs logdet_target, the known "
                             "log|det J| of the map (for Hénon: log b)")
        terms.append(LogDetTarget(float(logdet_target), companion=companion,
                                  average=logdet_average, weight=strength))
    else:
        raise ValueError(f"regulariser must be one of {REGULARISERS}; got {regulariser!r}")
    objective = terms[0]
    for term in terms[1:]:
        objective = objective + term
    return objective


def strengths_for(regulariser, strength):
    """The strengths to try: the given one, or the ``AUTO_STRENGTHS`` grid for "auto"."""
    if regulariser == "none":
        return (0.0,)
    if isinstance(strength, str):
        if strength != "auto":
            raise ValueError(f"strength must be a number >= 0 or 'auto'; got {strength!r}")
        return AUTO_STRENGTHS[regulariser]
    value = float(strength)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"strength must be a number >= 0 or 'auto'; got {strength!r}")
    return (value,)
