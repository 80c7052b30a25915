"""Composable loss terms with exact weight gradients, and their weighted sum.

Every term returns ``(value, grad)`` unweighted; :class:`Objective` weighs and sums
them. Terms on data are means over the batch's samples (see each docstring).

==========================  =============================================================
:class:`MeanSquaredError`   ``½ mean ‖f(x) − t‖²``
:class:`WeightDecay`        ``½ ‖w‖²``
:class:`JacobianPenalty`    ``½ mean ‖J‖_F²``, exact or random projections
:class:`DoubleBackprop`     ``½ mean ‖Jᵀ (f(x) − t)‖²``
:class:`DerivativeTarget`   ``½ mean ‖uᵀJ − a‖²`` (known input gradients)
:class:`TangentProp`        ``½ mean ‖J v − b‖²`` (known directional derivatives)
:class:`SigmaMaxPenalty`    ``mean σ_max(J)`` (or ``½ mean σ_max²``)
:class:`LogDetTarget`       ``½ mean (log|det J| − c)²``, square or companion Jacobians
:class:`ErrorsInVariables`  joint cost over the weights and a latent clean series
:class:`OnPoints`           any term evaluated on inputs of its own (unlabelled points)
:class:`OutputRange`        ``½ mean ‖f − clip(f, low, high)‖²`` (outputs kept in a range)
==========================  =============================================================
"""

from .base import DEFAULT_BLOCK_SIZE, Batch, Evaluation, Objective, Term, TermLike
from .data import MeanSquaredError
from .errors_in_variables import ErrorsInVariables, errors_in_variables_loss
from .output_range import OutputRange
from .points import OnPoints
from .regularisers import DoubleBackprop, JacobianPenalty, WeightDecay
from .spectral import LogDetTarget, SigmaMaxPenalty, top_singular_vectors
from .targets import DerivativeTarget, TangentProp

__all__ = [
    "Batch", "Evaluation", "Objective", "Term", "TermLike", "DEFAULT_BLOCK_SIZE",
    "MeanSquaredError", "WeightDecay", "JacobianPenalty", "DoubleBackprop",
    "DerivativeTarget", "TangentProp", "SigmaMaxPenalty", "LogDetTarget",
    "top_singular_vectors", "ErrorsInVariables", "errors_in_variables_loss", "OnPoints",
    "OutputRange",
]
