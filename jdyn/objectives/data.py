"""Data-fitting terms."""

from __future__ import annotations

from .. import jprop
from .base import Term

__all__ = ["MeanSquaredError"]


class MeanSquaredError(Term):
    """Half the mean squared error: ``½ (1/B) Σ_b ‖f(x_b) − t_b‖²`` (a mean over samples).

    With one output the root-mean-square error is ``sqrt(2 · value)``.

    Reads ``batch.X`` (B, n_in) and ``batch.T`` (B, n_out).

    Parameters
    ----------
    weight : float
    name : str, default "mse"
    """

    default_name = "mse"
    per_sample = True

    def __call__(self, model, batch):
        T = batch.require_targets(self.name)
        value, grad = jprop.data_loss(model, batch.X, T)
        B = len(batch)
        return value / B, grad / B
