"""jdyn: exact Jacobian-aware training (J-prop) and dynamical invariants of chaotic series.

Where things live: ``jdyn.layers`` (each layer's four passes), ``jdyn.models``
(compositions with a flat parameter vector), ``jdyn.jprop`` (Jacobian objectives and
their exact weight gradients), ``jdyn.objectives`` and ``jdyn.training`` (fitting),
``jdyn.systems`` and ``jdyn.embedding`` (data), ``jdyn.analysis`` (invariants),
``jdyn.estimators`` (fit a series, read its invariants), ``jdyn.pipeline``
(:func:`analyse`: invariants with honest uncertainties from one call), ``jdyn.scenarios`` and
``jdyn.report`` (sweeps and reports), ``jdyn.bench`` (benchmarks).
"""

from . import (analysis, baselines, embedding, estimators, jprop, layers, models, objectives,
               pipeline, systems, training)
from .analysis import (correlation_dim, correlation_sum, kaplan_yorke_dim, lyapunov_spectrum,
                       lyapunov_spectrum_from_jacobians)
from .embedding import choose_dim, choose_lag, delay_embed
from .estimators import DelayMapEstimator, StateMapEstimator
from .gradcheck import (assert_layer, check_layer, numerical_derivative, numerical_gradient,
                        relative_error)
from .models import MLP, HigherOrderNetwork, PolynomialRegression, RBFNetwork, Sequential
from .pipeline import Analysis, analyse
from .denoise import denoise

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "analysis", "baselines", "embedding", "estimators", "jprop", "layers", "models", "objectives",
    "pipeline", "systems", "training", "analyse", "Analysis",
    "MLP", "RBFNetwork", "HigherOrderNetwork", "PolynomialRegression", "Sequential",
    "DelayMapEstimator", "StateMapEstimator",
    "lyapunov_spectrum", "lyapunov_spectrum_from_jacobians", "kaplan_yorke_dim",
    "correlation_sum", "correlation_dim",
    "delay_embed", "choose_lag", "choose_dim",
    "check_layer", "assert_layer", "numerical_gradient", "numerical_derivative",
    "relative_error",
]
