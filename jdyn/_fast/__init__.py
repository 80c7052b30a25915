"""The compiled fast path (optional extra ``jdyn[fast]``: numba).

When numba imports, the tanh layer's passes run as compiled loops: the forward pass
computes ``tanh`` (vectorised, :mod:`jdyn._fast._tanh`) and ``g' = 1 − y²`` in one
sweep, and the R-backward pass fuses ``ȳ ⊙ g'' ⊙ R{x} + R{ȳ} ⊙ g'`` (with ``g'' = −2 y g'``
formed on the fly) into one. Everything else, and every other activation, is the
NumPy path, which stays the reference: the compiled passes agree with it to ≤ 1e-12
relative (tests/test_fast.py, run whenever numba is installed).

Off switch: the environment variable ``JDYN_FAST=0`` (read at import), or
:func:`set_enabled` at run time. :func:`active` says whether the compiled passes run;
the first compiled call compiles the kernels (cached on disk by numba afterwards).
"""

from __future__ import annotations

import importlib.util
import os

__all__ = ["available", "active", "set_enabled", "kernels", "unavailable_reason"]

# numba is imported on first use (it adds about half a second to an import of jdyn).
_state = {"on": importlib.util.find_spec("numba") is not None
          and os.environ.get("JDYN_FAST", "1") != "0", "kernels": None, "reason": None}


def available() -> bool:
    """Whether numba imports (the compiled passes can run)."""
    return _load() is not None


def active() -> bool:
    """Whether the compiled passes are in use now."""
    return _state["on"] and _load() is not None


def set_enabled(flag: bool) -> bool:
    """Turn the compiled passes on or off (on needs numba); returns the previous state."""
    previous = active()
    _state["on"] = bool(flag) and _load() is not None
    return previous


def unavailable_reason():
    """Why numba could not be used (None when it can)."""
    _load()
    return _state["reason"]


def kernels():
    """The compiled kernel module when active, else None."""
    return _load() if _state["on"] else None


def _load():
    if _state["kernels"] is None and _state["reason"] is None:
        try:
            from . import _kernels
        except ImportError as exc:   # numba missing or broken: the NumPy path runs
            _state["reason"] = f"{type(exc).__name__}: {exc}"
            _state["on"] = False
        else:
            _state["kernels"] = _kernels
    return _state["kernels"]
