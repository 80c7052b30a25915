"""Shared construction of layer stacks: ``[n_in, h_1, …, n_out]`` with activations between."""

from __future__ import annotations

from .._validation import check_int
from ..layers import get_activation

__all__ = ["check_sizes", "stack_layers"]


def check_sizes(sizes):
    """Layer widths as a list of positive ints, at least ``[n_in, n_out]``."""
    try:
        sizes = [check_int(s, "sizes entries", minimum=1) for s in sizes]
    except TypeError:
        raise ValueError(f"sizes must be a sequence of positive ints; got {sizes!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least [n_in, n_out]; got {sizes}")
    return sizes


def stack_layers(sizes, make, activation, output_activation="identity"):
    """``make(a, b)`` for each consecutive pair of widths, the hidden activation between
    them and ``output_activation`` after the last (omitted when it is the identity)."""
    layers = []
    for l, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(make(a, b))
        last = l == len(sizes) - 2
        act = output_activation if last else activation
        if not (last and act in ("identity", "linear")):
            layers.append(get_activation(act, b))
    return layers
