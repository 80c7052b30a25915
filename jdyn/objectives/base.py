"""The pieces every objective is built from: a batch, a term, a weighted sum of terms.

A *term* is anything with a ``name``, a ``weight`` and
``__call__(model, batch) -> (value, grad)``, where ``value`` is the term's own
(unweighted) float and ``grad`` its exact weight gradient, shape ``(model.n_params,)``.
An :class:`Objective` is the weighted sum ``Σ weight_i · term_i``; it reports the
total, its gradient and every term's unweighted value (for a training history).

Normalisation: every data-like term is a *mean* over the samples of the batch (so a
strength chosen at one N transfers to another); :class:`WeightDecay` is the only term
that does not depend on the batch at all. Each term's docstring says which.

Large batches are evaluated in blocks: a term that declares ``per_sample = True`` (its
value is a mean of per-sample contributions that read only the batch) is evaluated on
consecutive blocks of at most ``block_size`` samples, and the block means are combined
with weights ``B_i / B``. That is the same sum in another order, so the result agrees
with one full-batch evaluation to rounding, while the passes' memory is bounded by the
block size instead of growing with N (and blocks that fit the caches run faster).

Examples
--------
>>> import numpy as np, jdyn
>>> from jdyn.objectives import Batch, MeanSquaredError, WeightDecay
>>> net = jdyn.MLP([1, 5, 1], rng=0)
>>> x = np.linspace(-1, 1, 20)[:, None]
>>> objective = MeanSquaredError() + WeightDecay(1e-4)
>>> ev = objective(net, Batch(x, np.sin(3 * x)))
>>> sorted(ev.terms), ev.grad.shape
(['mse', 'weight_decay'], (16,))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Mapping, Protocol, runtime_checkable

import numpy as np

from .._validation import as_float_array, check_int, check_positive

__all__ = ["Batch", "Term", "TermLike", "Objective", "Evaluation", "DEFAULT_BLOCK_SIZE"]

DEFAULT_BLOCK_SIZE = 32768
"""Samples per block when an :class:`Objective` evaluates a large batch (module docstring).

At 32768 samples a (B, 64) float64 array of the passes is 16 MiB: memory stays bounded
and blocks stay near the caches, while the per-block overhead is negligible."""


@dataclass(frozen=True)
class Batch:
    """Samples a term is evaluated on.

    Parameters
    ----------
    X : array_like, shape (B, n_in)
        Model inputs.
    T : array_like, shape (B, n_out), optional
        Output targets (data terms need them; derivative-only fits do not).
    extras : mapping of str to array_like, optional
        Further *per-sample* arrays, each with leading axis B (known derivatives,
        tangent vectors, ...). Constants shared by all samples belong in the term's
        constructor instead, so that :meth:`take` can split every extra the same way.
    """

    X: np.ndarray
    T: np.ndarray | None = None
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        X = as_float_array(self.X, "X", ndim=2)
        B = X.shape[0]
        if B == 0:
            raise ValueError("a Batch needs at least one sample; X has shape "
                             f"{X.shape}")
        T = None if self.T is None else as_float_array(self.T, "T", ndim=2)
        if T is not None and T.shape[0] != B:
            raise ValueError(f"T has {T.shape[0]} rows but X has {B}")
        extras = {}
        for key, value in dict(self.extras).items():
            arr = as_float_array(value, f"extras[{key!r}]")
            if arr.ndim == 0 or arr.shape[0] != B:
                raise ValueError(f"extras[{key!r}] has shape {arr.shape}; every extra is "
                                 f"per-sample with leading axis {B}")
            extras[str(key)] = arr
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "extras", extras)

    def __len__(self) -> int:
        return self.X.shape[0]

    def take(self, index) -> "Batch":
        """The samples at ``index`` (integer array, slice or boolean mask), every array alike."""
        return Batch(self.X[index], None if self.T is None else self.T[index],
                     {k: v[index] for k, v in self.extras.items()})

    def require_targets(self, who: str) -> np.ndarray:
        """``T``, or a ``ValueError`` naming the term ``who`` that needed it."""
        if self.T is None:
            raise ValueError(f"{who} needs output targets: the batch has T=None")
        return self.T

    def extra(self, key: str, who: str) -> np.ndarray:
        """``extras[key]``, or a ``ValueError`` naming the term ``who`` that needed it."""
        try:
            return self.extras[key]
        except KeyError:
            raise ValueError(f"{who} reads batch.extras[{key!r}], which is missing; the "
                             f"batch has extras {sorted(self.extras)}") from None


@runtime_checkable
class TermLike(Protocol):
    """What :class:`Objective` needs of a term (duck typing: no base class required)."""

    name: str
    weight: float

    def __call__(self, model, batch: Batch) -> tuple[float, np.ndarray]: ...


class Term(ABC):
    """Base class of jdyn's terms: stores ``weight`` and ``name``, adds ``+``.

    Subclasses implement ``__call__(model, batch) -> (value, grad)`` returning the
    *unweighted* value and gradient, and may set the class attributes

    * ``default_name`` – the name used when none is given;
    * ``monitor`` – whether the term counts in the validation loss (True for data
      and target terms, False for penalties that only shape the fit);
    * ``per_sample`` – whether the value is a mean over the batch's samples that may be
      evaluated block by block (default False).
    """

    default_name = "term"
    monitor = True
    #: Whether the value is a mean of per-sample contributions reading only the batch,
    #: so that :class:`Objective` may evaluate it block by block (module docstring).
    #: False, the safe choice for a term that does not say, evaluates the full batch.
    per_sample = False

    def __init__(self, weight=1.0, name=None):
        self.weight = check_positive(weight, "weight", allow_zero=True)
        self.name = self.default_name if name is None else str(name)

    @abstractmethod
    def __call__(self, model, batch):
        """``(value, grad)``: the unweighted value and its gradient (n_params,)."""

    def __add__(self, other) -> "Objective":
        return Objective([self]) + other

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weight={self.weight:g}, name={self.name!r})"


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of an :class:`Objective`.

    Attributes
    ----------
    value : float
        ``Σ weight_i · value_i``.
    grad : ndarray, shape (n_params,)
    terms : dict of str to float
        Every term's unweighted value.
    nonfinite : tuple of str
        Names of the terms whose value or gradient contains NaN or inf.

    Unpacks as ``value, grad, terms``.
    """

    value: float
    grad: np.ndarray
    terms: dict
    nonfinite: tuple = ()

    def __iter__(self):
        return iter((self.value, self.grad, self.terms))


class Objective:
    """A weighted sum of terms.

    Parameters
    ----------
    terms : sequence of term
        Each with ``name``, ``weight`` and ``__call__(model, batch)``. Repeated names
        get a suffix (``_2``, ``_3``, ...) so every term keeps its own history.
    block_size : int or None, default :data:`DEFAULT_BLOCK_SIZE`
        Evaluate ``per_sample`` terms on blocks of at most this many samples (module
        docstring); ``None`` evaluates every term on the whole batch at once.

    Examples
    --------
    >>> from jdyn.objectives import Objective, MeanSquaredError, JacobianPenalty
    >>> Objective([MeanSquaredError(), JacobianPenalty(0.01)]).names
    ('mse', 'jacobian')
    """

    def __init__(self, terms, *, block_size=DEFAULT_BLOCK_SIZE):
        self.block_size = None if block_size is None else check_int(
            block_size, "block_size", minimum=1)
        terms = list(terms)
        if not terms:
            raise ValueError("an Objective needs at least one term")
        names, seen = [], {}
        for term in terms:
            if not isinstance(term, TermLike):
                raise ValueError(f"{term!r} is not a term: it needs name, weight and "
                                 "__call__(model, batch)")
            check_positive(term.weight, f"weight of term {term.name!r}", allow_zero=True)
            seen[term.name] = seen.get(term.name, 0) + 1
            names.append(term.name if seen[term.name] == 1
                         else f"{term.name}_{seen[term.name]}")
        self.terms = tuple(terms)
        self.names = tuple(names)

    def __add__(self, other) -> "Objective":
        extra = other.terms if isinstance(other, Objective) else (other,)
        return Objective(self.terms + tuple(extra), block_size=self.block_size)

    def __call__(self, model, batch: Batch) -> Evaluation:
        """Total value, gradient and each term's value at the model's current params."""
        total, grad = 0.0, np.zeros(model.n_params)
        values, bad = {}, []
        for name, term in zip(self.names, self.terms):
            value, g = self._term(term, model, batch)
            values[name] = value
            if not (np.isfinite(value) and np.all(np.isfinite(g))):
                bad.append(name)
            if term.weight:
                total += term.weight * value
                grad += term.weight * np.asarray(g, dtype=float)
        return Evaluation(total, grad, values, tuple(bad))

    def monitored(self, model, batch: Batch) -> float:
        """The validation loss: the weighted sum of the terms with ``monitor`` set.

        Penalties (weight decay, Jacobian penalties, ...) shape the fit but are not
        what it is judged on; if no term is monitored, the full objective is used.
        """
        chosen = [(n, t) for n, t in zip(self.names, self.terms)
                  if getattr(t, "monitor", True)]
        chosen = chosen or list(zip(self.names, self.terms))
        return float(sum(t.weight * self._term(t, model, batch)[0] for _, t in chosen))

    def _term(self, term, model, batch):
        """``(value, grad)`` of one term, block by block when it is ``per_sample``."""
        B, size = len(batch), self.block_size
        if size is None or B <= size or not getattr(term, "per_sample", False):
            value, grad = term(model, batch)
            return float(value), grad
        value, grad = 0.0, np.zeros(model.n_params)
        bounds = np.linspace(0, B, -(-B // size) + 1).astype(int)
        for a, b in zip(bounds[:-1], bounds[1:]):
            v, g = term(model, batch.take(slice(a, b)))
            value += float(v) * ((b - a) / B)
            grad += np.asarray(g, dtype=float) * ((b - a) / B)
        return value, grad

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) for t in self.terms)
        return f"Objective([{inner}])"
