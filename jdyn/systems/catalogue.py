"""The dysts catalogue (optional extra ``jdyn[catalogue]``) as jdyn systems.

``from_dysts("Lorenz")`` wraps one of dysts' chaotic flows or maps as a :class:`Flow` or
:class:`Map`. dysts is imported only when :func:`from_dysts` or
:func:`dysts_names` is called, never at ``import jdyn``.
"""

from __future__ import annotations

import difflib

import numpy as np

from jdyn.systems.base import Flow, Map

__all__ = ["close_matches", "dysts_names", "from_dysts"]

# A given dysts Jacobian is used only if it matches the numerical one this closely
# (relative); some dysts Jacobians are wrong, and a wrong one would silently bias the
# whole spectrum.
_JACOBIAN_TOLERANCE = 1e-6
# The divergence counts as constant when its spread over the test states is this small
# relative to its size (numerical Jacobians are good to about 1e-9).
_DIVERGENCE_TOLERANCE = 1e-7


def _import_dysts():
    try:
        import dysts.flows
        import dysts.maps
        from dysts.systems import get_attractor_list
    except ImportError as exc:
        raise ImportError("from_dysts needs dysts: pip install 'jdyn[catalogue]'") from exc
    return dysts.flows, dysts.maps, get_attractor_list


def dysts_names() -> dict:
    """Names of dysts' systems.

    Returns
    -------
    dict
        ``{"flows": [str, ...], "maps": [str, ...]}``, as dysts lists them.
    """
    _, _, get_attractor_list = _import_dysts()
    return {"flows": list(get_attractor_list("continuous")),
            "maps": list(get_attractor_list("discrete"))}


def close_matches(name, names, n=5):
    """The names in ``names`` closest to ``name`` (difflib ratio >= 0.6, case ignored).

    Parameters
    ----------
    name : str
    names : iterable of str
    n : int
        At most this many, best first.

    Returns
    -------
    list of str
    """
    by_lower = {}
    for candidate in names:
        by_lower.setdefault(candidate.lower(), candidate)
    hits = difflib.get_close_matches(str(name).lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[h] for h in hits]


def _resolve(name, names):
    """(kind, exact dysts name) for ``name``, matched case-insensitively."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a dysts system name (a string); got {name!r}")
    for kind in ("flows", "maps"):
        for candidate in names[kind]:
            if candidate.lower() == name.strip().lower():
                return kind, candidate
    matches = close_matches(name, [*names["flows"], *names["maps"]])
    hint = f"close matches: {', '.join(matches)}" if matches else "no close matches"
    raise ValueError(f"name {name!r} is not a dysts system ({hint}); "
                     "jdyn.systems.dysts_names() lists them all")


def _parameters(obj, name, params):
    defaults = dict(obj.params)
    for p in params:
        if p not in defaults:
            raise ValueError(f"{p!r} is not a parameter of dysts system {name!r}; "
                             f"expected one of {sorted(defaults)}")
    return {**defaults, **params}


def from_dysts(name, **params):
    """A dysts system as a jdyn :class:`Map` or :class:`Flow`.

    Parameters
    ----------
    name : str
        A dysts flow or map (case-insensitive), e.g. ``"Lorenz"``, ``"Henon"``; see
        :func:`dysts_names`. An unknown name raises ``ValueError`` listing the close
        matches.
    **params
        Parameters overriding dysts' defaults (the rest keep theirs).

    Returns
    -------
    Map or Flow
        With dysts' parameters (``params``) and initial condition (``x0``), and:

        - ``jacobian_source``: ``"dysts"`` if dysts' analytic Jacobian is used,
          ``"numerical"`` if it has none, ``"numerical (dysts' disagrees)"`` if
          dysts' differs from the numerical one by more than 1e-6 relative at the
          test states (a known hazard of hand-written Jacobians);
        - flows: ``dt`` (dysts' sampling interval) and ``period`` (its dominant
          period), time units; a non-autonomous dysts flow is ``time_dependent``;
        - ``reference``: dysts' published estimates at its default parameters only
          (``lyapunov_exponents``, ``lyapunov_max``, ``kaplan_yorke``,
          ``correlation_dim``; maps have none), and ``lyapunov_sum`` (exact: the
          divergence) at any parameters wherever the divergence is constant.
    """
    flows, maps, _ = _import_dysts()
    kind, exact = _resolve(name, dysts_names())
    obj = getattr(flows if kind == "flows" else maps, exact)()
    full = _parameters(obj, exact, params)
    if params:
        obj = type(obj)(parameters=full)
    system = _flow(obj, exact, full) if kind == "flows" else _map(obj, exact, full)
    system.reference = _reference(obj, system, literature=not params)
    return system


def _x0(obj):
    return np.asarray(obj.ic, dtype=np.float64).ravel()


def _map(obj, name, params):
    fn, pars = obj._rhs, tuple(obj.param_list)

    def step(x):
        return np.asarray(fn(*x, *pars))
    system = Map(step, None, x0=_x0(obj), name=name, params=params)
    return _with_jacobian(system, obj, lambda x: np.asarray(obj._jac(*x, *pars)), Map, step)


def _flow(obj, name, params):
    fn, pars = obj._rhs, tuple(obj.param_list)
    forced = bool(obj.nonautonomous)
    # Some dysts flows override rhs(X, t) itself and leave _rhs unimplemented.
    from dysts.base import DynSys
    own_rhs = type(obj).rhs is not DynSys.rhs

    def rhs(x, t=0.0):
        if own_rhs:
            return np.asarray(obj.rhs(x, t), dtype=np.float64)
        return np.asarray(fn(*x, t, *pars))

    def jac(x, t=0.0):
        return np.asarray(obj._jac(*x, t, *pars))
    one = rhs if forced else (lambda x: rhs(x))
    jac_one = jac if forced else (lambda x: jac(x))
    system = Flow(one, None, x0=_x0(obj), name=name, params=params, time_dependent=forced)
    system = _with_jacobian(system, obj, jac_one, Flow, one, time_dependent=forced)
    system.dt, system.period = float(obj.dt), float(obj.period)
    return system


def _test_states(system, spread=(0.0, 0.01, -0.02, 0.03)):
    """A few states around ``x0``, fixed (no random state); ``spread`` is relative."""
    x0 = system.x0
    scale = np.maximum(np.abs(x0), 1e-3)
    offsets = np.array(spread)[:, None] * np.cos(np.arange(system.dim) + 1.0)
    return x0 + offsets * scale


# Wide enough to cross the switching surfaces of piecewise-linear flows (Chua's |x| = 1).
_WIDE = (0.0, 0.5, -1.0, 2.0, -3.0, 5.0, -8.0)


def _with_jacobian(system, obj, jac, cls, fn, **kwargs):
    """``system`` rebuilt with dysts' Jacobian if it has one that agrees with the
    numerical one at the test states; ``jacobian_source`` says which was kept."""
    system.jacobian_source = "numerical"
    if not obj.has_jacobian():
        return system
    t = (0.0,) if system.time_dependent else ()
    for x in _test_states(system):
        given = np.asarray(jac(x, *t), dtype=np.float64)
        numerical = system.jacobian(x, *t)
        scale = max(1.0, float(np.abs(numerical).max()))
        if given.shape != numerical.shape or not (
                np.abs(given - numerical).max() <= _JACOBIAN_TOLERANCE * scale):
            system.jacobian_source = "numerical (dysts' disagrees)"
            return system
    rebuilt = cls(fn, jac, system.x0, system.name, system.params, **kwargs)
    rebuilt.jacobian_source = "dysts"
    return rebuilt


def _constant_divergence(system):
    """The divergence if it is the same at widely spread test states (a flow), else
    None. The bench checks it again along the attractor."""
    if not system.is_flow:
        return None
    t = (0.0,) if system.time_dependent else ()
    traces = np.array([np.trace(system.jacobian(x, *t)) for x in _test_states(system, _WIDE)])
    if np.ptp(traces) <= _DIVERGENCE_TOLERANCE * max(1.0, float(np.abs(traces).max())):
        return float(np.mean(traces))
    return None


def _reference(obj, system, literature):
    ref = {}
    total = _constant_divergence(system)
    if total is not None:
        ref["lyapunov_sum"] = total
    meta = obj.metadata if literature else {}
    spectrum = meta.get("lyapunov_spectrum_estimated")
    if spectrum is not None:
        ref["lyapunov_exponents"] = tuple(sorted((float(v) for v in spectrum), reverse=True))
    for key, out in (("maximum_lyapunov_estimated", "lyapunov_max"),
                     ("kaplan_yorke_dimension", "kaplan_yorke"),
                     ("correlation_dimension", "correlation_dim")):
        if meta.get(key) is not None:
            ref[out] = float(meta[key])
    if len(ref) > ("lyapunov_sum" in ref):
        ref["source"] = "dysts metadata (estimates, not exact)"
    return ref
