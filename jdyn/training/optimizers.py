"""Optimisers over one flat parameter vector.

Every optimiser minimises ``fun(x) -> (value, grad)`` from ``x0`` and calls
``callback(iteration, x, value)`` after each iteration (``iteration`` counts from
1; for Adam one iteration is one epoch over the samples). A callback returning
``True`` stops the run. Full-batch: nonlinear conjugate gradient (the paper's
choice) and L-BFGS through :func:`scipy.optimize.minimize`; mini-batch: Adam with an
explicit rng for the shuffling. All are deterministic given ``x0`` and the rng.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from .._validation import as_float_array, as_rng, check_int, check_positive

__all__ = ["OptimizeResult", "minimize", "conjugate_gradient", "lbfgs", "adam", "METHODS"]

METHODS = ("lbfgs", "cg", "adam")
"""Optimiser names accepted by ``method=`` in :func:`jdyn.training.train`."""


@dataclass
class OptimizeResult:
    """Outcome of an optimiser run.

    Attributes
    ----------
    x : ndarray
        The last iterate.
    fun : float
        ``fun(x)`` as last reported (for Adam: the mean mini-batch value of the last epoch).
    n_iter : int
        Completed iterations (epochs for Adam).
    stop_reason : str
        ``"converged"``, ``"max_iter"``, ``"callback"`` or ``"stalled"`` (the line search
        could not make progress: usually round-off at a minimum).
    message : str
        The underlying optimiser's own message.
    """

    x: np.ndarray
    fun: float
    n_iter: int
    stop_reason: str
    message: str = ""


class _Stop(Exception):
    """Raised from inside scipy's callback when ours asked to stop."""


def minimize(fun, x0, *, method="lbfgs", max_iter=1000, callback=None, **options):
    """Dispatch to :func:`lbfgs`, :func:`conjugate_gradient` or :func:`adam` by ``method``."""
    runners = {"lbfgs": lbfgs, "cg": conjugate_gradient, "adam": adam}
    if method not in runners:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    return runners[method](fun, x0, max_iter=max_iter, callback=callback, **options)


def conjugate_gradient(fun, x0, *, max_iter=1000, gtol=1e-8, callback=None, options=None):
    """Polak–Ribière nonlinear conjugate gradient (scipy's ``method="CG"``).

    Stops when ``max|grad| ≤ gtol``, after ``max_iter`` iterations, or when the
    callback says so. ``options`` go to scipy unchanged.
    """
    opts = {"maxiter": check_int(max_iter, "max_iter", minimum=1),
            "gtol": check_positive(gtol, "gtol"), **(options or {})}
    return _scipy(fun, x0, "CG", opts, callback)


def lbfgs(fun, x0, *, max_iter=1000, gtol=1e-8, ftol=1e-15, memory=10, callback=None,
          options=None):
    """Limited-memory BFGS (scipy's ``method="L-BFGS-B"`` without bounds).

    ``ftol`` is scipy's relative-decrease stop; its default is tiny because scipy
    measures it against ``max(|f|, 1)``, which would stop small losses early.
    """
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    opts = {"maxiter": max_iter, "maxfun": 20 * max_iter + 100,
            "gtol": check_positive(gtol, "gtol"),
            "ftol": check_positive(ftol, "ftol", allow_zero=True),
            "maxcor": check_int(memory, "memory", minimum=1), **(options or {})}
    return _scipy(fun, x0, "L-BFGS-B", opts, callback)


def _scipy(fun, x0, method, opts, callback):
    x0 = as_float_array(x0, "x0", ndim=1)
    last = {"x": x0.copy(), "fun": np.nan, "n": 0}

    def on_iteration(intermediate_result):
        last["n"] += 1
        last["x"], last["fun"] = intermediate_result.x.copy(), float(intermediate_result.fun)
        if callback is not None and callback(last["n"], last["x"], last["fun"]):
            raise _Stop

    try:
        res = scipy.optimize.minimize(fun, x0, jac=True, method=method, options=opts,
                                      callback=on_iteration)
    except _Stop:
        return OptimizeResult(last["x"], last["fun"], last["n"], "callback",
                              "stopped by callback")
    if res.success:
        reason = "converged"
    elif res.nit >= opts["maxiter"] or "ITERATIONS" in str(res.message).upper() \
            or "maximum number of iterations" in str(res.message).lower():
        reason = "max_iter"
    else:
        reason = "stalled"
    return OptimizeResult(np.asarray(res.x, dtype=float), float(res.fun), int(res.nit),
                          reason, str(res.message))


def adam(fun, x0, *, max_iter=100, n_samples=None, batch_size=None, learning_rate=1e-3,
         beta1=0.9, beta2=0.999, eps=1e-8, rng=None, callback=None):
    """Adam (Kingma & Ba 2015) over mini-batches; one iteration is one epoch.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, grad)`` when ``n_samples`` is None (full batch), else
        ``fun(x, index) -> (value, grad)`` on the samples ``index`` (int array).
    x0 : array_like, shape (p,)
    max_iter : int
        Epochs.
    n_samples : int, optional
        Samples to shuffle and split into mini-batches of ``batch_size``.
    batch_size : int, optional
        Defaults to all samples.
    learning_rate, beta1, beta2, eps : float
        Adam's step size and moment decay rates.
    rng : None, int or Generator
        The shuffling (a new permutation every epoch).
    callback : callable, optional
        ``callback(epoch, x, mean minibatch value)``; ``True`` stops.
    """
    x = as_float_array(x0, "x0", ndim=1).copy()
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    lr = check_positive(learning_rate, "learning_rate")
    for name, beta in (("beta1", beta1), ("beta2", beta2)):
        if not 0 <= beta < 1:
            raise ValueError(f"{name} must be in [0, 1); got {beta}")
    gen = as_rng(rng)
    if n_samples is None:
        batches = lambda: [None]  # noqa: E731
    else:
        n = check_int(n_samples, "n_samples", minimum=1)
        size = n if batch_size is None else min(check_int(batch_size, "batch_size",
                                                          minimum=1), n)
        batches = lambda: np.array_split(gen.permutation(n), -(-n // size))  # noqa: E731
    m, v, step = np.zeros_like(x), np.zeros_like(x), 0
    value = np.nan
    for epoch in range(1, max_iter + 1):
        values = []
        for index in batches():
            f, g = fun(x) if index is None else fun(x, index)
            values.append(float(f))
            step += 1
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            mhat, vhat = m / (1 - beta1**step), v / (1 - beta2**step)
            x = x - lr * mhat / (np.sqrt(vhat) + eps)
        value = float(np.mean(values))
        if callback is not None and callback(epoch, x.copy(), value):
            return OptimizeResult(x, value, epoch, "callback", "stopped by callback")
    return OptimizeResult(x, value, max_iter, "max_iter", f"{max_iter} epochs done")
