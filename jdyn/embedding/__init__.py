"""Delay embedding of a scalar series, and the choice of its lag and dimension.

Column order of every embedding here is most recent first:
``[x[t], x[t - lag], ..., x[t - (dim-1) lag]]``. The delay-map model predicts
``x[t + lag]`` (or ``x[t+1]``) from such a row, and its companion-matrix Jacobian assumes
this order.

The choices compose: a :class:`LagChoice` or :class:`DimChoice` is accepted wherever a
lag or dimension is, e.g. ``choose_dim(x, lag=choose_lag(x))`` or
``delay_embed(x, dim, lag)`` with the two choices.
"""

from jdyn.embedding.delay import delay_embed
from jdyn.embedding.dimension import DimChoice, choose_dim, false_nearest_neighbors
from jdyn.embedding.lag import (
    LagChoice,
    autocorrelation,
    choose_lag,
    mutual_information,
)

__all__ = [
    "delay_embed", "mutual_information", "autocorrelation", "choose_lag", "LagChoice",
    "false_nearest_neighbors", "choose_dim", "DimChoice",
]
