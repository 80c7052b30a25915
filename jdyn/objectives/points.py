"""Evaluating a term on inputs of its own instead of the training batch."""

from __future__ import annotations

from .._validation import as_float_array
from .base import Batch, Term

__all__ = ["OnPoints"]


class OnPoints(Term):
    """Any term evaluated on fixed inputs ``points`` (P, n_in), ignoring the batch.

    Penalties that need no labels (:class:`~jdyn.objectives.JacobianPenalty`,
    :class:`~jdyn.objectives.SigmaMaxPenalty`, :class:`~jdyn.objectives.LogDetTarget`
    with a fixed target) evaluated only at the training inputs can be met by a model
    that is flat there and steep in between. Evaluated on unlabelled points that cover
    the domain (a grid, or more samples of the same distribution) they constrain the
    function where it is used. The value is the wrapped term's on ``Batch(points)``;
    weight and name are the wrapped term's unless given.

    Parameters
    ----------
    term : Term
    points : array_like, shape (P, n_in)
    extras : dict, optional
        Per-point arrays (P, …) the wrapped term reads from ``batch.extras``.
    weight : float, optional
    name : str, optional

    Examples
    --------
    >>> import numpy as np, jdyn
    >>> from jdyn.objectives import JacobianPenalty, MeanSquaredError, OnPoints
    >>> grid = np.stack(np.meshgrid(*2 * [np.linspace(-1, 1, 5)]), -1).reshape(-1, 2)
    >>> objective = MeanSquaredError() + OnPoints(JacobianPenalty(0.1), grid)
    >>> objective.names
    ('mse', 'jacobian')
    """

    def __init__(self, term, points, *, extras=None, weight=None, name=None):
        super().__init__(term.weight if weight is None else weight,
                         term.name if name is None else name)
        self.term = term
        self.monitor = getattr(term, "monitor", False)
        self.batch = Batch(as_float_array(points, "points", ndim=2), extras=extras or {})

    def __call__(self, model, batch):
        if self.batch.X.shape[1] != model.n_in:
            raise ValueError(f"points have {self.batch.X.shape[1]} features but the model "
                             f"takes {model.n_in} inputs (points shape {self.batch.X.shape})")
        return self.term(model, self.batch)
