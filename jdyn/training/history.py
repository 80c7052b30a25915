"""The record of a training run: every term's value at every iteration."""

from __future__ import annotations

import numpy as np

__all__ = ["History"]


class History:
    """Per-iteration total objective, each term's unweighted value and the validation loss.

    Iteration 0 is the starting point. For Adam an iteration is an epoch, and the
    values are full-batch values at the end of it.

    Attributes
    ----------
    iteration : list of int
    total : list of float
        The weighted objective.
    terms : dict of str to list of float
        Each term's own (unweighted) value.
    validation : list of float
        The validation loss (empty when there is none).
    elapsed : list of float
        Seconds since the start of training.
    """

    def __init__(self):
        self.iteration, self.total, self.validation, self.elapsed = [], [], [], []
        self.terms = {}

    def record(self, iteration, total, terms, validation=None, elapsed=None):
        """Append one iteration's values (``terms``: dict of name to float)."""
        n = len(self.iteration)
        self.iteration.append(int(iteration))
        self.total.append(float(total))
        for name, value in terms.items():
            # A term first seen late is padded with NaN so every column stays aligned.
            self.terms.setdefault(name, [np.nan] * n).append(float(value))
        for column in self.terms.values():
            if len(column) == n:
                column.append(np.nan)
        if validation is not None:
            self.validation.append(float(validation))
        self.elapsed.append(np.nan if elapsed is None else float(elapsed))

    def __len__(self) -> int:
        return len(self.iteration)

    @property
    def best_iteration(self) -> int:
        """Iteration with the lowest validation loss (or total, without validation)."""
        if not self.iteration:
            raise ValueError("the history is empty")
        score = self.validation if self.validation else self.total
        return self.iteration[int(np.nanargmin(score))]

    def as_dict(self) -> dict:
        """``{"iteration", "total", "validation", "elapsed": arrays, "terms": {name: array}}``."""
        return {"iteration": np.asarray(self.iteration, dtype=int),
                "total": np.asarray(self.total),
                "validation": np.asarray(self.validation),
                "elapsed": np.asarray(self.elapsed),
                "terms": {k: np.asarray(v) for k, v in self.terms.items()}}

    def plot(self, ax=None, *, log=True):
        """Draw the total, each term and the validation loss against the iteration.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Drawn into a new figure when not given.
        log : bool
            Logarithmic value axis (when every value is positive).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        it = np.asarray(self.iteration)
        ax.plot(it, self.total, color="k", lw=2, label="total")
        for name, values in self.terms.items():
            ax.plot(it, values, lw=1, label=name)
        if self.validation:
            ax.plot(it[:len(self.validation)], self.validation, "k--", lw=1.5,
                    label="validation")
        every = np.concatenate([self.total, *self.terms.values(), self.validation])
        every = every[np.isfinite(every)]
        if log and every.size and np.all(every > 0):
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("value")
        ax.legend(fontsize="small")
        return ax

    def __repr__(self) -> str:
        last = f", last total {self.total[-1]:.4g}" if self.total else ""
        return f"History({len(self)} iterations, terms {list(self.terms)}{last})"
