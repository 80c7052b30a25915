"""Whether a model's J-prop objectives can run as one compiled call (:mod:`jdyn._fast._mlp`).

That kernel takes a stack ``Dense, Tanh, …, Dense`` (tanh hidden units with tanh's own
formulas, identity output) whose weight matrices all have at most :data:`MAX_WEIGHTS`
entries: there the sample-blocked loops beat batched BLAS products plus NumPy dispatch;
larger layers run on the fused chain runner, whose products are BLAS calls.
"""

from __future__ import annotations

import numpy as np

from .. import _fast
from ..layers import Dense, Tanh

__all__ = ["MAX_WEIGHTS", "compiled_layout"]

#: Largest weight matrix (n_out × n_in entries) the one-call kernel takes. Measured on a
#: quiet machine (2026-12-04, CPU time, one-call ÷ chain runner with the compiled tanh
#: passes): [2, 10, 1] and [2, 30, 1] at B = 5000 0.54–0.71; [2, 16, 16, 1] 0.89–0.97;
#: [3, 20, 20, 3] 1.0 (exact Frobenius 1.17); 4-32-32-1 1.01–1.24.
MAX_WEIGHTS = 256


def compiled_layout(model):
    """``(kernels, p, wo, bo, sizes)`` for the compiled objective, or None.

    ``p`` is the model's live flat parameter vector; ``wo``/``bo`` the offsets of each
    dense layer's ``W`` and ``b`` in it; ``sizes`` the widths.
    """
    if not _fast.active() or getattr(model, "_chain", None) is None:
        return None
    layout = model.__dict__.get("_compiled_layout")
    if layout is None:
        layout = model._compiled_layout = _layout(model)
    if layout is False:
        return None
    from .._fast import _mlp
    return (_mlp, model._params) + layout


def _layout(model):
    layers = model.layers
    kinds = [isinstance(layer, Dense) for layer in layers]
    pattern = kinds[::2] == [True] * len(kinds[::2]) and not any(kinds[1::2]) \
        and kinds[-1] and all(type(layer) is Tanh for layer in layers[1::2])
    if not pattern:
        return False
    dense = layers[::2]
    sizes = np.array([dense[0].n_in] + [layer.n_out for layer in dense], dtype=np.int64)
    if np.max(sizes[1:] * sizes[:-1]) > MAX_WEIGHTS:
        return False
    starts = [model._slices[l].start for l in range(0, len(layers), 2)]
    wo = np.array(starts, dtype=np.int64)
    bo = wo + sizes[1:] * sizes[:-1]
    return wo, bo, sizes
