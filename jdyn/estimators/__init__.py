"""Time-series estimators (scikit-learn estimators): fit a map, read its invariants."""

from ._orbits import FreeRun, classify_orbit, companion_jacobians, free_run
from .base import Invariants, MapEstimator
from .delay import DelayMapEstimator
from .spurious import SpuriousTest, time_reversal_test
from .state import StateMapEstimator

__all__ = ["MapEstimator", "DelayMapEstimator", "StateMapEstimator", "Invariants",
           "SpuriousTest", "time_reversal_test", "FreeRun", "free_run", "classify_orbit", "companion_jacobians"]
