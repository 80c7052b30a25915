"""Terms that carry knowledge of derivatives: derivative targets and Tangent Prop.

Each per-sample quantity is given either as a ``str`` – the key of a per-sample
array in ``batch.extras``, evaluated at ``batch.X`` – or as an array fixed at
construction. With ``points`` given, the term owns its samples and ignores the
batch: derivatives known at places other than the data.
"""

from __future__ import annotations

import numpy as np

from .. import jprop
from .._validation import as_float_array
from .base import Term

__all__ = ["DerivativeTarget", "TangentProp"]


class _KnownDerivative(Term):
    """Shared plumbing: resolve str keys / fixed arrays, own points or the batch's."""

    def __init__(self, weight, name, points, specs):
        super().__init__(weight, name)
        self.points = None if points is None else as_float_array(points, "points", ndim=2)
        for what, spec in specs.items():
            if isinstance(spec, str):
                if self.points is not None:
                    raise ValueError(f"{what}={spec!r} names a batch extra, but points were "
                                     "given: with points, pass every per-sample quantity "
                                     "as an array")
            elif spec is not None:
                spec = as_float_array(spec, what)
                if self.points is not None and spec.ndim == 2 and \
                        spec.shape[0] != self.points.shape[0]:
                    raise ValueError(f"{what} has {spec.shape[0]} rows but points has "
                                     f"{self.points.shape[0]}")
            setattr(self, what, spec)

    @property
    def per_sample(self):
        """Block-wise evaluation is exact on the batch's own samples with every per-sample
        quantity read from its extras (fixed arrays are then shared vectors)."""
        return self.points is None and not any(
            isinstance(v, np.ndarray) and v.ndim == 2 for v in self._specs())

    def _specs(self):
        return [getattr(self, k) for k in ("targets", "u", "tangents") if hasattr(self, k)]

    def _where(self, batch):
        return batch.X if self.points is None else self.points

    def _get(self, spec, batch):
        return batch.extra(spec, self.name) if isinstance(spec, str) else spec


class DerivativeTarget(_KnownDerivative):
    """Known rows of the Jacobian: ``½ (1/B) Σ_b ‖u_bᵀ J(x_b) − a_b‖²`` (a mean).

    For a scalar model (``u = 1``) ``a_b`` is the known input gradient ``∂f/∂x`` at
    ``x_b``: the paper's derivative targeting. The gradient is Eq. 1 of J-prop,
    :func:`jdyn.jprop.vjp_loss`.

    Parameters
    ----------
    targets : str or array_like, default "dfdx"
        ``a``: a key of ``batch.extras`` holding (B, n_in), or an array (P, n_in)
        at ``points``.
    points : array_like, shape (P, n_in), optional
        Where fixed targets hold; the term then ignores the batch.
    u : None, str or array_like
        Output weighting: ``None`` means 1 and needs a scalar-output model; an array
        (n_out,) shared by all samples or (P, n_out) with ``points``; or a key of
        ``batch.extras`` holding (B, n_out).
    weight : float
    name : str, default "derivative"
    """

    default_name = "derivative"

    def __init__(self, targets="dfdx", *, points=None, u=None, weight=1.0, name=None):
        if not isinstance(targets, str) and points is None:
            raise ValueError("targets given as an array need the points where they hold")
        super().__init__(weight, name, points, {"targets": targets, "u": u})

    def __call__(self, model, batch):
        X = self._where(batch)
        u = self._get(self.u, batch)
        if u is None:
            if model.n_out != 1:
                raise ValueError(f"{self.name}: u=None means u = 1, which needs a "
                                 f"scalar-output model; this one has n_out={model.n_out}")
            u = np.ones(1)
        value, grad = jprop.vjp_loss(model, X, u, self._get(self.targets, batch))
        return value / X.shape[0], grad / X.shape[0]


class TangentProp(_KnownDerivative):
    """Directional derivatives: ``½ (1/B) Σ_b ‖J(x_b) v_b − b_b‖²`` (a mean).

    With ``targets=None`` (``b = 0``) this is Simard et al.'s Tangent Prop, an
    invariance penalty along the tangents; with targets, known directional
    derivatives. The gradient is Eq. 2 of J-prop, :func:`jdyn.jprop.jvp_loss`.

    Parameters
    ----------
    tangents : str or array_like, default "tangents"
        ``v``: a key of ``batch.extras`` holding (B, n_in); an array (n_in,) shared
        by all samples; or (P, n_in) at ``points``.
    targets : None, str or array_like
        ``b``: ``None`` for zero; a key of ``batch.extras`` holding (B, n_out); an
        array (n_out,) shared, or (P, n_out) at ``points``.
    points : array_like, shape (P, n_in), optional
        The term's own samples; it then ignores the batch.
    weight : float
    name : str, default "tangent"
    """

    default_name = "tangent"

    def __init__(self, tangents="tangents", targets=None, *, points=None, weight=1.0,
                 name=None):
        super().__init__(weight, name, points, {"tangents": tangents, "targets": targets})
        # Without targets this is an invariance penalty, not something to validate on.
        self.monitor = targets is not None

    def __call__(self, model, batch):
        X = self._where(batch)
        b = self._get(self.targets, batch)
        if b is None:
            b = np.zeros(model.n_out)
        value, grad = jprop.jvp_loss(model, X, self._get(self.tangents, batch), b)
        return value / X.shape[0], grad / X.shape[0]
