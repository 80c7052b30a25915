"""Ground-truth dynamical systems: user-defined :class:`Map`/:class:`Flow` (Jacobian and
batch forms optional, forced flows too), built-ins, trajectories and noise.

Built-ins are also reachable by name (for scenario files and the CLI):
``get_system("henon", a=1.3)``, ``list_systems()``.
"""

from __future__ import annotations

import inspect

from jdyn.systems._functions import UserFunctionError
from jdyn.systems._numerical_jacobian import NumericalJacobian
from jdyn.systems.base import Flow, Map
from jdyn.systems.catalogue import dysts_names, from_dysts
from jdyn.systems.flows import Lorenz, Rossler
from jdyn.systems.maps import Henon, Ikeda, Logistic, Tent
from jdyn.systems.noise import add_observational_noise, observe

__all__ = [
    "Map", "Flow", "NumericalJacobian", "UserFunctionError",
    "Henon", "Logistic", "Tent", "Ikeda", "Lorenz", "Rossler",
    "get_system", "list_systems", "from_dysts", "dysts_names",
    "add_observational_noise", "observe",
]

_REGISTRY = {cls._registry_name: cls for cls in (Henon, Logistic, Tent, Ikeda, Lorenz, Rossler)}


def get_system(name, **params):
    """A built-in system by name.

    Parameters
    ----------
    name : str
        One of ``list_systems()`` (case-insensitive).
    **params
        Parameters overriding the literature defaults, and optionally ``x0``.

    Returns
    -------
    Map or Flow
    """
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in _REGISTRY:
        raise ValueError(f"name must be one of {sorted(_REGISTRY)}; got {name!r}")
    cls = _REGISTRY[key]
    allowed = [*cls.defaults, "x0"]
    for p in params:
        if p not in allowed:
            raise ValueError(f"{p!r} is not a parameter of system {key!r}; expected one of {allowed}")
    return cls(**params)


def list_systems() -> dict:
    """Description of every built-in system.

    Returns
    -------
    dict
        ``{name: {"kind": "map"|"flow", "dim": int, "params": {default values},
        "reference": {...}, "description": str}}``, names sorted. ``reference`` is
        the one at the default parameters (see :mod:`jdyn.systems.maps` for its keys).
    """
    out = {}
    for key in sorted(_REGISTRY):
        cls = _REGISTRY[key]
        system = cls()
        out[key] = {
            "kind": "flow" if system.is_flow else "map",
            "dim": system.dim,
            "params": system.params,
            "reference": dict(system.reference),
            "description": inspect.getdoc(cls).splitlines()[0],
        }
    return out
