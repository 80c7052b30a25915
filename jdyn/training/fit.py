"""Training loops: early stopping, history, progress and divergence handling.

:func:`train` fits a model to an :class:`~jdyn.objectives.Objective` on samples;
:func:`train_function` is the same loop over any ``evaluate(x)`` of a flat vector
(e.g. :class:`~jdyn.objectives.ErrorsInVariables`, which also fits a latent series).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, as_rng, check_int
from ..objectives.base import Batch, Evaluation, Objective
from .history import History
from .optimizers import METHODS, minimize
from .progress import FitProgress

__all__ = ["train", "train_function", "TrainingResult", "TrainingDivergedError"]


class TrainingDivergedError(ValueError):
    """The objective became NaN or inf.

    Attributes
    ----------
    iteration : int
        The iteration during which it happened (0: at the starting point).
    term : str
        The first offending term (``"parameters"`` if the optimiser itself produced
        non-finite parameters, ``"validation"`` for the validation loss).
    terms : tuple of str
        All offending terms.
    params : ndarray
        The last finite parameters (those of the last completed iteration), which the
        model was left at.
    history : History or None
        The iterations completed before it happened.
    """

    def __init__(self, iteration, terms, params, history=None):
        self.iteration, self.terms = int(iteration), tuple(terms)
        self.term, self.params, self.history = self.terms[0], params, history
        where = (f"the parameters of iteration {self.iteration - 1}" if self.iteration
                 else "its starting parameters")
        super().__init__(
            f"training diverged at iteration {self.iteration}: term {self.term!r} became "
            f"non-finite (NaN or inf; offending: {', '.join(self.terms)}); the model was "
            f"left at {where}")


@dataclass
class TrainingResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    params : ndarray
        The best parameters (lowest validation loss, or lowest objective without
        validation); the model is left at them.
    history : History
    best_iteration, n_iter : int
    stop_reason : str
        ``"converged"``, ``"max_iter"``, ``"early_stopping"`` or ``"stalled"``.
    message : str
        The optimiser's own message.
    n_evaluations : int
        Objective evaluations (each one value and gradient).
    """

    params: np.ndarray
    history: History
    best_iteration: int
    n_iter: int
    stop_reason: str
    message: str
    n_evaluations: int


def train(model, objective, X, T=None, *, extras=None, method="lbfgs", max_iter=1000,
          validation=None, validation_fraction=None, patience=None, tol=1e-8,
          batch_size=32, learning_rate=1e-3, progress="auto", rng=None,
          optimizer_options=None) -> TrainingResult:
    """Fit ``model``'s parameters to minimise ``objective`` on the samples ``(X, T)``.

    Parameters
    ----------
    model : jdyn.models.Sequential
        Trained in place, starting from its current parameters.
    objective : Objective, a term, or a sequence of terms
    X : array_like (B, n_in) or Batch
    T : array_like (B, n_out), optional
        Output targets (not needed by derivative-only objectives).
    extras : dict of str to array_like, optional
        Per-sample arrays for the terms (known derivatives, tangents, ...).
    method : {"lbfgs", "cg", "adam"}
        Full-batch L-BFGS or nonlinear conjugate gradient, or mini-batch Adam (one
        iteration = one epoch).
    max_iter : int
    validation : (Xv, Tv), (Xv, Tv, extras_v) or Batch, optional
        Held-out samples; the validation loss is the sum of the monitored terms
        (:meth:`Objective.monitored`: data and target terms, not penalties).
    validation_fraction : float in (0, 1), optional
        Hold out this fraction of the samples instead, drawn with ``rng``.
    patience : int, optional
        Stop after this many iterations without a new best validation loss (or
        objective, without validation).
    tol : float
        Gradient tolerance of CG and L-BFGS.
    batch_size, learning_rate : Adam's mini-batch size and step size.
    progress : True, False or "auto"
        Report progress on stderr once the fit has run 2 s ("auto": only when stderr is
        a terminal; see :mod:`jdyn.training.progress`).
    rng : None, int or Generator
        Validation split and Adam's shuffling: the same seed gives the same fit.
    optimizer_options : dict, optional
        Extra keyword arguments of the optimiser (:mod:`jdyn.training.optimizers`).

    Returns
    -------
    TrainingResult
        The model is left at ``result.params``.

    Raises
    ------
    TrainingDivergedError
        When a term becomes NaN or inf; the model is left at its last finite parameters.
    """
    objective = objective if isinstance(objective, Objective) else Objective(
        objective if isinstance(objective, (list, tuple)) else [objective])
    if isinstance(X, Batch):
        if T is not None or extras:
            raise ValueError("give either a Batch as X, or X with T and extras; not both")
        batch = X
    else:
        batch = Batch(X, T, extras or {})
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    gen = as_rng(rng)
    batch, val_batch = _split(batch, validation, validation_fraction, gen)

    def evaluate(x, index=None):
        model.params = x
        return objective(model, batch if index is None else batch.take(index))

    def validate(x):
        model.params = x
        return objective.monitored(model, val_batch)

    def apply(x):
        model.params = x

    return train_function(
        evaluate, model.params, apply=apply,
        validate=None if val_batch is None else validate, method=method,
        max_iter=max_iter, patience=patience, tol=tol,
        n_samples=len(batch) if method == "adam" else None, batch_size=batch_size,
        learning_rate=learning_rate, progress=progress, rng=gen,
        optimizer_options=optimizer_options)


def _split(batch, validation, fraction, gen):
    if validation is not None and fraction is not None:
        raise ValueError("give validation or validation_fraction, not both")
    if validation is not None:
        return batch, validation if isinstance(validation, Batch) else Batch(*validation)
    if fraction is None:
        return batch, None
    if not 0 < fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1); got {fraction}")
    n = len(batch)
    n_val = int(round(fraction * n))
    if not 1 <= n_val <= n - 1:
        raise ValueError(f"validation_fraction={fraction} of {n} samples leaves no "
                         "training or no validation samples")
    perm = gen.permutation(n)
    return batch.take(np.sort(perm[n_val:])), batch.take(np.sort(perm[:n_val]))


def train_function(evaluate, x0, *, apply=None, validate=None, method="lbfgs",
                   max_iter=1000, patience=None, tol=1e-8, n_samples=None, batch_size=None,
                   learning_rate=1e-3, progress="auto", rng=None,
                   optimizer_options=None) -> TrainingResult:
    """The loop of :func:`train` over a flat vector.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(x)`` (and ``evaluate(x, index)`` for mini-batch Adam) returning an
        :class:`~jdyn.objectives.Evaluation` or a plain ``(value, grad)``.
    x0 : array_like, shape (p,)
    apply : callable, optional
        ``apply(x)`` puts parameters in place (called with the best ones at the end
        and the last finite ones on divergence).
    validate : callable, optional
        ``validate(x) -> float``, the loss that early stopping and "best" refer to.
    n_samples : int, optional
        For Adam: split this many samples into mini-batches (``evaluate(x, index)``).
    method, max_iter, tol, patience, batch_size, learning_rate, progress, rng, optimizer_options
        As in :func:`train`.
    """
    x0 = as_float_array(x0, "x0", ndim=1).copy()
    if patience is not None:
        patience = check_int(patience, "patience", minimum=1)
    apply = apply or (lambda x: None)
    history, cache = History(), {}
    state = {"last_x": x0, "best_x": x0, "best": np.inf, "since": 0, "early": False,
             "n_eval": 0}
    start = time.perf_counter()
    bar = FitProgress(progress, max_iter)

    def diverge(iteration, terms):
        apply(state["last_x"])
        bar.close()
        raise TrainingDivergedError(iteration, terms, state["last_x"].copy(), history)

    def checked(x, index=None):
        iteration = len(history)
        if not np.all(np.isfinite(x)):
            diverge(iteration, ("parameters",))
        ev = _as_evaluation(evaluate(x) if index is None else evaluate(x, index))
        state["n_eval"] += 1
        if ev.nonfinite or not np.isfinite(ev.value) or not np.all(np.isfinite(ev.grad)):
            diverge(iteration, ev.nonfinite or ("total",))
        if index is None:
            if len(cache) > 4:
                cache.pop(next(iter(cache)))
            cache[x.tobytes()] = ev
        return ev

    def fun(x, index=None):
        ev = checked(x, index)
        return ev.value, ev.grad

    def on_iteration(iteration, x, _value=None):
        ev = cache.get(x.tobytes())
        if ev is None:
            ev = checked(x)
        val = None if validate is None else float(validate(x))
        if val is not None and not np.isfinite(val):
            diverge(iteration, ("validation",))
        history.record(iteration, ev.value, ev.terms, val, time.perf_counter() - start)
        state["last_x"] = x.copy()
        score = ev.value if val is None else val
        if score < state["best"]:
            state.update(best=score, best_x=x.copy(), since=0)
        else:
            state["since"] += 1
        bar.update(iteration, ev, val)
        state["early"] = patience is not None and state["since"] >= patience
        return state["early"]

    on_iteration(0, x0)
    options = dict(optimizer_options or {})
    if method == "adam":
        options.update(n_samples=n_samples, batch_size=batch_size,
                       learning_rate=learning_rate, rng=rng)
    elif method in ("lbfgs", "cg"):
        options.setdefault("gtol", tol)
    try:
        result = minimize(fun, x0, method=method, max_iter=max_iter,
                          callback=on_iteration, **options)
    except BaseException as exc:
        # Interrupted (e.g. Ctrl-C): leave the model at its best so far, not mid line search.
        if not isinstance(exc, TrainingDivergedError):
            apply(state["best_x"])
        raise
    finally:
        bar.close()
    apply(state["best_x"])
    reason = "early_stopping" if state["early"] else result.stop_reason
    return TrainingResult(state["best_x"].copy(), history, history.best_iteration,
                          history.iteration[-1], reason, result.message, state["n_eval"])


def _as_evaluation(ev):
    if isinstance(ev, Evaluation):
        return ev
    value, grad = ev
    grad = np.asarray(grad, dtype=float)
    bad = () if np.isfinite(value) and np.all(np.isfinite(grad)) else ("total",)
    return Evaluation(float(value), grad, {}, bad)
