"""jdyn: exact Jacobian-aware training (J-prop) and dynamical invariants of chaotic series."""

from . import jprop, layers, models
from .gradcheck import assert_layer, check_layer, numerical_gradient, relative_error
from .models import MLP, Sequential

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "jprop", "layers", "models",
    "MLP", "Sequential",
    "check_layer", "assert_layer", "numerical_gradient", "relative_error",
]
