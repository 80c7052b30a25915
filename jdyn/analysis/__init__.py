"""Invariants of dynamical systems: Lyapunov spectra, Kaplan–Yorke and correlation
dimensions, and scaling-region fits.

Knows nothing of neural networks: learned models arrive as sequences of Jacobians or
as Map-like objects, exactly like user-defined systems.
"""

from jdyn.analysis.correlation import CorrelationDimResult, correlation_dim, correlation_sum
from jdyn.analysis.kaplan_yorke import kaplan_yorke_dim
from jdyn.analysis.lyapunov import (
    LyapunovResult,
    lyapunov_spectrum,
    lyapunov_spectrum_from_jacobians,
)
from jdyn.analysis.slopes import SlopeFit, fit_slope, fixed_region, linear_region, local_slopes

__all__ = [
    "LyapunovResult", "lyapunov_spectrum", "lyapunov_spectrum_from_jacobians",
    "kaplan_yorke_dim",
    "CorrelationDimResult", "correlation_sum", "correlation_dim",
    "SlopeFit", "fit_slope", "linear_region", "fixed_region", "local_slopes",
]
