"""jdyn: exact Jacobian-aware training (J-prop) and dynamical invariants of chaotic series."""

from . import embedding, jprop, layers, models, systems
from .embedding import choose_dim, choose_lag, delay_embed
from .gradcheck import (assert_layer, check_layer, numerical_derivative, numerical_gradient,
                        relative_error)
from .models import MLP, HigherOrderNetwork, PolynomialRegression, RBFNetwork, Sequential

__version__ = "0.1.0"

__all__ = [
    "__version__", "embedding", "jprop", "layers", "models", "systems",
    "MLP", "RBFNetwork", "HigherOrderNetwork", "PolynomialRegression", "Sequential",
    "delay_embed", "choose_lag", "choose_dim",
    "check_layer", "assert_layer", "numerical_gradient", "numerical_derivative",
    "relative_error",
]
