"""Models: compositions of layers with a flat parameter vector, Jacobians, jvp and vjp."""

from .higher_order import HigherOrderNetwork
from .mlp import MLP
from .polynomial import PolynomialRegression
from .rbf import RBFNetwork
from .sequential import Sequential, Tape, unit_seeds

__all__ = ["Sequential", "Tape", "MLP", "RBFNetwork", "HigherOrderNetwork",
           "PolynomialRegression", "unit_seeds"]
