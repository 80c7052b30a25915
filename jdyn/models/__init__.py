"""Models: compositions of layers with a flat parameter vector, Jacobians, jvp and vjp."""

from .mlp import MLP
from .sequential import Sequential, Tape, unit_seeds

__all__ = ["Sequential", "Tape", "MLP", "unit_seeds"]
