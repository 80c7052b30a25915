"""Reading and validating scenario files.

The whole file is checked against :data:`jdyn.scenarios.schema.SCHEMA` before
anything runs, and every problem is reported at once in one :class:`ScenarioError`
naming the file, the key path, what was given and what was expected. Scenario files
are data: nothing in them is executed.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from jdyn.scenarios.data_source import check_source
from jdyn.scenarios.schema import FLOWS, REQUIRED, SCHEMA, SWEEP_AXES, TOP_LEVEL, key_at

__all__ = ["ScenarioError", "Scenario", "load_scenario", "loads"]

#: Sampling interval of flows whose scenario gives none.
DEFAULT_FLOW_DT = 0.01


class ScenarioError(ValueError):
    """A scenario file that cannot be run; ``problems`` lists every reason."""

    def __init__(self, source, problems):
        self.source = str(source)
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"{self.source}: {self.problems[0]}"
        else:
            lines = "".join(f"\n  - {p}" for p in self.problems)
            message = f"{self.source}: {len(self.problems)} problems:{lines}"
        super().__init__(message)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario.

    Attributes
    ----------
    source : str
        The file it came from (or ``"<string>"``).
    text : str
        The file's text, verbatim.
    data : dict
        The normalised scenario: every table present, defaults filled in, integers
        given for numbers turned into floats, ``"sweep"`` mapping each axis (in file
        order) to its list of values.
    """

    source: str
    text: str
    data: dict

    @property
    def name(self) -> str:
        return self.data["scenario"]["name"]

    @property
    def sweep(self) -> dict:
        return self.data["sweep"]

    @property
    def output_dir(self) -> str:
        """``output.dir`` if set, else ``runs/NAME``."""
        return self.data["output"]["dir"] or f"runs/{self.name}"

    def base_config(self) -> dict:
        """The job config before sweep values are substituted (a deep copy).

        Holds ``seed`` and the tables system, observation, embedding, model,
        objective, training and analysis; not scenario, sweep or output, which do
        not change what a job computes.
        """
        return {k: copy.deepcopy(v) for k, v in self.data.items()
                if k not in ("scenario", "sweep", "output", "limits")}


def load_scenario(path) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path : str or os.PathLike
        A TOML file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        If the file cannot be read, is not valid TOML or breaks the schema; the
        message lists every problem.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")  # a BOM is not TOML
    except FileNotFoundError:
        raise ScenarioError(path, ["no such file"]) from None
    except IsADirectoryError:
        raise ScenarioError(path, ["is a directory, not a scenario file"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise ScenarioError(path, [f"cannot be read ({exc.strerror})"]) from None
    return loads(text, source=str(path))


def loads(text, source="<string>") -> Scenario:
    """Validate a scenario given as TOML text; see :func:`load_scenario`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [f"invalid TOML: {exc}"]) from None
    except RecursionError:
        raise ScenarioError(source, ["invalid TOML: nested too deeply"]) from None
    problems = []
    data = _validate(raw, problems)
    check_source(raw, data, source, problems)
    if problems:
        raise ScenarioError(source, problems)
    return Scenario(source=str(source), text=text, data=data)


def _suggest(word, options):
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _show(value):
    """A value as TOML would spell it, with its kind when that matters."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"{json.dumps(value)} (a string)"
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return f"{value!r} (a float)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"{json.dumps(value, default=str)} (a list)"
    return repr(value)


def _outside(key, x):
    below = key.low is not None and (x < key.low or (key.low_open and x == key.low))
    return below or key.high is not None and (x > key.high or (key.high_open and x == key.high))


def _check_number(key, value, path, problems, integer):
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok:
        hint = _suggest(value, ["auto"]) if key.type == "strength" else ""
        problems.append(f"{path}: got {_show(value)}; expected {key.expected()}{hint}")
    elif not integer and not math.isfinite(value):
        problems.append(f"{path}: got {value!r}; expected a finite number")
    elif _outside(key, value):
        problems.append(f"{path}: got {value!r}; expected {key.expected()}")
    else:
        return value if integer else float(value)
    return None


_PYTHON_TYPES = {"str": str, "bool": bool, "int_list": list, "float_table": dict}


def check_value(key, value, path, problems):
    """Check one value against its :class:`Key`; return it normalised (or ``None``).

    Each problem found is appended to ``problems`` as ``"path: got ...; expected ..."``.
    """
    kind = key.type
    if kind == "strength" and value == "auto":
        return value
    if kind in ("int", "float", "strength"):
        return _check_number(key, value, path, problems, kind == "int")
    if not isinstance(value, _PYTHON_TYPES[kind]) or (kind == "int_list" and not value):
        problems.append(f"{path}: got {_show(value)}; expected {key.expected()}")
        return None
    if kind == "bool":
        return value
    if kind == "str":
        wanted = None
        if key.choices is not None and value not in key.choices:
            wanted = key.expected() + _suggest(value, key.choices)
        elif key.pattern is not None and not re.fullmatch(key.pattern, value):
            wanted = f"a string matching {key.pattern}"
        if wanted:
            problems.append(f"{path}: got {json.dumps(value)}; expected {wanted}")
            return None
        return value
    n = len(problems)
    if kind == "int_list":
        element = dataclasses.replace(key, type="int")
        out = [_check_number(element, v, f"{path}[{i}]", problems, True)
               for i, v in enumerate(value)]
    else:
        element = dataclasses.replace(key, type="float")
        out = {name: _check_number(element, v, f"{path}.{name}", problems, False)
               for name, v in value.items()}
    return out if len(problems) == n else None


def _unknown(path, name, options):
    hint = _suggest(name, options)
    if not hint:
        homes = [s for s, spec in SCHEMA.items() if name in spec.keys]
        if homes:
            hint = f"; it belongs in [{homes[0]}] ({homes[0]}.{name})"
    return f"{path}: unknown key{hint}"


def _validate(raw, problems):
    data = {}
    tables = [*SCHEMA, "sweep"]
    for name, value in raw.items():
        if name not in SCHEMA and name not in TOP_LEVEL and name != "sweep":
            hint = _suggest(name, [*tables, *TOP_LEVEL])
            problems.append(f"{name}: unknown {'table' if isinstance(value, dict) else 'key'}"
                            f"{hint}")
    for name, key in TOP_LEVEL.items():
        if name in raw:
            data[name] = check_value(key, raw[name], name, problems)
        else:
            data[name] = key.default
    for section, spec in SCHEMA.items():
        given = raw.get(section)
        if given is None:
            if spec.required:
                problems.append(f"{section}: missing required table [{section}]")
            given = {}
        elif not isinstance(given, dict):
            problems.append(f"{section}: got {_show(given)}; expected a table [{section}]")
            given = {}
        table = data[section] = {}
        for name, value in given.items():
            if name not in spec.keys:
                problems.append(_unknown(f"{section}.{name}", name, spec.keys))
        for name, key in spec.keys.items():
            path = f"{section}.{name}"
            if name in given:
                table[name] = check_value(key, given[name], path, problems)
            elif key.default is REQUIRED:
                if section in raw:
                    problems.append(f"{path}: missing; expected {key.expected()}")
                table[name] = None
            else:
                table[name] = copy.deepcopy(key.default)
    data["sweep"] = _validate_sweep(raw, problems)
    _cross_checks(raw, data, problems)
    return data


def _validate_sweep(raw, problems):
    given = raw.get("sweep", {})
    if not isinstance(given, dict):
        problems.append(f"sweep: got {_show(given)}; expected a table [sweep]")
        return {}
    sweep = {}
    for axis, values in given.items():
        if axis not in SWEEP_AXES:
            problems.append(f"sweep.{axis}: unknown sweep axis{_suggest(axis, SWEEP_AXES)} "
                            f"(axes: {', '.join(SWEEP_AXES)})")
            continue
        target = SWEEP_AXES[axis]
        key = key_at(target)
        if not isinstance(values, list):
            problems.append(f"sweep.{axis}: got {_show(values)}; expected a non-empty list, "
                            f"each value {key.expected()}")
            continue
        if not values:
            problems.append(f"sweep.{axis}: empty list; expected at least one value, "
                            f"each {key.expected()}")
            continue
        n = len(problems)
        out = [check_value(key, v, f"sweep.{axis}[{i}]", problems) for i, v in enumerate(values)]
        seen = {}
        for i, v in enumerate(out):
            token = json.dumps(v)
            if v is not None and token in seen:
                problems.append(f"sweep.{axis}[{i}]: got {json.dumps(v)} again (as "
                                f"sweep.{axis}[{seen[token]}]); expected distinct values")
            seen.setdefault(token, i)
        if len(target) == 1:
            explicit = target[0] in raw
        else:
            explicit = isinstance(raw.get(target[0]), dict) and target[1] in raw[target[0]]
        if explicit:
            problems.append(f"{'.'.join(target)}: also swept by sweep.{axis}; expected it "
                            "in one place only")
        if len(problems) == n:
            sweep[axis] = out
    return sweep


def _system_table():
    """``jdyn.systems.list_systems()`` when it imports, else ``{}``: the list sharpens
    the checks of parameters and coordinates but is not needed for the rest."""
    try:
        from jdyn.systems import list_systems
        return list_systems()
    except Exception:  # noqa: BLE001 - validation must not depend on it
        return {}


def _cross_checks(raw, data, problems):
    name = data["system"]["name"]
    if name is None:
        return
    obs = data["observation"]
    if name in FLOWS:
        if obs["dt"] is None:
            obs["dt"] = DEFAULT_FLOW_DT
    elif obs["dt"] is not None:
        problems.append(f"observation.dt: got {obs['dt']!r}; expected no dt for the map "
                        f"{name!r} (dt applies to flows only: {', '.join(FLOWS)})")
    info = _system_table().get(name)
    if not info:
        return
    params = data["system"]["params"] or {}
    for p in params:
        if p not in info["params"]:
            problems.append(f"system.params.{p}: unknown parameter of {name!r}"
                            f"{_suggest(p, info['params'])} (parameters: "
                            f"{', '.join(info['params'])})")
    coordinate = obs["coordinate"]
    if coordinate is not None and coordinate >= info["dim"]:
        problems.append(f"observation.coordinate: got {coordinate}; expected an integer in "
                        f"[0, {info['dim'] - 1}] ({name!r} has {info['dim']} coordinates)")
