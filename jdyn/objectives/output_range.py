"""Keeping a model's outputs inside a range: a penalty that is zero where they are."""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array
from .base import Term

__all__ = ["OutputRange"]


class OutputRange(Term):
    """``½ mean_b ‖f(x_b) − clip(f(x_b), low, high)‖²``: zero wherever the outputs lie in
    ``[low, high]``, quadratic beyond.

    Evaluated on points around the data but outside it (:class:`OnPoints`), it stops a
    fitted map from sending states it never saw far away, which is how free runs of a
    delay model leave the attractor; inside the range it leaves the fit untouched.
    The gradient is exact: ``clip`` is constant wherever the penalty is not zero.

    Parameters
    ----------
    low, high : float or array_like, shape (n_out,)
    weight : float
    name : str, default "output_range"
    """

    default_name = "output_range"
    per_sample = True

    def __init__(self, low, high, *, weight=1.0, name=None):
        super().__init__(weight, name)
        self.low = np.atleast_1d(as_float_array(low, "low"))
        self.high = np.atleast_1d(as_float_array(high, "high"))
        if np.any(self.low > self.high):
            raise ValueError(f"low must not exceed high; got {self.low} and {self.high}")

    def __call__(self, model, batch):
        # One forward pass for both the outputs and the gradient: the residual is then
        # exactly zero inside the range (a second evaluation, e.g. by another kernel,
        # could differ from the first by rounding).
        F, tape = model.forward(batch.X)
        r = F - np.clip(F, self.low, self.high)
        _, grad = model.backward(tape, r, need_input=False)
        B = len(batch)
        return 0.5 * float(np.vdot(r, r)) / B, grad / B
