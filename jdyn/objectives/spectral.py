"""Terms on spectral functions of the Jacobian: its largest singular value, its log-determinant.

Both get exact gradients from one J-prop pass of :func:`jdyn.jprop.bilinear_jacobian`
(the envelope theorem for ``σ_max``; Jacobi's formula for ``log|det J|``).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import jprop
from .._validation import as_batch, as_rng, check_int, check_positive
from ..models.sequential import unit_seeds
from .base import Term

__all__ = ["SigmaMaxPenalty", "LogDetTarget", "top_singular_vectors"]

#: ``method="auto"`` takes the exact SVD up to this many Jacobian directions
#: (``min(n_in, n_out)``): forming J costs that many stacked directions in one pass,
#: and LAPACK on B small matrices is cheaper than tens of power iterations.
SVD_MAX_DIRECTIONS = 32


def top_singular_vectors(model, X, *, n_iter=1000, tol=1e-10, rng=0):
    """Largest singular value and vectors of ``J(x_b)`` for every sample, by power iteration.

    Each step is one R-forward (``J v``) and one backward (``Jᵀ u``) pass on a shared
    forward tape, batched over samples. The iteration on ``JᵀJ`` converges like
    ``(σ₂/σ₁)^{2k}``; it stops when every right vector moves by at most ``tol``.

    Parameters
    ----------
    model : jdyn.models.Sequential
    X : array_like, shape (B, n_in)
    n_iter : int
        Most iterations.
    tol : float
        Stop when ``max_b ‖v_b^(k) − v_b^(k−1)‖ ≤ tol``.
    rng : None, int or numpy.random.Generator
        Starting vectors (a fixed seed keeps the result a function of the weights).

    Returns
    -------
    sigma : ndarray, shape (B,)
    U : ndarray, shape (B, n_out)
        Unit left vectors ``J v / σ`` (zero where ``σ = 0``).
    V : ndarray, shape (B, n_in)
        Unit right vectors.
    n_done : int
        Iterations run; ``n_done == n_iter`` means ``tol`` was not reached.
    """
    X = as_batch(X, "X", model.n_in)
    n_iter = check_int(n_iter, "n_iter", minimum=1)
    tol = check_positive(tol, "tol")
    _, tape = model.forward(X)
    V = as_rng(rng).standard_normal(X.shape)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    for k in range(1, n_iter + 1):
        U = _unit(model.rforward(tape, V))
        W, _ = model.backward(tape, U, need_params=False)
        W = _unit(W)
        moved = np.max(np.linalg.norm(W - V, axis=1))
        V = W
        if moved <= tol:
            break
    JV = model.rforward(tape, V)
    sigma = np.linalg.norm(JV, axis=1)
    return sigma, _unit(JV), V, k


def _top_singular_svd(model, X):
    """``(σ₁, u₁, v₁)`` per sample from the SVD of the full Jacobian ``(B, m, n)``."""
    U, S, Vt = np.linalg.svd(model.jacobian(X))
    return S[:, 0], U[:, :, 0], Vt[:, 0, :]


def _unit(A):
    norm = np.linalg.norm(A, axis=1, keepdims=True)
    return np.divide(A, norm, out=np.zeros_like(A), where=norm > 0)


class SigmaMaxPenalty(Term):
    """Largest singular value of the Jacobian: ``(1/B) Σ_b σ_max(J(x_b))`` (a mean).

    With ``squared=True``: ``½ (1/B) Σ_b σ_max²``. By the envelope theorem
    ``∂σ/∂w = ∂(u₁ᵀ J v₁)/∂w`` with the top singular vectors ``u₁, v₁`` held fixed,
    one J-prop pass. The vectors come from the SVD of the full Jacobian (exact) or from
    :func:`top_singular_vectors` (power iteration; the gradient is then as accurate as
    the vectors, error ~ ``tol``). Where ``σ₁ = σ₂`` the gradient is not defined.

    Parameters
    ----------
    weight : float
    squared : bool, default False
    method : {"auto", "svd", "power"}, default "auto"
        ``"svd"``: form ``J`` (``min(n_in, n_out)`` stacked directions in one pass)
        and take its SVD. ``"power"``: power iteration, for Jacobians too large to
        form. ``"auto"``: ``"svd"`` up to :data:`SVD_MAX_DIRECTIONS` directions.
    n_iter : int, default 1000
        Most power iterations; a ``RuntimeWarning`` says when ``tol`` was not reached.
    tol : float, default 1e-10
        Convergence of the right singular vectors (power iteration).
    rng : int or Generator, default 0
        Seed of the starting vectors.
    name : str, default "sigma_max"
    """

    default_name = "sigma_max"
    monitor = False
    per_sample = True

    def __init__(self, weight=1.0, *, squared=False, method="auto", n_iter=1000, tol=1e-10,
                 rng=0, name=None):
        super().__init__(weight, name)
        if method not in ("auto", "svd", "power"):
            raise ValueError(f"method must be 'auto', 'svd' or 'power'; got {method!r}")
        self.method = method
        self.squared = bool(squared)
        self.n_iter = check_int(n_iter, "n_iter", minimum=1)
        self.tol = check_positive(tol, "tol")
        self._seed = int(as_rng(rng).integers(2**63))

    def __call__(self, model, batch):
        sigma, U, V = self._top(model, batch.X)
        B = len(batch)
        if self.squared:
            _, grad = jprop.bilinear_jacobian(model, batch.X, sigma[:, None] * U, V)
            return 0.5 * float(sigma @ sigma) / B, grad / B
        _, grad = jprop.bilinear_jacobian(model, batch.X, U, V)
        return float(sigma.sum()) / B, grad / B

    def _top(self, model, X):
        small = min(model.n_in, model.n_out) <= SVD_MAX_DIRECTIONS
        if self.method == "svd" or (self.method == "auto" and small):
            return _top_singular_svd(model, X)
        sigma, U, V, done = top_singular_vectors(model, X, n_iter=self.n_iter, tol=self.tol,
                                                 rng=self._seed)
        if done == self.n_iter and self.n_iter > 1:
            warnings.warn(f"{self.name}: power iteration did not reach tol={self.tol:g} in "
                          f"{self.n_iter} iterations; the gradient is approximate",
                          RuntimeWarning, stacklevel=2)
        return sigma, U, V


class LogDetTarget(Term):
    """A target on the log-determinant: ``½ (1/B) Σ_b (log|det M_b| − c_b)²`` (a mean).

    ``M_b`` is the state Jacobian at ``x_b``:

    * ``companion=False``: the model's own square Jacobian ``J(x_b)`` (a full-state
      map, n_in = n_out). Jacobi's formula gives ``∂ log|det J|/∂w =
      Σ_j (J⁻ᵀ e_j)ᵀ (∂J/∂w) e_j``: one batched J-prop pass over the n unit directions.
    * ``companion=True``: a delay map ``f: R^dim → R`` whose state Jacobian is the
      companion matrix (f's input gradient in the first row, ones on the
      sub-diagonal), so ``det M = ±∂f/∂x_last`` (sign ``(−1)^(dim+1)``) and the
      target is on
      ``log|∂f/∂x_last|``. ``column`` says which input is the oldest delay (the
      last, by default). One J-prop pass with ``u = 1``, ``v = e_column``.

    For the Hénon map, ``c = log 0.3`` everywhere (``det J = −b``).

    With ``average=True`` the target is on the *mean* instead,
    ``½ (mean_b log|det M_b| − c)²``: the sum of the Lyapunov exponents, which a user
    may know (a flow's mean divergence: Lorenz ``−(σ + 1 + β)`` per unit time, so
    ``c = −(σ + 1 + β)·Δt`` per step of Δt) where the pointwise value varies.

    A sample with ``det M = 0`` makes the value ``inf`` (and the gradient NaN), which
    training reports as divergence of this term.

    Parameters
    ----------
    target : float or str, default 0.0
        ``c``: one value for all samples, or a key of ``batch.extras`` holding (B,).
    companion : bool, default False
    column : int, default -1
        The oldest delay's input index (``companion=True`` only).
    average : bool, default False
        Target the mean of ``log|det M|`` over the batch (one number) instead of each
        sample's.
    weight : float
    name : str, default "logdet"
    """

    default_name = "logdet"

    @property
    def per_sample(self):
        """Block-wise evaluation is exact unless the target is on the batch mean."""
        return not self.average

    def __init__(self, target=0.0, *, companion=False, column=-1, average=False, weight=1.0,
                 name=None):
        super().__init__(weight, name)
        self.average = bool(average)
        if self.average and isinstance(target, str):
            raise ValueError("average=True targets one mean value; got a per-sample target "
                             f"{target!r}")
        if not isinstance(target, str):
            target = float(target)
            if not np.isfinite(target):
                raise ValueError(f"target must be finite; got {target}")
        self.target = target
        self.companion = bool(companion)
        self.column = check_int(column, "column")

    def __call__(self, model, batch):
        X, B = batch.X, len(batch)
        c = batch.extra(self.target, self.name) if isinstance(self.target, str) \
            else self.target
        if self.companion:
            return self._companion(model, X, B, c)
        if model.n_in != model.n_out:
            raise ValueError(f"{self.name}: log|det J| needs a square Jacobian; the model "
                             f"maps R^{model.n_in} → R^{model.n_out} (for a delay map use "
                             "companion=True)")
        J = model.jacobian(X)
        sign, logdet = np.linalg.slogdet(J)
        if np.any(sign == 0):
            return np.inf, np.full(model.n_params, np.nan)
        d = self._residual(logdet, c)
        Jinv = np.linalg.inv(J)
        # Row j of J⁻¹ is J⁻ᵀ e_j; the direction axis runs over j.
        U = (d / B)[None, :, None] * Jinv.transpose(1, 0, 2)
        _, grad = jprop.bilinear_jacobian(model, X, U, unit_seeds(model.n_in, B))
        return self._value(d, B), grad

    def _companion(self, model, X, B, c):
        if model.n_out != 1:
            raise ValueError(f"{self.name}: companion=True needs a scalar delay map; the "
                             f"model has n_out={model.n_out}")
        if not -model.n_in <= self.column < model.n_in:
            raise ValueError(f"column={self.column} is out of range for {model.n_in} inputs")
        e = np.zeros(model.n_in)
        e[self.column] = 1.0
        g = model.jvp(X, e)[:, 0]
        if np.any(g == 0):
            return np.inf, np.full(model.n_params, np.nan)
        d = self._residual(np.log(np.abs(g)), c)
        _, grad = jprop.bilinear_jacobian(model, X, (d / (B * g))[:, None], e)
        return self._value(d, B), grad

    def _residual(self, logdet, c):
        """Per sample: ``log|det| − c``, or the mean's residual on every sample (the
        gradient of ½ (mean − c)² is the mean's residual times the mean gradient)."""
        d = logdet - c
        return np.full_like(d, d.mean()) if self.average else d

    def _value(self, d, B):
        return 0.5 * float(d[0] ** 2) if self.average else 0.5 * float(d @ d) / B
