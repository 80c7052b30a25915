"""Argument checks shared by every layer of jdyn.

Every public function validates its inputs here, before any work is done, so that a
bad argument fails with a ``ValueError`` that names the argument, what was given and
what was expected.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = [
    "as_float_array",
    "as_batch",
    "as_per_sample",
    "as_rng",
    "check_positive",
    "check_int",
]


def _describe_shape(shape) -> str:
    parts = ["?" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def as_float_array(value, name: str, *, ndim: int | None = None, shape=None,
                   finite: bool = True) -> np.ndarray:
    """Convert ``value`` to a float64 array, checking dimensions, shape and finiteness.

    Parameters
    ----------
    value : array_like
        Anything ``numpy.asarray`` accepts. Integers and booleans become float64;
        strings, objects and complex numbers are refused.
    name : str
        The argument's name, used in error messages.
    ndim : int, optional
        Required number of dimensions.
    shape : tuple of (int or None), optional
        Required shape; ``None`` entries match any size.
    finite : bool
        Refuse NaN and inf.

    Returns
    -------
    numpy.ndarray of float64
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; could not convert it ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got shape {arr.shape}")
    if shape is not None:
        ok = arr.ndim == len(shape) and all(
            s is None or s == a for s, a in zip(shape, arr.shape))
        if not ok:
            raise ValueError(
                f"{name} has shape {arr.shape}; expected {_describe_shape(shape)}")
    # A finite sum proves every entry finite (NaN and inf propagate) without a boolean
    # temporary; only when it is not (or overflows) do we look entry by entry.
    if finite and arr.size and not np.isfinite(arr.sum()) and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})")
    return arr


def as_batch(value, name: str, n_features: int) -> np.ndarray:
    """A batch of samples of shape ``(B, n_features)`` as float64 (a 1-D array is refused)."""
    return as_float_array(value, name, shape=(None, n_features))


def as_per_sample(value, name: str, n_samples: int, n_features: int) -> np.ndarray:
    """One vector shared by all samples ``(d,)`` or one per sample ``(B, d)`` → ``(B, d)``."""
    arr = as_float_array(value, name)
    if arr.shape == (n_features,):
        return np.broadcast_to(arr, (n_samples, n_features))
    if arr.shape == (n_samples, n_features):
        return arr
    raise ValueError(
        f"{name} has shape {arr.shape}; expected ({n_features},) shared by all samples "
        f"or ({n_samples}, {n_features}), one per sample")


def as_rng(rng) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed, a Generator or ``None`` (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(rng, numbers.Integral) and rng < 0:
            raise ValueError(f"rng seed must be non-negative; got {rng}")
        return np.random.default_rng(rng)
    raise ValueError(
        f"rng must be None, a non-negative int seed or a numpy Generator; got {type(rng).__name__}")


def check_real(value, name: str) -> float:
    """A finite real number (bools and strings refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number; got {value!r}")
    if not np.isfinite(float(value)):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return float(value)


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {expected}; got {value!r}")
    return value


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """An integer (bools refused; objects with ``__index__``, like the embedding's
    choices, accepted), optionally at least ``minimum``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer; got {value!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value
