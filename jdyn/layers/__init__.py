"""Layers: each one small class with its forward, backward, R-forward and R-backward pass."""

from .activations import (ACTIVATIONS, Activation, Identity, Sigmoid, Softplus, Tanh,
                          get_activation)
from .base import Layer, contract
from .dense import Dense
from .polynomial import PolynomialFeatures
from .rbf import RBF
from .sigma_pi import SigmaPi

__all__ = ["Layer", "contract", "Dense", "Activation", "Tanh", "Sigmoid", "Softplus",
           "Identity", "get_activation", "ACTIVATIONS", "RBF", "SigmaPi",
           "PolynomialFeatures"]
