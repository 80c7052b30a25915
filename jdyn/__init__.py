"""jdyn: exact Jacobian-aware training (J-prop) and dynamical invariants of chaotic series.

Where things live: ``jdyn.layers`` (each layer's four passes), ``jdyn.models``
(compositions with a flat parameter vector), ``jdyn.jprop`` (Jacobian objectives and
their exact weight gradients), ``jdyn.objectives`` and ``jdyn.training`` (fitting),
``jdyn.systems`` and ``jdyn.embedding`` (data), ``jdyn.analysis`` (invariants),
``jdyn.estimators`` (fit a series, read its invariants), ``jdyn.pipeline``
(:func:`analyse`: invariants with honest uncertainties from one call), ``jdyn.noise_reduction``
(:func:`denoise`), ``jdyn.control`` (controlling chaos from a fitted model),
``jdyn.scenarios`` and ``jdyn.report`` (sweeps and reports), ``jdyn.bench`` (benchmarks).

The names below are imported on first use (PEP 562), so that ``import jdyn`` and the
command line start without loading scipy and every subpackage.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the same names, for type checkers, IDEs and the API docs
    from . import (analysis, baselines, control, embedding, estimators, jprop, layers, models,
                   noise_reduction, objectives, pipeline, systems, training)
    from .analysis import (correlation_dim, correlation_sum, kaplan_yorke_dim,
                           lyapunov_spectrum, lyapunov_spectrum_from_jacobians)
    from .embedding import choose_dim, choose_lag, delay_embed
    from .estimators import DelayMapEstimator, StateMapEstimator
    from .gradcheck import (assert_layer, check_layer, numerical_derivative,
                            numerical_gradient, relative_error)
    from .models import MLP, HigherOrderNetwork, PolynomialRegression, RBFNetwork, Sequential
    from .noise_reduction import denoise
    from .pipeline import Analysis, analyse

__version__ = "0.1.0"

_SUBMODULES = ("analysis", "baselines", "control", "embedding", "estimators", "jprop", "layers",
               "models", "noise_reduction", "objectives", "pipeline", "systems", "training")

#: public name -> the module it comes from
_NAMES = {
    "correlation_dim": "analysis", "correlation_sum": "analysis",
    "kaplan_yorke_dim": "analysis", "lyapunov_spectrum": "analysis",
    "lyapunov_spectrum_from_jacobians": "analysis",
    "choose_dim": "embedding", "choose_lag": "embedding", "delay_embed": "embedding",
    "DelayMapEstimator": "estimators", "StateMapEstimator": "estimators",
    "assert_layer": "gradcheck", "check_layer": "gradcheck",
    "numerical_derivative": "gradcheck", "numerical_gradient": "gradcheck",
    "relative_error": "gradcheck",
    "MLP": "models", "HigherOrderNetwork": "models", "PolynomialRegression": "models",
    "RBFNetwork": "models", "Sequential": "models",
    "Analysis": "pipeline", "analyse": "pipeline",
    "denoise": "noise_reduction",
}

__all__ = ["__version__", *_SUBMODULES, *_NAMES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
