"""Scratch arrays that persist from one evaluation to the next.

Why: a fresh NumPy temporary of more than 128 KiB is a fresh ``mmap`` (glibc hands
such blocks back to the kernel when they are freed), and on the machines we measured
the first touch of each 4 KiB page costs about 4 µs — a 2000 × 128 float64 temporary
pays more in page faults than an in-place multiply of it costs. Layers that opt in
(``uses_workspace = True``) therefore write their pass outputs into arrays they get
from a :class:`Workspace`, which keeps them for the next call with the same shapes.

The contract: an array from ``get(name, shape)`` is overwritten by the next pass that
asks for the same name and shape. So a workspace serves one evaluation at a time and
nothing computed in it may reach a caller; :meth:`jdyn.models.Sequential.workspace`
hands each evaluation its own set (one per concurrent user) and the J-prop functions
return only scalars and freshly allocated gradients.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Workspace", "new_group", "scratch", "DEFAULT_BUDGET"]

#: Bytes one model's workspaces may keep in all (shared by its layers). Past it the
#: arrays are dropped and collected afresh, so memory stays bounded when the shapes keep
#: changing (e.g. many batch sizes), at the price of page faults on those calls.
DEFAULT_BUDGET = 256 * 2**20


class _Budget:
    """Bytes left to a group of workspaces (one model's layers)."""

    __slots__ = ("left", "total", "members")

    def __init__(self, total):
        self.left = self.total = int(total)
        self.members = []


class Workspace:
    """Named float64 scratch arrays of one layer, reused across calls.

    ``get(name, shape)`` returns the array kept under ``(name, shape)``, or a new one;
    its contents are undefined (whatever the last user wrote).
    """

    __slots__ = ("_arrays", "_budget")

    def __init__(self, budget=None):
        self._arrays = {}
        self._budget = _Budget(DEFAULT_BUDGET) if budget is None else budget
        self._budget.members.append(self)

    def get(self, name, shape) -> np.ndarray:
        key = (name, shape)
        arr = self._arrays.get(key)
        if arr is None:
            arr = np.empty(shape)
            budget = self._budget
            if arr.nbytes > budget.left:
                # Over budget: forget everything the group keeps and start afresh
                # (arrays in use stay alive through their references).
                for ws in budget.members:
                    ws._arrays.clear()
                budget.left = budget.total
            if arr.nbytes <= budget.left:
                budget.left -= arr.nbytes
                self._arrays[key] = arr
        return arr

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._arrays.values())


def new_group(n, budget=None):
    """``n`` workspaces sharing one byte budget (default :data:`DEFAULT_BUDGET`)."""
    shared = _Budget(DEFAULT_BUDGET if budget is None else budget)
    return [Workspace(shared) for _ in range(n)]


def scratch(ws, name, shape):
    """``ws.get(name, shape)``, or None when ``ws`` is None — for ``out=`` arguments, so
    that without a workspace NumPy allocates as usual (and keeps e.g. complex dtypes,
    which the complex-step layer checks pass in)."""
    return None if ws is None else ws.get(name, shape)
