"""Controlling chaos from a model fitted to data.

The path of the data: observe a system driven by small random perturbations
(:func:`simulate_driven`), fit a delay map with the control as one more input
(:func:`fit_control_model`), find its unstable periodic orbits with their Jacobians
and ``∂f/∂u`` (:func:`find_orbits`), build a controller on one of them – linear pole
placement / OGY (:class:`LinearController`) or a bounded neural controller trained with
J-prop on the closed-loop Jacobian (:class:`NeuralController`) – and evaluate it on the
**true** system (:func:`evaluate_controller`).
"""

from .base import Controller
from .data import DrivenHenon, DrivenSeries, control_samples, simulate_driven
from .evaluate import ControlEvaluation, evaluate_controller
from .linear import LinearController
from .model import ControlModel, fit_control_model
from .neural import NeuralController
from .orbits import Orbit, companion, find_orbits, monodromy, orbit_from_cycle

__all__ = [
    "DrivenHenon", "DrivenSeries", "simulate_driven", "control_samples",
    "ControlModel", "fit_control_model",
    "Orbit", "find_orbits", "orbit_from_cycle", "companion", "monodromy",
    "Controller", "LinearController", "NeuralController",
    "ControlEvaluation", "evaluate_controller",
]
