"""Errors-in-variables fitting: the weights and a latent clean series, estimated jointly.

Regression on noisy inputs learns a flattened conditional mean (``docs/noisy-data.md``);
treating the clean series ``ŝ`` as unknown removes that bias. The joint cost is

``E(w, ŝ) = ½ (1/N) Σ_t ‖y_t − ŝ_t‖² + γ · ½ (1/M) Σ_t ‖ŝ_{t+lag} − f(z_t(ŝ))‖² + Σ_i λ_i E_i(w)``

with ``y`` the observed series (N samples of d components), ``z_t(ŝ)`` the delay
vector ``[ŝ_t, ŝ_{t−lag}, …, ŝ_{t−(dim−1)·lag}]`` (most recent first, each block d
wide, so the model maps R^(d·dim) → R^d) over the M = N − dim·lag times that have
one, and the model a lag-step map (it predicts one lag ahead, so its state is the
delay vector itself: Eckmann et al. 1986), and ``E_i`` optional terms of :mod:`jdyn.objectives`. Both sums are
means, so ``γ`` is, up to N/M ≈ 1, the ratio ``σ_obs² / σ_dyn²`` of observational
to dynamical noise variance of the matching Gaussian model.

The gradient in ``ŝ`` has a direct part from each sum and the model's input
gradient ``J_tᵀ r_t`` (one backward pass, batched), scattered back through the
delay embedding; the weight gradient comes from the same backward pass.
A scalar delay map uses ``dim`` and ``lag``; a full-state map of a vector series
uses ``dim = 1`` (``lag`` is then irrelevant).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_int, check_positive
from .base import Batch, Evaluation, Objective

__all__ = ["ErrorsInVariables", "errors_in_variables_loss"]


def _as_series(series, name):
    arr = as_float_array(series, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be (N,) or (N, d); got shape {arr.shape}")
    return arr


def _embed(S, dim, lag):
    """Delay vectors (M, d·dim), most recent block first, and the values one lag later (M, d)."""
    N, t0 = S.shape[0], (dim - 1) * lag
    X = np.concatenate([S[t0 - k * lag:N - lag - k * lag] for k in range(dim)], axis=1)
    return X, S[t0 + lag:]


def _check_geometry(model, N, d, dim, lag):
    if model.n_out != d or model.n_in != d * dim:
        raise ValueError(f"a series of {d} component(s) embedded with dim={dim} needs a "
                         f"model R^{d * dim} → R^{d}; got R^{model.n_in} → R^{model.n_out}")
    if N - dim * lag < 1:
        raise ValueError(f"a series of {N} samples is too short for dim={dim}, lag={lag}: "
                         f"it needs at least {dim * lag + 1}")


def errors_in_variables_loss(model, observed, latent, *, gamma=1.0, dim=1, lag=1):
    """The joint cost (without extra terms) and its gradients in the weights and in ŝ.

    Parameters
    ----------
    model : jdyn.models.Sequential
        Evaluated at its current parameters.
    observed, latent : array_like, shape (N,) or (N, d)
        The noisy series ``y`` and the latent clean series ``ŝ``.
    gamma : float
        Strength of the dynamics term.
    dim, lag : int
        Delay embedding.

    Returns
    -------
    parts : dict
        ``{"observation": ½ mean ‖y − ŝ‖², "dynamics": ½ mean ‖ŝ_{t+lag} − f(z_t)‖²}``
        (unweighted); the cost is ``observation + gamma · dynamics``.
    grad_w : ndarray, shape (n_params,)
    grad_s : ndarray, shaped like ``latent``
    """
    Y, S = _as_series(observed, "observed"), _as_series(latent, "latent")
    if Y.shape != S.shape:
        raise ValueError(f"observed {Y.shape} and latent {S.shape} must have one shape")
    gamma = check_positive(gamma, "gamma", allow_zero=True)
    dim, lag = check_int(dim, "dim", minimum=1), check_int(lag, "lag", minimum=1)
    N, d = S.shape
    _check_geometry(model, N, d, dim, lag)
    X, T = _embed(S, dim, lag)
    M, t0 = X.shape[0], (dim - 1) * lag
    F, tape = model.forward(X)
    r = F - T
    seed = (gamma / M) * r
    GX, grad_w = model.backward(tape, seed)
    e = S - Y
    grad_s = e / N
    grad_s[t0 + lag:] -= seed
    for k in range(dim):
        grad_s[t0 - k * lag:N - lag - k * lag] += GX[:, k * d:(k + 1) * d]
    parts = {"observation": 0.5 * float(np.vdot(e, e)) / N,
             "dynamics": 0.5 * float(np.vdot(r, r)) / M}
    return parts, grad_w, grad_s.reshape(np.shape(latent))


class ErrorsInVariables:
    """The joint cost as a function of one packed vector ``z = [w, ŝ.ravel()]``.

    Parameters
    ----------
    model : jdyn.models.Sequential
        Its parameters are set from ``z`` at every evaluation.
    observed : array_like, shape (N,) or (N, d)
        The noisy series (finite).
    gamma : float, default 1.0
        Strength of the dynamics term (see the module docstring).
    dim, lag : int, default 1
        Delay embedding of the latent series.
    terms : Objective or sequence of terms, optional
        Extra terms on the weights (weight decay, Jacobian penalty, a log-det or
        derivative target, ...). They see ``Batch(X, T)`` built from the *observed*
        series – fixed points, so they add nothing to the gradient in ``ŝ`` and
        every gradient stays exact.

    Examples
    --------
    >>> import numpy as np, jdyn
    >>> from jdyn.objectives import ErrorsInVariables, WeightDecay
    >>> y = np.sin(0.3 * np.arange(50))
    >>> eiv = ErrorsInVariables(jdyn.MLP([2, 4, 1], rng=0), y, gamma=2.0, dim=2,
    ...                         terms=[WeightDecay(1e-4)])
    >>> value, grad = eiv(eiv.initial())
    >>> grad.shape == (eiv.size,)
    True
    """

    def __init__(self, model, observed, *, gamma=1.0, dim=1, lag=1, terms=None):
        self.model = model
        self.observed = as_float_array(observed, "observed")
        self.gamma = check_positive(gamma, "gamma", allow_zero=True)
        self.dim, self.lag = check_int(dim, "dim", minimum=1), check_int(lag, "lag", minimum=1)
        Y = _as_series(self.observed, "observed")
        _check_geometry(model, Y.shape[0], Y.shape[1], self.dim, self.lag)
        if terms is not None and not isinstance(terms, Objective):
            terms = Objective(terms)
        self.terms = terms
        self.batch = Batch(*_embed(Y, self.dim, self.lag))
        self.n_weights = model.n_params
        self.size = model.n_params + self.observed.size

    def pack(self, w, latent) -> np.ndarray:
        """``[w, ŝ.ravel()]``: w (n_params,), latent shaped like ``observed``."""
        w = as_float_array(w, "w", shape=(self.n_weights,))
        latent = as_float_array(latent, "latent", shape=self.observed.shape)
        return np.concatenate([w, latent.ravel()])

    def unpack(self, z):
        """``(w, ŝ)`` from a packed vector (copies)."""
        z = as_float_array(z, "z", shape=(self.size,), finite=False)
        return z[:self.n_weights].copy(), z[self.n_weights:].reshape(self.observed.shape)

    def initial(self) -> np.ndarray:
        """The usual start: the model's current weights and ``ŝ = observed``."""
        return self.pack(self.model.params, self.observed)

    def apply(self, z) -> None:
        """Set the model's weights from ``z``."""
        self.model.params = self.unpack(z)[0]

    def evaluate(self, z) -> Evaluation:
        """Total cost, packed gradient and the unweighted parts at ``z``.

        Parts: ``observation``, ``dynamics`` and the extra terms by name.
        """
        w, S = self.unpack(z)
        self.model.params = w
        parts, grad_w, grad_s = errors_in_variables_loss(
            self.model, self.observed, S, gamma=self.gamma, dim=self.dim, lag=self.lag)
        value = parts["observation"] + self.gamma * parts["dynamics"]
        finite = np.isfinite(parts["dynamics"]) and np.all(np.isfinite(grad_w)) \
            and np.all(np.isfinite(grad_s))
        bad = [] if finite else ["dynamics"]
        if self.terms is not None:
            extra = self.terms(self.model, self.batch)
            value += extra.value
            grad_w = grad_w + extra.grad
            parts.update(extra.terms)
            bad += list(extra.nonfinite)
        return Evaluation(value, np.concatenate([grad_w, grad_s.ravel()]), parts, tuple(bad))

    def __call__(self, z):
        """``(value, grad)`` at the packed vector ``z``, for any optimiser."""
        ev = self.evaluate(z)
        return ev.value, ev.grad
