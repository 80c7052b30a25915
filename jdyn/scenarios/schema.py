"""The scenario file format, as data.

Every key a scenario file may contain is described here once: its type, the values
it accepts, its default and a sentence of documentation. :func:`jdyn.scenarios.load_scenario`
validates files against :data:`SCHEMA`, and :func:`markdown_table` renders the same
description for the documentation, so the two cannot drift apart.

A scenario file has top-level tables (``[system]``, ``[model]``, ...), one top-level
key (``seed``) and an optional ``[sweep]`` table whose keys are the axes of
:data:`SWEEP_AXES`, each a non-empty list of values for the key it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

from jdyn.estimators._builders import MODEL_KINDS, REGULARISERS
from jdyn.layers.activations import ACTIVATIONS
from jdyn.systems import list_systems
from jdyn.training.optimizers import METHODS

__all__ = [
    "Key", "Section", "REQUIRED", "SYSTEMS", "FLOWS", "MODEL_KINDS", "SCENARIO_REGULARISERS",
    "ACTIVATION_NAMES", "METHODS", "SCHEMA", "TOP_LEVEL", "SWEEP_AXES", "iter_keys",
    "markdown_table",
]

# Every vocabulary is the library's own (one source): the systems' registry, the
# estimators' model kinds and regularisers, the layers' activations, the optimisers.
_SYSTEM_TABLE = list_systems()
#: Built-in systems a scenario may name (``jdyn.systems.get_system`` names).
SYSTEMS = tuple(_SYSTEM_TABLE)
#: The continuous-time ones among :data:`SYSTEMS`: only these take ``observation.dt``.
FLOWS = tuple(name for name, info in _SYSTEM_TABLE.items() if info["kind"] == "flow")
#: The estimators' regularisers less "auto" (a scenario states its choice), plus
#: "eiv_logdet": errors-in-variables with the known log|det J|.
SCENARIO_REGULARISERS = tuple(r for r in REGULARISERS if r != "auto") + ("eiv_logdet",)


def _first_names(table):
    """The first name of each distinct value of ``{name: value}`` (aliases dropped)."""
    seen = {}
    for name, value in table.items():
        seen.setdefault(value, name)
    return tuple(seen.values())


#: Activation names, one per activation (aliases such as "linear" left out).
ACTIVATION_NAMES = _first_names(ACTIVATIONS)


class _Required:
    def __repr__(self):
        return "REQUIRED"


#: Marks a key without a default.
REQUIRED = _Required()


@dataclass(frozen=True)
class Key:
    """One key of a scenario file.

    Attributes
    ----------
    type : str
        ``"str"``, ``"int"``, ``"float"``, ``"bool"``, ``"int_list"`` (a non-empty
        list of integers), ``"float_table"`` (a table of name = number) or
        ``"strength"`` (a number or the string ``"auto"``).
    doc : str
        One sentence for the documentation table.
    default : object
        Value used when the key is absent; :data:`REQUIRED` when it must be given;
        ``None`` when absence means "not set".
    choices : tuple of str, optional
        The allowed values of a string key.
    low, high : float, optional
        Bounds of a number (of each element for ``int_list``).
    low_open, high_open : bool
        Whether ``low`` / ``high`` are excluded.
    pattern : str, optional
        A regular expression a string must match in full.
    """

    type: str
    doc: str
    default: object = None
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    pattern: str | None = None

    def expected(self) -> str:
        """What the key accepts, in words (used in error messages and the docs)."""
        if self.choices is not None:
            words = ", ".join(repr(c) for c in self.choices)
            return f"one of {words}"
        noun = {"str": "a string", "int": "an integer", "float": "a number",
                "bool": "true or false", "int_list": "a non-empty list of integers",
                "float_table": "a table of name = number", "strength": "a number",
                "list": "a non-empty list"}[self.type]
        bounds = self.bounds()
        text = f"{noun} {bounds}" if bounds else noun
        return text + ' or "auto"' if self.type == "strength" else text

    def bounds(self) -> str:
        """The range in interval notation, or ``""`` when unbounded."""
        if self.low is None and self.high is None:
            return ""
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {_num(self.low)}"
        if self.low is None:
            return f"{'<' if self.high_open else '<='} {_num(self.high)}"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"in {left}{_num(self.low)}, {_num(self.high)}{right}"


@dataclass(frozen=True)
class Section:
    """One table of a scenario file: its keys and whether it must be present."""

    doc: str
    keys: dict
    required: bool = False


def _num(x):
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


SCHEMA = {
    "scenario": Section("What this study is.", required=True, keys={
        "name": Key("str", "Short identifier; the default output directory is runs/NAME.",
                    REQUIRED, pattern=r"[A-Za-z0-9][A-Za-z0-9._-]*"),
        "description": Key("str", "Free text shown in the report.", ""),
    }),
    "system": Section("The ground-truth system the data come from (give [system] or "
                      "[data], not both).", keys={
        "name": Key("str", "A built-in system of jdyn.systems.", REQUIRED, choices=SYSTEMS),
        "params": Key("float_table", "Parameters overriding the literature defaults "
                      "(e.g. {a = 1.4, b = 0.3} for henon).", {}),
    }),
    "data": Section("A measured series fitted instead of a built-in system: no truth is "
                    "known, and [observation] does not apply.", keys={
        "path": Key("str", "The series file: delimited text (.csv, .tsv, .txt, .dat), .npy or "
                    "netCDF (.nc), read by jdyn.datafile.read_series; a relative path is "
                    "relative to the scenario file.", REQUIRED, pattern=r".*\S.*"),
        "column": Key("str", "Which column (a header name, or a 0-based index written as a "
                      "string) or netCDF variable; needed when the file holds several.", None),
        "dt": Key("float", "Sampling interval; default: the spacing of the file's time "
                  "stamps, else none (exponents per sample).", None, low=0, low_open=True),
        "units": Key("str", "Units of the series (a UDUNITS string), recorded in "
                     "results.nc.", "1", pattern=r".*\S.*"),
    }),
    "observation": Section("How the system is observed.", keys={
        "coordinate": Key("int", "Which state coordinate is observed (0-based).", 0, low=0),
        "length": Key("int", "Number of observed samples.", 5000, low=100, high=10_000_000),
        "transient": Key("int", "Samples discarded before observing (for flows: steps "
                         "of dt).", 1000, low=0),
        "dt": Key("float", "Sampling interval; flows only (lorenz, rossler), where it "
                  "defaults to 0.01; an error for maps.", None, low=0, low_open=True),
        "noise_kind": Key("str", "Measurement noise added to the observations, or noise "
                          "added to the state at every step.", "observational",
                          choices=("observational", "dynamical")),
        "noise": Key("float", "Noise standard deviation as a fraction of the signal's "
                     "standard deviation (dynamical noise: of the mean standard deviation "
                     "of the state's coordinates, the same sigma added to each).", 0.0,
                     low=0, high=1),
    }),
    "embedding": Section("The delay embedding of the observed series.", keys={
        "dim": Key("int", "Embedding dimension.", 2, low=1, high=20),
        "lag": Key("int", "Delay in samples.", 1, low=1),
    }),
    "model": Section("The model fitted to the embedded series.", keys={
        "kind": Key("str", "Model family.", "mlp",
                    choices=MODEL_KINDS),
        "hidden": Key("int_list", "Hidden layer widths (mlp), or the number of centres "
                      "(rbf, first entry).", [30], low=1),
        "activation": Key("str", "Hidden-layer nonlinearity (mlp, higher_order).", "tanh",
                          choices=ACTIVATION_NAMES),
        "degree": Key("int", "Polynomial degree (polynomial).", 3,
                      low=1, high=10),
    }),
    "objective": Section("The training objective: data loss plus one regulariser.", keys={
        "regulariser": Key("str", "Term added to the data loss: none, weight decay, the "
                           "Jacobian penalty, double backprop, the known log|det J| "
                           "(logdet), or a fit that treats inputs as noisy: the errors-in-"
                           "variables joint fit (eiv), alone or with the known log|det J| "
                           "(eiv_logdet).", "none",
                           choices=SCENARIO_REGULARISERS),
        "strength": Key("strength", 'Weight of the regulariser, or "auto" to choose it '
                        "from the noisy data: held-out one-step error, or for eiv the "
                        "discrepancy principle (jdyn.estimators._eiv). For eiv and eiv_logdet a number "
                        "is the weight γ of the dynamics term, where 1e-3 nearly switches it "
                        'off: use "auto" or a value of order 10.', 1e-3, low=0),
        "logdet_target": Key("float", "Known pointwise log|det J| the logdet term pulls "
                             "towards (logdet, eiv_logdet; unset: known from the "
                             "physics, Hénon log b).",
                             None),
    }),
    "training": Section("The optimiser and early stopping.", keys={
        "method": Key("str", "Optimiser.", "lbfgs", choices=METHODS),
        "max_iter": Key("int", "Maximum number of iterations.", 500, low=1, high=1_000_000),
        "validation_fraction": Key("float", "Fraction of the samples held out (a random "
                                   "subset, seeded) for early stopping and strength "
                                   "selection.", 0.2,
                                   low=0, high=0.5, low_open=True, high_open=True),
        "patience": Key("int", "Iterations without validation improvement before "
                        "stopping.", 20, low=1),
    }),
    "analysis": Section("The invariants computed from each fitted model.", keys={
        "lyapunov_steps": Key("int", "Jacobian-product length for the Lyapunov "
                              "spectrum.", 5000, low=10),
        "free_run_steps": Key("int", "Length of each of the model's free-running "
                              "orbits.", 5000, low=20),
        "correlation_dim": Key("bool", "Compute the correlation dimension.", True),
        "correlation_points": Key("int", "Points used for the correlation sum.", 5000,
                                  low=100),
        "baselines": Key("bool", "Run the nolds estimators on the same noisy data.", True),
        "n_orbits": Key("int", "Independent free-run orbits averaged for the spectrum.",
                        4, low=1, high=1000),
    }),
    "output": Section("Where results go.", keys={
        "dir": Key("str", "Output directory, relative and inside the working directory "
                   "(an absolute path or one climbing out with .. is refused); --out "
                   "overrides it and may point anywhere; default runs/NAME.", None,
                   pattern=r".*\S.*"),
    }),
    # How long and how large a run may be (jdyn.scenarios.limits); not part of what a
    # job computes, so changing them does not change the scenario hash.
    "limits": Section("Bounds checked before any work starts; each has a command-line "
                      "override.", keys={
        "job_timeout": Key("float", "Seconds one job (or the reference computation) may "
                           "run before it is stopped and recorded as status timeout; "
                           "--job-timeout overrides it.", 3600.0, low=0, low_open=True),
        "max_jobs": Key("int", "Largest number of jobs a sweep may expand to; "
                        "--max-jobs overrides it.", 10_000, low=1),
        "max_job_memory": Key("float", "Largest estimated memory of one job, in MB "
                              "(series length x model width x embedding); "
                              "--max-job-memory overrides it.", 4096.0, low=0,
                              low_open=True),
    }),
}

#: Keys allowed outside any table.
TOP_LEVEL = {
    "seed": Key("int", "Seed of every random choice in a job (data noise, "
                "initialisation, splits).", 0, low=0, high=2**32 - 1),
}

#: Sweep axis → path of the key it replaces in each job.
SWEEP_AXES = {
    "noise": ("observation", "noise"),
    "regulariser": ("objective", "regulariser"),
    "strength": ("objective", "strength"),
    "seed": ("seed",),
    "hidden": ("model", "hidden"),
    "dim": ("embedding", "dim"),
}


def key_at(path) -> Key:
    """The :class:`Key` at a config path such as ``("model", "hidden")``."""
    if len(path) == 1:
        return TOP_LEVEL[path[0]]
    return SCHEMA[path[0]].keys[path[1]]


def iter_keys():
    """Every documented key.

    Yields
    ------
    (str, Key)
        Dotted path (``"observation.noise"``, ``"seed"``, ``"sweep.noise"``) and its
        key; sweep axes are reported with the key they replace.
    """
    for name, key in TOP_LEVEL.items():
        yield name, key
    for section, spec in SCHEMA.items():
        for name, key in spec.keys.items():
            yield f"{section}.{name}", key
    for axis, path in SWEEP_AXES.items():
        target = key_at(path)
        yield f"sweep.{axis}", Key("list", f"Values of {'.'.join(path)} to sweep over, each "
                                   f"as that key accepts ({target.expected()}); jobs are "
                                   "the product of all axes.", None)


def _default_text(key):
    if key.default is REQUIRED:
        return "required"
    if key.default is None:
        return "unset"
    if isinstance(key.default, bool):
        return str(key.default).lower()
    if isinstance(key.default, str):
        return f'"{key.default}"'
    return repr(key.default)


def markdown_table() -> str:
    """The scenario format as a Markdown table (key, type/allowed, default, meaning)."""
    rows = ["| key | accepts | default | meaning |", "|---|---|---|---|"]
    for path, key in iter_keys():
        accepts = key.expected()
        cells = [f"`{path}`", accepts, _default_text(key), key.doc]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
